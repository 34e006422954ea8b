// The key of a Pi service: the systemd credential `pcp-key` (the key unlocked once by `pcp identity
// unlock`, best as LoadCredentialEncrypted= with systemd-creds: no scrypt at start, so no 128 MiB peak
// on a Pi Zero 2 W), else the credential `pcp-passphrase` (LoadCredential= or LoadCredentialEncrypted=
// → $CREDENTIALS_DIRECTORY/pcp-passphrase, readable only by the service, never in the environment or
// the unit), else $PCP_PASSPHRASE, else none (a plaintext key).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const PASSPHRASE_CREDENTIAL = 'pcp-passphrase'
export const KEY_CREDENTIAL = 'pcp-key'

function credential (env: { [k: string]: string | undefined }, name: string): string | undefined {
  if (!env.CREDENTIALS_DIRECTORY) return undefined
  try { return readFileSync(join(env.CREDENTIALS_DIRECTORY, name), 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    return undefined
  }
}

/** Agent.open options for a service: the unlocked key when the pcp-key credential is there, plus the passphrase (rotation needs it). */
export function serviceKey (env: { [k: string]: string | undefined } = process.env): { unlockedKey?: string, passphrase?: string, source: 'key-credential' | 'credential' | 'env' | 'none' } {
  const key = credential(env, KEY_CREDENTIAL)
  const { passphrase, source } = servicePassphrase(env)
  return { ...(key !== undefined ? { unlockedKey: key } : {}), ...(passphrase !== undefined ? { passphrase } : {}), source: key !== undefined ? 'key-credential' : source }
}

export function servicePassphrase (env: { [k: string]: string | undefined } = process.env): { passphrase?: string, source: 'credential' | 'env' | 'none' } {
  const pw = credential(env, PASSPHRASE_CREDENTIAL)
  if (pw !== undefined) return { passphrase: pw.replace(/\r?\n$/, ''), source: 'credential' }
  return env.PCP_PASSPHRASE ? { passphrase: env.PCP_PASSPHRASE, source: 'env' } : { source: 'none' }
}
