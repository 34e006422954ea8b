// Complete message definitions in rosbag2's `ros2msg` form (rosbag2 docs/message_definition_encoding.md):
// the type's .msg text, then each dependency once, after a line of 80 '=' and "MSG: pkg/msg/Name".
// That is the schema an MCAP bag carries so `ros2 bag info`, Foxglove and our own verifier can decode
// it without the ROS installation that recorded it. The .msg files are read where ROS 2 installs them
// (share/<pkg>/msg/ under each AMENT_PREFIX_PATH entry), falling back to the ROS 2 Jazzy definitions
// bundled in @foxglove/rosmsg-msgs-common (the stand-in uses only those, so its bags are reproducible).
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parse } from '@foxglove/rosmsg'
import type { MessageDefinition } from '@foxglove/message-definition'

export const SCHEMA_DELIMITER = '='.repeat(80)
const BUILTIN = new Set(['bool', 'byte', 'char', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float32', 'float64', 'string', 'wstring', 'time', 'duration'])

/** 'pkg/msg/Name' (or 'pkg/Name') → [pkg, Name]; a TypeError for anything else. */
export function splitTypeName (typeName: string): [string, string] {
  const m = /^([A-Za-z]\w*)\/(?:msg\/)?([A-Za-z]\w*)$/.exec(typeName)
  if (!m) throw new TypeError(`"typeName" expected a message type 'pkg/msg/Name', got ${JSON.stringify(typeName)}`)
  return [m[1]!, m[2]!]
}

let bundled: string | undefined
export function bundledMsgRoot (): string {
  bundled ??= join(dirname(createRequire(import.meta.url).resolve('@foxglove/rosmsg-msgs-common/package.json')), 'msgdefs', 'ros2jazzy')
  return bundled
}

/** Where .msg files are looked up: each AMENT_PREFIX_PATH's share/, then the bundled Jazzy set. */
export function msgRoots (env: { [k: string]: string | undefined } = process.env): string[] {
  const ament = (env.AMENT_PREFIX_PATH ?? '').split(':').filter(Boolean).map((p) => join(p, 'share'))
  return [...ament, bundledMsgRoot()]
}

/** The type's own .msg text (without appended dependencies, which the bundled files carry). */
export function readMsgText (pkg: string, name: string, roots: string[]): string {
  for (const root of roots) {
    const file = join(root, pkg, 'msg', `${name}.msg`)
    if (existsSync(file)) return readFileSync(file, 'utf8').split(`\n${SCHEMA_DELIMITER}\n`)[0]!
  }
  // rclnodejs words it so when loadInterface cannot find a generated message
  throw new Error(`The message required does not exist: ${pkg}, msg, ${name} (no ${pkg}/msg/${name}.msg under ${roots.join(', ')})`)
}

/** Complex field types a .msg text refers to, as 'pkg/Name' (a bare 'Name' is in the same package). */
function dependencies (text: string, pkg: string): string[] {
  const out: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    if (!line) continue
    const type = line.split(/\s+/)[0]!.replace(/\[.*$/, '').replace(/<=\d+$/, '')
    if (BUILTIN.has(type)) continue
    const parts = type.split('/')
    out.push(parts.length === 1 ? `${pkg}/${type}` : `${parts[0]}/${parts.at(-1)}`)
  }
  return out
}

export function ros2msgSchema (typeName: string, roots: string[] = msgRoots()): string {
  const [pkg, name] = splitTypeName(typeName)
  const top = readMsgText(pkg, name, roots)
  const seen = new Set<string>([`${pkg}/${name}`])
  const parts = [top.trimEnd()]
  const queue = dependencies(top, pkg)
  while (queue.length) {
    const dep = queue.shift()!
    if (seen.has(dep)) continue
    seen.add(dep)
    const [p, n] = dep.split('/') as [string, string]
    const text = readMsgText(p, n, roots)
    parts.push(`${SCHEMA_DELIMITER}\nMSG: ${p}/msg/${n}\n${text.trimEnd()}`)
    queue.push(...dependencies(text, p))
  }
  return parts.join('\n') + '\n'
}

/** Parses a ros2msg schema (as written above or by rosbag2) into definitions for a CDR codec. */
export function parseRos2msg (schema: string): MessageDefinition[] {
  // @foxglove/rosmsg 5 names dependencies as written after MSG:, while fields refer to 'pkg/Name'.
  return parse(schema.replace(/^MSG: ([^/\s]+)\/msg\/(\S+)/gm, 'MSG: $1/$2'), { ros2: true })
}
