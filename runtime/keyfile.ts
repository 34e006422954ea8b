// Private-key files, byte-compatible with the reference (protocol.md §11).
//   plaintext: {"format":"plaintext","version":"1.8.4","private_key":"<base64 seed>","warning":…}
//   PQKY (97 bytes): "PQKY" | 0x01 | salt[32] | nonce[12] | AES-256-GCM(seed)[32] | tag[16]
//   key = scrypt(passphrase, salt, N=2^17, r=8, p=1, 32). No associated data, as the reference.
//   PQKY v2 (129 bytes, ours, aiss2.md §2.1): "PQKY" | 0x02 | salt[32] | nonce[12] |
//     AES-256-GCM(Ed25519 seed ‖ ML-DSA-65 seed ξ)[64] | tag[16], same scrypt; the 5-byte header is GCM
//     associated data, so the version byte cannot be flipped to make the file read as something else.
//   The plaintext form gains "private_key_pq" (base64 of ξ) beside "private_key".
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
export const PQKY_VERSION_HYBRID = 0x02
export const PQKY_HYBRID_SIZE = 129
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
  return encryptBody(seed, PQKY_VERSION, passphrase, opts)
}

/**
 * Encrypts an Ed25519 seed and, when given, an ML-DSA-65 seed: PQKY v2 with both, else the v1 file the
 * reference reads. The caller keeps (and should zero) its seeds.
 */
export async function encryptSeeds (seeds: { ed: Uint8Array, pq?: Uint8Array | null }, passphrase: string, opts: EncryptOptions = {}): Promise<Uint8Array> {
  if (!seeds.pq) return encryptSeed(seeds.ed, passphrase, opts)
  if (seeds.ed.length !== 32) throw new RangeError(`"seeds.ed" expected 32 bytes, got ${seeds.ed.length}`)
  if (seeds.pq.length !== 32) throw new RangeError(`"seeds.pq" expected 32 bytes, got ${seeds.pq.length}`)
  const both = new Uint8Array(64)
  both.set(seeds.ed, 0); both.set(seeds.pq, 32)
  try { return await encryptBody(both, PQKY_VERSION_HYBRID, passphrase, opts) } finally { both.fill(0) }
}

async function encryptBody (plain: Uint8Array, version: number, passphrase: string, opts: EncryptOptions): Promise<Uint8Array> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new TypeError('"passphrase" expected a non-empty string')
  checkPassphrase(passphrase)
  const salt = opts.salt ?? randomBytes(32)
  const nonce = opts.nonce ?? randomBytes(12)
  const key = await deriveKey(passphrase, salt, opts.scryptN ?? SCRYPT_N)
  try {
    const header = new Uint8Array(5)
    header.set(Buffer.from(PQKY_MAGIC, 'ascii'), 0)
    header[4] = version
    const cipher = createCipheriv('aes-256-gcm', key, nonce)
    // v1 stays byte-compatible with the reference (no associated data); v2 binds its header.
    if (version !== PQKY_VERSION) cipher.setAAD(header)
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    const out = new Uint8Array(5 + 32 + 12 + body.length + 16)
    out.set(header, 0)
    out.set(salt, 5); out.set(nonce, 37); out.set(body, 49); out.set(cipher.getAuthTag(), 49 + body.length)
    body.fill(0)
    return out
  } finally {
    key.fill(0)
  }
}

/** Decrypts a PQKY file (v1, or v2 keeping only its Ed25519 seed). The caller owns (and should zero) the returned seed. */
export async function decryptSeed (file: Uint8Array, passphrase: string | undefined, source = 'private.key.enc', opts: { scryptN?: number } = {}): Promise<Uint8Array> {
  const { ed, pq } = await decryptSeeds(file, passphrase, source, opts)
  pq?.fill(0)
  return ed
}

/** Decrypts a PQKY v1 (Ed25519 seed; pq null) or v2 file (both seeds). The caller owns (and should zero) them. */
export async function decryptSeeds (file: Uint8Array, passphrase: string | undefined, source = 'private.key.enc', opts: { scryptN?: number } = {}): Promise<{ ed: Uint8Array, pq: Uint8Array | null }> {
  const corrupted = (why: string): never => { throw new PcpError(ErrorCodes.KEY_FILE_CORRUPTED, `${source}: ${why}`, { file: source }) }
  if (file.length < 5 || Buffer.from(file.subarray(0, 4)).toString('latin1') !== PQKY_MAGIC) corrupted('does not start with the PQKY magic')
  if (file[4] !== PQKY_VERSION && file[4] !== PQKY_VERSION_HYBRID) corrupted(`has format version ${file[4]}, only ${PQKY_VERSION} and ${PQKY_VERSION_HYBRID} are known`)
  const hybrid = file[4] === PQKY_VERSION_HYBRID
  const size = hybrid ? PQKY_HYBRID_SIZE : PQKY_SIZE
  if (file.length !== size) corrupted(`is ${file.length} bytes, an encrypted key file of version ${file[4]} is exactly ${size}`)
  if (!passphrase) throw new PcpError(ErrorCodes.KEY_PASSPHRASE_REQUIRED, `${source} is encrypted: give the passphrase (PCP_PASSPHRASE or the prompt)`, { file: source })
  const plainLen = hybrid ? 64 : 32
  const salt = file.subarray(5, 37); const nonce = file.subarray(37, 49)
  const body = file.subarray(49, 49 + plainLen); const tag = file.subarray(49 + plainLen, size)
  checkPassphrase(passphrase)
  for (const [N, form] of readCandidatesN(opts.scryptN).flatMap((n) => passphraseForms(passphrase).map((f) => [n, f] as const))) {
    const key = await deriveKey(form, salt, N)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce)
      if (hybrid) decipher.setAAD(file.subarray(0, 5))
      decipher.setAuthTag(tag)
      const seed = Buffer.concat([decipher.update(body), decipher.final()])
      if (seed.length !== plainLen) corrupted(`decrypts to ${seed.length} bytes, not ${plainLen}`)
      if (!hybrid) return { ed: new Uint8Array(seed.buffer, seed.byteOffset, 32), pq: null }
      const out = { ed: Uint8Array.from(seed.subarray(0, 32)), pq: Uint8Array.from(seed.subarray(32, 64)) }
      seed.fill(0)
      return out
    } catch (err) {
      if (err instanceof PcpError) throw err
      // GCM failure: wrong passphrase, or ciphertext altered; the format cannot tell them apart.
    } finally {
      key.fill(0)
    }
  }
  throw new PcpError(ErrorCodes.KEY_PASSPHRASE_WRONG, `${source}: wrong passphrase (or the encrypted key was altered)`, { file: source })
}

export function plaintextKeyFile (seed: Uint8Array, pqSeed?: Uint8Array | null): string {
  if (pqSeed && pqSeed.length !== 32) throw new RangeError(`"pqSeed" expected 32 bytes, got ${pqSeed.length}`)
  return stringifyJson({ format: 'plaintext', version: '1.8.4', private_key: toBase64(seed), ...(pqSeed ? { private_key_pq: toBase64(pqSeed) } : {}), warning: 'UNENCRYPTED — do not share or commit' }, 2)
}

/** Both seeds of a plaintext key file; `pq` null when it holds none (every AISS-1 and reference file). */
export function parsePlaintextKeyFileSeeds (text: string, source = 'private.key.json'): { ed: Uint8Array, pq: Uint8Array | null } {
  const ed = parsePlaintextKeyFile(text, source)
  const field = (parseJson(text, source) as Record<string, unknown>).private_key_pq
  if (field === undefined) return { ed, pq: null }
  const pq = typeof field === 'string' ? fromBase64Strict(field) : null
  if (!pq || pq.length !== 32) throw new PcpError(ErrorCodes.KEY_FILE_CORRUPTED, `${source}: private_key_pq is not the base64 of a 32-byte ML-DSA-65 seed`, { file: source, field: 'private_key_pq' })
  return { ed, pq }
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
