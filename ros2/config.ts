// The key passphrase of an audited node or recorder, from a file or a systemd
// credential (LoadCredential=pcp-passphrase:/etc/pcp/arm.pass → $CREDENTIALS_DIRECTORY/pcp-passphrase)
// rather than only an environment variable, which leaks into /proc/<pid>/environ and child processes.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PcpError } from '../runtime/index.js'
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
