// node:crypto backend: OpenSSL's Ed25519 (sign ~44 µs, verify ~128 µs here, vs ~10x that in pure JS).
import * as nc from 'node:crypto'
import { type CryptoBackend, type SigningKey, checkBytes } from './crypto.js'
import { publicKeyProblem } from './public-key.js'

// DER wrappers that turn raw 32-byte keys into the PKCS#8 / SPKI forms OpenSSL takes (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

// Verifying a chain checks one key thousands of times; parsing the SPKI each time costs ~10 µs.
// null: a key publicKeyProblem refuses (small order, non-canonical), for which nothing verifies.
const publicKeyCache = new Map<string, nc.KeyObject | null>()
function publicKeyObject (publicKey: Uint8Array): nc.KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1')
  let key = publicKeyCache.get(id)
  if (key === undefined) {
    if (publicKeyCache.size > 1024) publicKeyCache.clear()
    if (publicKeyProblem(publicKey) !== null) { publicKeyCache.set(id, null); return null }
    const der = new Uint8Array(44); der.set(SPKI_PREFIX); der.set(publicKey, 12)
    key = nc.createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    publicKeyCache.set(id, key)
  }
  return key
}

function signingKey (seed: Uint8Array): SigningKey {
  checkBytes(seed, 32, 'seed')
  const der = Buffer.alloc(48); der.set(PKCS8_PREFIX); der.set(seed, 16)
  let key: nc.KeyObject | undefined = nc.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  // OpenSSL now holds the key; our copies of the seed are no longer needed.
  der.fill(0); seed.fill(0)
  const jwk = nc.createPublicKey(key).export({ format: 'jwk' })
  const publicKey = new Uint8Array(Buffer.from(jwk.x!, 'base64url'))
  return {
    publicKey,
    sign (message) {
      if (!key) throw new Error('signing key was destroyed')
      return new Uint8Array(nc.sign(null, message, key))
    },
    destroy () { key = undefined },
    // A KeyObject can be posted to a worker without the seed ever being copied out of OpenSSL.
    get handle () { return key }
  }
}

export const nodeCrypto: CryptoBackend = {
  name: 'node:crypto',
  sha256: (data) => new Uint8Array(nc.createHash('sha256').update(data).digest()),
  // crypto.hash (node ≥ 20.12): one call into OpenSSL, hex made in C++; the event hash of every stamp.
  ...(typeof (nc as { hash?: unknown }).hash === 'function' ? { sha256Hex: (data: Uint8Array) => nc.hash('sha256', data, 'hex') } : {}),
  randomBytes: (n) => new Uint8Array(nc.randomBytes(n)),
  randomUUID: () => nc.randomUUID(),
  signingKey,
  verify (signature, message, publicKey) {
    if (signature.length !== 64 || publicKey.length !== 32) return false
    try {
      const key = publicKeyObject(publicKey)
      return key !== null && nc.verify(null, message, key, signature)
    } catch {
      return false // a public key OpenSSL cannot decode is an invalid signature, not a crash
    }
  }
}
