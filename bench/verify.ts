// `pcp verify` on large exports, for npm run bench: peak RSS and events/s of the CLI as a child
// process (the compiled CLI, as an installed package runs it), on synthetic exports in the layout
// `pcp export` writes.
import { openSync, writeSync, closeSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'
import { Identity, stampEvent, chainIntegrityHash, stringifyJson, AUDIT_SPEC, type AissEvent } from '../runtime/index.js'

/** Writes an n-event export of sensor readings (~440 bytes an event, like the bench's stamps). */
export function writeSyntheticExport (path: string, n: number): void {
  const id = Identity.generate({ now: 1700000000 })
  const fd = openSync(path, 'w')
  const indent = (s: string, k: number): string => s.split('\n').join('\n' + ' '.repeat(k))
  let chunk = `{\n  "spec": ${JSON.stringify(AUDIT_SPEC)},\n  "agent_identity": ${indent(stringifyJson(id.document(), 2), 2)},\n  "events": [`
  let prev = id.genesisHash()
  let hashes = ''
  const cih: string[] = []
  for (let i = 0; i < n; i++) {
    const { event, hash } = stampEvent(id, { event_type: 'sensor_reading', sensor: 'temp', value: 20 + (i % 100) / 10, unit: 'C', seq: i }, { previousHash: prev, timestamp: 1700000000 + (i >> 4) })
    prev = hash
    hashes += hash
    chunk += (i ? ',' : '') + '\n    ' + indent(stringifyJson(event as AissEvent, 2), 4)
    if (chunk.length > 1 << 20) { writeSync(fd, chunk); chunk = '' }
    if (hashes.length > 1 << 20) { cih.push(hashes); hashes = '' }
  }
  cih.push(hashes)
  const metadata = { event_count: n, first_timestamp: 1700000000, last_timestamp: 1700000000 + ((n - 1) >> 4), exporter: 'pcp-edge/bench' }
  chunk += `\n  ],\n  "chain_integrity_hash": ${JSON.stringify(chainIntegrityHash([cih.join('')]))},\n  "exported_at": 1700000000,\n  "metadata": ${indent(stringifyJson(metadata, 2), 2)}\n}\n`
  writeSync(fd, chunk)
  closeSync(fd)
  id.destroy()
}

/**
 * Runs `pcp verify --json <file>` in a child process (the CLI module `cli`, with process.argv set as the
 * shell would) and reads its peak RSS (VmHWM; resourceUsage() off Linux) at exit: no GNU time needed on a Pi.
 */
export function measureVerify (cli: string, file: string, n: number): { eventsPerSec: number, peakRssMiB: number, seconds: number } {
  const code = 'import { readFileSync as readStatus } from "node:fs";' + `process.argv = [process.execPath, ${JSON.stringify(cli)}, 'verify', '--json', ${JSON.stringify(file)}];` +
    // VmHWM, not resourceUsage().maxRSS: Linux carries ru_maxrss over fork and exec, so a child of the
    // full bench (which holds ~340 MiB by then) reported the bench's own peak, whatever it verified.
    'process.on("exit", () => { let kb = process.resourceUsage().maxRSS; try { kb = Number(/VmHWM:\\s+(\\d+)/.exec(readStatus("/proc/self/status", "utf8"))[1]) } catch {} process.stderr.write("\\nmaxrss " + kb + "\\n") });' +
    `await import(${JSON.stringify(pathToFileURL(cli).href)})`
  const t = performance.now()
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', maxBuffer: 1 << 26 })
  const seconds = (performance.now() - t) / 1000
  if (r.error) throw r.error
  const out = JSON.parse(r.stdout) as { valid: boolean, event_count: number }
  if (!out.valid || out.event_count !== n) throw new Error(`pcp verify said ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 400)}`)
  const kb = Number(/maxrss (\d+)/.exec(r.stderr)?.[1])
  return { eventsPerSec: n / seconds, peakRssMiB: kb / 1024, seconds }
}

