// ROS command-line arguments as rcl reads them (rcl/src/rcl/arguments.c): everything between
// `--ros-args` and `--` (or the end; several sections may follow each other). Of those, parameter
// overrides matter here: `-p name:=value` / `--param name:=value` (for every node), `-p node:name:=value`
// (for one node), and `--params-file FILE` (the YAML that `ros2 launch` writes for `parameters=[…]`).
// Values are typed as rcl's YAML parser types them: true/false (and yes/on/…) are bool, whole numbers
// integer (bigint, as rclnodejs hands them out), other numbers double, `[a, b]` arrays, the rest string.
// The stand-in parses its argv with this, and pcp's configuration reads the pcp.* overrides with it
// before the node (and its chain) exists; real rclnodejs parses the same argv in rcl itself.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'

/** rcl_interfaces/msg/ParameterType numbers, as rclnodejs's ParameterType. */
export const PT = { NOT_SET: 0, BOOL: 1, INTEGER: 2, DOUBLE: 3, STRING: 4, BYTE_ARRAY: 5, BOOL_ARRAY: 6, INTEGER_ARRAY: 7, DOUBLE_ARRAY: 8, STRING_ARRAY: 9 } as const

export interface ParamOverride { name: string, type: number, value: unknown }

export interface RosArgs {
  /** Per node name; '/**' holds the overrides for every node. Later arguments win, as in rcl. */
  overrides: Map<string, Map<string, ParamOverride>>
}

export class RosArgsError extends Error {
  readonly argument: string
  constructor (message: string, argument: string) { super(message); this.name = 'RosArgsError'; this.argument = argument }
}

const TRUE = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'])
const FALSE = new Set(['false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF'])
const INT = /^[-+]?\d+$/
const FLOAT = /^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/

function scalar (text: string): { type: number, value: unknown } {
  const t = text.trim()
  if (/^'.*'$|^".*"$/.test(t) && t.length >= 2) return { type: PT.STRING, value: t.slice(1, -1) }
  if (TRUE.has(t)) return { type: PT.BOOL, value: true }
  if (FALSE.has(t)) return { type: PT.BOOL, value: false }
  if (INT.test(t)) return { type: PT.INTEGER, value: BigInt(t) }
  if (FLOAT.test(t)) return { type: PT.DOUBLE, value: /inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : /nan/i.test(t) ? NaN : Number(t) }
  return { type: PT.STRING, value: t }
}

const ARRAY_OF: { [t: number]: number } = { [PT.BOOL]: PT.BOOL_ARRAY, [PT.INTEGER]: PT.INTEGER_ARRAY, [PT.DOUBLE]: PT.DOUBLE_ARRAY, [PT.STRING]: PT.STRING_ARRAY }

function typedArray (items: Array<{ type: number, value: unknown }>, what: string): { type: number, value: unknown } {
  if (items.length === 0) return { type: PT.STRING_ARRAY, value: [] }
  // rcl allows integers in a double array, nothing else mixed
  const types = new Set(items.map((i) => i.type))
  if (types.size === 2 && types.has(PT.INTEGER) && types.has(PT.DOUBLE)) return { type: PT.DOUBLE_ARRAY, value: items.map((i) => Number(i.value)) }
  if (types.size !== 1 || ARRAY_OF[items[0]!.type] === undefined) throw new RosArgsError(`${what}: an array must hold values of one type`, what)
  return { type: ARRAY_OF[items[0]!.type]!, value: items.map((i) => i.value) }
}

/** The value of `-p name:=VALUE`, typed as rcl types it. */
export function parseParamValue (text: string, what = text): { type: number, value: unknown } {
  const t = text.trim()
  if (t.startsWith('[') && t.endsWith(']')) {
    const inner = t.slice(1, -1).trim()
    return typedArray(inner === '' ? [] : inner.split(',').map(scalar), what)
  }
  return scalar(t)
}

function fromYaml (v: unknown, what: string): { type: number, value: unknown } {
  if (typeof v === 'boolean') return { type: PT.BOOL, value: v }
  if (typeof v === 'bigint') return { type: PT.INTEGER, value: v }
  if (typeof v === 'number') return { type: PT.DOUBLE, value: v }
  if (typeof v === 'string') return { type: PT.STRING, value: v }
  if (Array.isArray(v)) return typedArray(v.map((x) => fromYaml(x, what)), what)
  throw new RosArgsError(`${what}: unsupported parameter value`, what)
}

function put (args: RosArgs, node: string, name: string, typed: { type: number, value: unknown }): void {
  let m = args.overrides.get(node)
  if (!m) { m = new Map(); args.overrides.set(node, m) }
  m.set(name, { name, ...typed })
}

/** A params file: `<node or /**>: { ros__parameters: { nested: { name: value } } }`, nesting joined by '.'. */
function readParamsFile (args: RosArgs, file: string): void {
  let doc: unknown
  try { doc = parseYaml(readFileSync(file, 'utf8'), { intAsBigInt: true }) } catch (err) {
    throw new RosArgsError(`--params-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file)
  }
  if (doc === null || typeof doc !== 'object') throw new RosArgsError(`--params-file ${file}: expected a mapping of node names`, file)
  for (const [nodeKey, body] of Object.entries(doc as Record<string, unknown>)) {
    const params = (body as { ros__parameters?: unknown } | null)?.ros__parameters
    if (params === null || typeof params !== 'object') throw new RosArgsError(`--params-file ${file}: ${nodeKey} has no ros__parameters`, file)
    const node = nodeKey === '/**' || nodeKey === '**' ? '/**' : nodeKey.replace(/^\//, '')
    const walk = (prefix: string, o: Record<string, unknown>): void => {
      for (const [k, v] of Object.entries(o)) {
        const name = prefix ? `${prefix}.${k}` : k
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(name, v as Record<string, unknown>)
        else put(args, node, name, fromYaml(v, `${file}: ${name}`))
      }
    }
    walk('', params as Record<string, unknown>)
  }
}

// rcl's other ROS arguments, with how many values follow each (they are accepted and not used here).
const OTHER: { [flag: string]: number } = {
  '-r': 1, '--remap': 1, '-e': 1, '--enclave': 1, '--log-level': 1, '--log-file-name': 1, '--log-config-file': 1,
  '--enable-rosout-logs': 0, '--disable-rosout-logs': 0, '--enable-stdout-logs': 0, '--disable-stdout-logs': 0,
  '--enable-external-lib-logs': 0, '--disable-external-lib-logs': 0
}

/** Parses the ROS arguments in argv (unknown ROS arguments are an error, as rcl_parse_arguments makes them). */
export function parseRosArgs (argv: readonly string[]): RosArgs {
  const args: RosArgs = { overrides: new Map() }
  let inRos = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--ros-args') { inRos = true; continue }
    if (!inRos) continue
    if (a === '--') { inRos = false; continue }
    const next = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new RosArgsError(`ROS argument ${a} needs a value`, a)
      return v
    }
    if (a === '-p' || a === '--param') {
      const rule = next()
      const m = /^(?:([^:=]+):)?([^:=]+):=(.*)$/s.exec(rule)
      if (!m) throw new RosArgsError(`ROS argument ${a} ${rule}: expected [node:]name:=value`, rule)
      put(args, m[1] ? m[1].replace(/^\//, '') : '/**', m[2]!, parseParamValue(m[3]!, rule))
    } else if (a === '--params-file') {
      readParamsFile(args, next())
    } else if (a in OTHER) {
      for (let k = 0; k < OTHER[a]!; k++) next()
    } else {
      throw new RosArgsError(`unknown ROS argument ${a}`, a)
    }
  }
  return args
}

/** rclnodejs.removeROSArgs: argv without the --ros-args sections. */
export function removeRosArgs (argv: readonly string[]): string[] {
  const out: string[] = []
  let inRos = false
  for (const a of argv) {
    if (a === '--ros-args') { inRos = true; continue }
    if (inRos) { if (a === '--') inRos = false; continue }
    out.push(a)
  }
  return out
}

/** The overrides that apply to one node: the '/**' ones, then the node's own (which win), as rclnodejs merges them. */
export function overridesFor (args: RosArgs, nodeName: string): Map<string, ParamOverride> {
  return new Map([...(args.overrides.get('/**') ?? []), ...(args.overrides.get(nodeName) ?? [])])
}
