// ROS-native configuration of an audited node: the pcp.* parameters, settable as ROS users set any
// parameter (`--ros-args -p pcp.name:=arm`, `-p patrol_robot:pcp.name:=arm`, a `--params-file`, a
// launch file), and the key passphrase from a file or a systemd credential
// (LoadCredential=pcp-passphrase:/etc/pcp/arm.pass → $CREDENTIALS_DIRECTORY/pcp-passphrase) rather than
// only an environment variable, which leaks into /proc/<pid>/environ and child processes.
//
//   pcp.name              string   agent name (default: the node's name)
//   pcp.home              string   agent data directory (default $PCP_HOME or ~/.pcp)
//   pcp.identity_file     string   open this identity file instead of an agent by name
//   pcp.passphrase_file   string   the key's passphrase
//   pcp.durability        string   durable | interval | relaxed
//   pcp.sync_interval_ms  integer  interval durability: fsync at most this often (default 1000)
//   pcp.policy.<topic>    string   every | nth:N | rate:N | window:MS[:MAX]  ('/' in the topic as '.')
//   pcp.timer_policy      string   every | nth:N | rate:N
//   pcp.latest_wins       string[] command topics whose gated publishes are latest-wins
//   pcp.diagnostics_period double  seconds between /diagnostics messages (0: none)
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PcpError, type Durability } from '../runtime/index.js'
import { Ros2ErrorCodes } from './auditor.js'
import { checkPolicy, type AuditPolicy } from './policy.js'
import { PT, type ParamOverride } from './ros-args.js'

export const CREDENTIAL_NAME = 'pcp-passphrase'

export type PassphraseSource = 'file' | 'credential' | 'env' | 'none'

/** --passphrase-file / pcp.passphrase_file, then the systemd credential, then $PCP_PASSPHRASE. */
export function readPassphraseWithSource (opts: { file?: string, env?: { [k: string]: string | undefined } } = {}): { passphrase: string | undefined, source: PassphraseSource } {
  const env = opts.env ?? process.env
  const read = (file: string, what: string): string => {
    try { return readFileSync(file, 'utf8').replace(/\r?\n$/, '') } catch (err) {
      throw new PcpError(Ros2ErrorCodes.ROS2_CONFIG, `cannot read the passphrase ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, field: file })
    }
  }
  if (opts.file) return { passphrase: read(opts.file, 'file'), source: 'file' }
  if (env.CREDENTIALS_DIRECTORY) {
    const cred = join(env.CREDENTIALS_DIRECTORY, CREDENTIAL_NAME)
    if (existsSync(cred)) return { passphrase: read(cred, 'credential'), source: 'credential' }
  }
  return env.PCP_PASSPHRASE ? { passphrase: env.PCP_PASSPHRASE, source: 'env' } : { passphrase: undefined, source: 'none' }
}

export function readPassphrase (opts: { file?: string, env?: { [k: string]: string | undefined } } = {}): string | undefined {
  return readPassphraseWithSource(opts).passphrase
}

export interface PcpConfig {
  name: string
  home?: string
  identityFile?: string
  passphraseFile?: string
  durability: Durability
  /** With 'interval' only. */
  syncIntervalMs?: number
  policies: { [topic: string]: AuditPolicy }
  timerPolicy?: AuditPolicy
  latestWins: string[]
  diagnosticsPeriodS: number
  /** The pcp.* parameters as the node should declare them (name → type and value). */
  parameters: Map<string, ParamOverride>
}

export const PREFIX = 'pcp.'
const POLICY_PREFIX = 'pcp.policy.'
const STRING_PARAMS = ['pcp.name', 'pcp.home', 'pcp.identity_file', 'pcp.passphrase_file', 'pcp.durability', 'pcp.timer_policy']
const OTHER_PARAMS = ['pcp.latest_wins', 'pcp.diagnostics_period', 'pcp.sync_interval_ms']
export const DEFAULT_DIAGNOSTICS_PERIOD_S = 1

const bad = (name: string, expected: string, got: unknown): PcpError =>
  new PcpError(Ros2ErrorCodes.ROS2_CONFIG, `parameter ${name} expected ${expected}, got ${typeof got === 'bigint' ? `${got}` : JSON.stringify(got)}`, { field: name })

/** "every" | "nth:10" | "rate:5" | "window:1000" | "window:1000:500" → a checked AuditPolicy. */
export function parsePolicy (text: string, name = 'policy'): AuditPolicy {
  const [mode, a, b, ...rest] = text.split(':')
  const n = (s: string | undefined): number => (s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN)
  try {
    if (rest.length === 0) {
      if (mode === 'every' && a === undefined) return checkPolicy({ mode: 'every' }, name)
      if (mode === 'nth' && b === undefined) return checkPolicy({ mode: 'nth', n: n(a) }, name)
      if (mode === 'rate' && b === undefined) return checkPolicy({ mode: 'rate', perSecond: n(a) }, name)
      if (mode === 'window') return checkPolicy({ mode: 'window', windowMs: n(a), ...(b !== undefined ? { maxMessages: n(b) } : {}) }, name)
    }
  } catch { /* reported below, with the parameter's name */ }
  throw bad(name, 'every, nth:N, rate:N or window:MS[:MAX]', text)
}

/**
 * The configuration from the pcp.* parameter overrides of one node (ros-args.ts overridesFor) over
 * `defaults`. Every pcp.* name is checked: a misspelt one is an error, not silently ignored.
 */
export function pcpConfig (overrides: Map<string, ParamOverride>, defaults: { name: string, policies?: { [topic: string]: AuditPolicy }, timerPolicy?: AuditPolicy, durability?: Durability }): PcpConfig {
  const parameters = new Map<string, ParamOverride>()
  const str = (name: string): string | undefined => {
    const o = overrides.get(name)
    if (o === undefined) return undefined
    if (o.type !== PT.STRING || typeof o.value !== 'string') throw bad(name, 'a string', o.value)
    parameters.set(name, o)
    return o.value
  }
  for (const name of overrides.keys()) {
    if (!name.startsWith(PREFIX)) continue
    const known = STRING_PARAMS.includes(name) || OTHER_PARAMS.includes(name) || (name.startsWith(POLICY_PREFIX) && name.length > POLICY_PREFIX.length)
    if (!known) throw new PcpError(Ros2ErrorCodes.ROS2_CONFIG, `unknown parameter ${name}: pcp.* parameters are ${[...STRING_PARAMS, ...OTHER_PARAMS, 'pcp.policy.<topic>'].join(', ')}`, { field: name })
  }
  const durability = str('pcp.durability') ?? defaults.durability ?? 'durable'
  if (durability !== 'durable' && durability !== 'relaxed' && durability !== 'interval') throw bad('pcp.durability', 'durable, interval or relaxed', durability)
  let syncIntervalMs: number | undefined
  const si = overrides.get('pcp.sync_interval_ms')
  if (si !== undefined) {
    if (durability !== 'interval') throw bad('pcp.sync_interval_ms', 'to be set only with pcp.durability:=interval', si.value)
    const v = si.type === PT.INTEGER ? Number(si.value) : NaN
    if (!Number.isSafeInteger(v) || v < 1) throw bad('pcp.sync_interval_ms', 'a whole number of milliseconds >= 1', si.value)
    syncIntervalMs = v
    parameters.set('pcp.sync_interval_ms', si)
  }
  const policies: { [topic: string]: AuditPolicy } = { ...(defaults.policies ?? {}) }
  for (const name of overrides.keys()) {
    if (!name.startsWith(POLICY_PREFIX)) continue
    policies[name.slice(POLICY_PREFIX.length).replace(/\./g, '/')] = parsePolicy(str(name)!, name)
  }
  const timerText = str('pcp.timer_policy')
  const timerPolicy = timerText !== undefined ? parsePolicy(timerText, 'pcp.timer_policy') : defaults.timerPolicy
  if (timerPolicy?.mode === 'window') throw bad('pcp.timer_policy', 'every, nth:N or rate:N (a timer tick has no message to hash)', timerText)
  let latestWins: string[] = []
  const lw = overrides.get('pcp.latest_wins')
  if (lw !== undefined) {
    // `-p pcp.latest_wins:=cmd_vel` is a string to rcl; `:=[cmd_vel, gripper]` a string array
    if (lw.type === PT.STRING) latestWins = [lw.value as string]
    else if (lw.type === PT.STRING_ARRAY) latestWins = lw.value as string[]
    else throw bad('pcp.latest_wins', 'a string array', lw.value)
    parameters.set('pcp.latest_wins', lw) // declared with the type it was given in, as rclnodejs takes an override as is
  }
  let diagnosticsPeriodS = DEFAULT_DIAGNOSTICS_PERIOD_S
  const dp = overrides.get('pcp.diagnostics_period')
  if (dp !== undefined) {
    const v = dp.type === PT.DOUBLE || dp.type === PT.INTEGER ? Number(dp.value) : NaN
    if (!(v >= 0) || !Number.isFinite(v)) throw bad('pcp.diagnostics_period', 'seconds (a number >= 0)', dp.value)
    diagnosticsPeriodS = v
    parameters.set('pcp.diagnostics_period', dp)
  }
  const name = str('pcp.name') ?? defaults.name
  if (!name) throw bad('pcp.name', 'a non-empty agent name', name)
  const home = str('pcp.home'); const identityFile = str('pcp.identity_file'); const passphraseFile = str('pcp.passphrase_file')
  // Declared whether set or not, so `ros2 param get <node> pcp.name` answers what the chain is.
  parameters.set('pcp.name', { name: 'pcp.name', type: PT.STRING, value: name })
  parameters.set('pcp.durability', { name: 'pcp.durability', type: PT.STRING, value: durability })
  if (!parameters.has('pcp.diagnostics_period')) parameters.set('pcp.diagnostics_period', { name: 'pcp.diagnostics_period', type: PT.DOUBLE, value: diagnosticsPeriodS })
  return {
    name, durability, policies, latestWins, diagnosticsPeriodS, parameters,
    ...(syncIntervalMs !== undefined ? { syncIntervalMs } : {}),
    ...(home ? { home } : {}), ...(identityFile ? { identityFile } : {}), ...(passphraseFile ? { passphraseFile } : {}),
    ...(timerPolicy ? { timerPolicy } : {})
  }
}
