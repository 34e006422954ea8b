// ROS-native configuration of an audited node: the `pcp.*` parameters (settable from a launch file,
// a params YAML or `--ros-args -p pcp.agent:=arm`), and the key passphrase from a file or a systemd
// credential (LoadCredential=pcp-passphrase:/etc/pcp/arm.pass → $CREDENTIALS_DIRECTORY/pcp-passphrase)
// rather than only an environment variable, which leaks into /proc/<pid>/environ and child processes.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PcpError } from '../runtime/index.js'
import { checkPolicy, type AuditPolicy } from './policy.js'
import { Ros2ErrorCodes } from './auditor.js'

export const CREDENTIAL_NAME = 'pcp-passphrase'

/** --passphrase-file / pcp.passphrase_file, then the systemd credential, then $PCP_PASSPHRASE. */
export function readPassphrase (opts: { file?: string, env?: { [k: string]: string | undefined } } = {}): string | undefined {
  const env = opts.env ?? process.env
  const read = (file: string, what: string): string => {
    try { return readFileSync(file, 'utf8').replace(/\r?\n$/, '') } catch (err) {
      throw new PcpError(Ros2ErrorCodes.ROS2_CONFIG, `cannot read the passphrase ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, field: file })
    }
  }
  if (opts.file) return read(opts.file, 'file')
  if (env.CREDENTIALS_DIRECTORY) {
    const cred = join(env.CREDENTIALS_DIRECTORY, CREDENTIAL_NAME)
    if (existsSync(cred)) return read(cred, 'credential')
  }
  return env.PCP_PASSPHRASE || undefined
}

export interface PcpNodeConfig {
  agent?: string
  home?: string
  identityFile?: string
  passphraseFile?: string
  durability?: 'durable' | 'relaxed'
  policies: { [topic: string]: AuditPolicy }
}

interface ParamSource { hasParameter (n: string): boolean, getParameter (n: string): { value: unknown } }

const PREFIX = 'pcp.'

/**
 * Reads the pcp.* parameters a node was started with. Per-topic policies are
 * pcp.policy.<topic with '/' as '.'>: "every" | "nth:10" | "rate:5" | "window:1000".
 */
export function pcpConfig (node: ParamSource, names: string[]): PcpNodeConfig {
  const get = (n: string): string | undefined => node.hasParameter(PREFIX + n) ? String(node.getParameter(PREFIX + n).value) : undefined
  const durability = get('durability')
  if (durability !== undefined && durability !== 'durable' && durability !== 'relaxed') throw new RangeError(`parameter pcp.durability expected durable or relaxed, got ${durability}`)
  const policies: { [topic: string]: AuditPolicy } = {}
  for (const n of names) {
    if (!n.startsWith(PREFIX + 'policy.')) continue
    const topic = n.slice((PREFIX + 'policy.').length).replace(/\./g, '/')
    policies[topic] = parsePolicy(String(node.getParameter(n).value), n)
  }
  return {
    ...(get('agent') ? { agent: get('agent') } : {}),
    ...(get('home') ? { home: get('home') } : {}),
    ...(get('identity_file') ? { identityFile: get('identity_file') } : {}),
    ...(get('passphrase_file') ? { passphraseFile: get('passphrase_file') } : {}),
    ...(durability ? { durability } : {}),
    policies
  }
}

export function parsePolicy (text: string, name = 'policy'): AuditPolicy {
  const [mode, arg] = text.split(':')
  const n = Number(arg)
  switch (mode) {
    case 'every': return checkPolicy({ mode: 'every' }, name)
    case 'nth': return checkPolicy({ mode: 'nth', n }, name)
    case 'rate': return checkPolicy({ mode: 'rate', perSecond: n }, name)
    case 'window': return checkPolicy({ mode: 'window', windowMs: n }, name)
    default: throw new RangeError(`"${name}" expected every, nth:N, rate:N or window:MS, got ${JSON.stringify(text)}`)
  }
}
