// Private-key files, byte-compatible with the reference (protocol.md §11).
//   plaintext: {"format":"plaintext","version":"1.8.4","private_key":"<base64 seed>","warning":…}
//   PQKY (97 bytes): "PQKY" | 0x01 | salt[32] | nonce[12] | AES-256-GCM(seed)[32] | tag[16]
//   key = scrypt(passphrase, salt, N=2^17, r=8, p=1, 32). No associated data, as the reference.
// Node-only (scrypt and AES-GCM come from node:crypto); the browser bundle never loads keys.
import { scrypt as scryptCb, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { PcpError, ErrorCodes } from './errors.js'
import { fromBase64Strict, toBase64 } from './encoding.js'
import { stringifyJson, parseJson } from './json.js'

const scrypt = promisify(scryptCb) as (pw: string | Uint8Array, salt: Uint8Array, len: number, opts: object) => Promise<Buffer>

export const PQKY_MAGIC = 'PQKY'
export const PQKY_VERSION = 0x01
export const PQKY_SIZE = 97
export const SCRYPT_N = 2 ** 17

/** Our files always use N = 2^17. The reference's tests and demo write N = 16384 (PIQRYPT_SCRYPT_N), and
 * the file does not record N (gaps.md #19), so reading also tries the env value when one is set. */
function readCandidatesN (explicit?: number): number[] {
  if (explicit) return [explicit]
  const env = Number(process.env.PIQRYPT_SCRYPT_N ?? process.env.PCP_SCRYPT_N)
  return Number.isInteger(env) && env > 1 && env !== SCRYPT_N ? [SCRYPT_N, env] : [SCRYPT_N]
}

/**
 * The scrypt password is the passphrase's raw UTF-8 bytes, as the reference's `passphrase.encode()`:
 * no Unicode normalisation, so "café" typed as e + U+0301 and as U+00E9 are different passphrases,
 * on both sides. (Before 0.1.1 this project normalised to NFC first: see passphraseForms.)
 */
async function deriveKey (passphrase: string, salt: Uint8Array, N: number): Promise<Buffer> {
  // 128·N·r bytes = 128 MiB at N = 2^17; Node's default maxmem (32 MiB) would refuse it.
  return scrypt(Buffer.from(passphrase, 'utf8'), salt, 32, { N, r: 8, p: 1, maxmem: 256 * 1024 * 1024 + 128 * N * 8 })
}

/**
 * The passphrases to try when reading: the raw one, then — only when it differs — its NFC form, which
 * is what this project fed scrypt before it matched the reference byte for byte. Keys it wrote that
 * way keep opening; every key written now uses the raw bytes.
 */
function passphraseForms (passphrase: string): string[] {
  const nfc = passphrase.normalize('NFC')
  return nfc === passphrase ? [passphrase] : [passphrase, nfc]
}

/** Python's encode() refuses a lone surrogate; Buffer would write U+FFFD instead, another passphrase. */
function checkPassphrase (passphrase: string): void {
  if (!(passphrase as unknown as { isWellFormed (): boolean }).isWellFormed()) throw new TypeError('"passphrase" contains a lone surrogate, which has no UTF-8 encoding')
}

export interface EncryptOptions { scryptN?: number, salt?: Uint8Array, nonce?: Uint8Array }

/** Encrypts a 32-byte seed into the 97-byte PQKY layout. salt/nonce are injectable for test vectors only. */
export async function encryptSeed (seed: Uint8Array, passphrase: string, opts: EncryptOptions = {}): Promise<Uint8Array> {
  if (seed.length !== 32) throw new RangeError(`"seed" expected 32 bytes, got ${seed.length}`)
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new TypeError('"passphrase" expected a non-empty string')
  checkPassphrase(passphrase)
  const salt = opts.salt ?? randomBytes(32)
  const nonce = opts.nonce ?? randomBytes(12)
  const key = await deriveKey(passphrase, salt, opts.scryptN ?? SCRYPT_N)
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce)
    const body = Buffer.concat([cipher.update(seed), cipher.final()])
    const out = new Uint8Array(PQKY_SIZE)
    out.set(Buffer.from(PQKY_MAGIC, 'ascii'), 0)
    out[4] = PQKY_VERSION
    out.set(salt, 5); out.set(nonce, 37); out.set(body, 49); out.set(cipher.getAuthTag(), 81)
    body.fill(0)
    return out
  } finally {
    key.fill(0)
  }
}

/** Decrypts a PQKY file. The caller owns (and should zero) the returned seed. */
export async function decryptSeed (file: Uint8Array, passphrase: string | undefined, source = 'private.key.enc', opts: { scryptN?: number } = {}): Promise<Uint8Array> {
  const corrupted = (why: string): never => { throw new PcpError(ErrorCodes.KEY_FILE_CORRUPTED, `${source}: ${why}`, { file: source }) }
  if (file.length !== PQKY_SIZE) corrupted(`is ${file.length} bytes, an encrypted key file is exactly ${PQKY_SIZE}`)
  if (Buffer.from(file.subarray(0, 4)).toString('latin1') !== PQKY_MAGIC) corrupted('does not start with the PQKY magic')
  if (file[4] !== PQKY_VERSION) corrupted(`has format version ${file[4]}, only ${PQKY_VERSION} is known`)
  if (!passphrase) throw new PcpError(ErrorCodes.KEY_PASSPHRASE_REQUIRED, `${source} is encrypted: give the passphrase (PCP_PASSPHRASE or the prompt)`, { file: source })
  const salt = file.subarray(5, 37); const nonce = file.subarray(37, 49)
  const body = file.subarray(49, 81); const tag = file.subarray(81, 97)
  checkPassphrase(passphrase)
  for (const [N, form] of readCandidatesN(opts.scryptN).flatMap((n) => passphraseForms(passphrase).map((f) => [n, f] as const))) {
    const key = await deriveKey(form, salt, N)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce)
      decipher.setAuthTag(tag)
      const seed = Buffer.concat([decipher.update(body), decipher.final()])
      if (seed.length !== 32) corrupted(`decrypts to ${seed.length} bytes, not a 32-byte seed`)
      return new Uint8Array(seed.buffer, seed.byteOffset, seed.length)
    } catch (err) {
      if (err instanceof PcpError) throw err
      // GCM failure: wrong passphrase, or ciphertext altered; the format cannot tell them apart.
    } finally {
      key.fill(0)
    }
  }
  throw new PcpError(ErrorCodes.KEY_PASSPHRASE_WRONG, `${source}: wrong passphrase (or the encrypted key was altered)`, { file: source })
}

export function plaintextKeyFile (seed: Uint8Array): string {
  return stringifyJson({ format: 'plaintext', version: '1.8.4', private_key: toBase64(seed), warning: 'UNENCRYPTED — do not share or commit' }, 2)
}

export function parsePlaintextKeyFile (text: string, source = 'private.key.json'): Uint8Array {
  let doc: unknown
  try { doc = parseJson(text, source) } catch (err) {
    throw new PcpError(ErrorCodes.KEY_FILE_CORRUPTED, `${source} is not valid JSON`, { file: source, cause: err })
  }
  const field = (doc as Record<string, unknown> | null)?.private_key
  const seed = typeof field === 'string' ? fromBase64Strict(field) : null
  if (!seed || seed.length !== 32) {
    throw new PcpError(ErrorCodes.KEY_FILE_CORRUPTED, `${source}: private_key is not the base64 of a 32-byte seed`, { file: source, field: 'private_key' })
  }
  return seed
}
