// The key passphrase of a Pi service: the systemd credential `pcp-passphrase` (LoadCredential= or
// LoadCredentialEncrypted= → $CREDENTIALS_DIRECTORY/pcp-passphrase, readable only by the service,
// never in the environment or the unit), else $PCP_PASSPHRASE, else none (a plaintext key).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const PASSPHRASE_CREDENTIAL = 'pcp-passphrase'

export function servicePassphrase (env: { [k: string]: string | undefined } = process.env): { passphrase?: string, source: 'credential' | 'env' | 'none' } {
  if (env.CREDENTIALS_DIRECTORY) {
    try {
      return { passphrase: readFileSync(join(env.CREDENTIALS_DIRECTORY, PASSPHRASE_CREDENTIAL), 'utf8').replace(/\r?\n$/, ''), source: 'credential' }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return env.PCP_PASSPHRASE ? { passphrase: env.PCP_PASSPHRASE, source: 'env' } : { source: 'none' }
}
