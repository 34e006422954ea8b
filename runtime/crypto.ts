import { toHex } from './encoding.js'

// The one slot through which the protocol core reaches Ed25519, SHA-256 and randomness (noble's
// `hashes.sha512` slot, widened). Node entry points install node:crypto (about 10x faster here);
// the browser bundle installs the portable @noble backend. Both give byte-identical signatures:
// Ed25519 is deterministic (RFC 8032 §5.1.6), and test/crypto.test.ts cross-checks them.

export interface SigningKey {
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  sign (message: Uint8Array): Uint8Array
  /** Forget the secret (zero our copy). The key cannot sign afterwards. */
  destroy (): void
  /** Backend-specific handle that can be posted to a worker thread (node: the KeyObject), if any. */
  readonly handle?: unknown
}

export interface CryptoBackend {
  readonly name: string
  sha256 (data: Uint8Array): Uint8Array
  /** The same digest as lowercase hex, where the backend has a one-shot for it (every event is hashed). */
  sha256Hex? (data: Uint8Array): string
  randomBytes (n: number): Uint8Array
  randomUUID (): string
  /** Takes ownership of `seed` (32 bytes) and zeroes it once the backend holds the key its own way. */
  signingKey (seed: Uint8Array): SigningKey
  verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

let backend: CryptoBackend | undefined

export function setCryptoBackend (b: CryptoBackend): void { backend = b }

export function crypto (): CryptoBackend {
  if (!backend) throw new Error('no crypto backend installed: import "pcp-edge" (Node) or "pcp-edge/browser"')
  return backend
}

/** SHA-256 as lowercase hex: an event hash. One native call on node:crypto, no Hash object or copy. */
export function sha256Hex (data: Uint8Array): string {
  const b = crypto()
  return b.sha256Hex !== undefined ? b.sha256Hex(data) : toHex(b.sha256(data))
}

export function checkBytes (value: unknown, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" expected a Uint8Array, got ${value === null ? 'null' : typeof value}`)
  if (value.length !== length) throw new RangeError(`"${name}" expected ${length} bytes, got ${value.length}`)
  return value
}
