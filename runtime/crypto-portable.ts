// Portable backend: @noble/ed25519 + @noble/hashes, no Node built-ins (the browser verifier bundle).
import * as ed from '@noble/ed25519'
import { sha256 } from '@noble/hashes/sha2.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { type CryptoBackend, checkBytes } from './crypto.js'
import { publicKeyProblem } from './public-key.js'

ed.hashes.sha512 = sha512

function randomBytes (n: number): Uint8Array {
  const out = new Uint8Array(n)
  globalThis.crypto.getRandomValues(out)
  return out
}

function randomUUID (): string {
  if (typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID()
  const b = randomBytes(16)
  b[6] = (b[6]! & 0x0f) | 0x40; b[8] = (b[8]! & 0x3f) | 0x80 // RFC 9562 version 4, variant 10
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// Keys publicKeyProblem has judged (a chain checks one key thousands of times).
const keyVerdicts = new Map<string, boolean>()
function strongKey (publicKey: Uint8Array): boolean {
  const id = String.fromCharCode(...publicKey)
  let ok = keyVerdicts.get(id)
  if (ok === undefined) {
    if (keyVerdicts.size > 1024) keyVerdicts.clear()
    ok = publicKeyProblem(publicKey) === null
    keyVerdicts.set(id, ok)
  }
  return ok
}

export const portableCrypto: CryptoBackend = {
  name: '@noble/ed25519',
  sha256: (data) => sha256(data),
  randomBytes,
  randomUUID,
  signingKey (seed) {
    checkBytes(seed, 32, 'seed')
    let secret: Uint8Array | undefined = Uint8Array.from(seed)
    seed.fill(0)
    const publicKey = ed.getPublicKey(secret)
    return {
      publicKey,
      sign (message) {
        if (!secret) throw new Error('signing key was destroyed')
        return ed.sign(message, secret)
      },
      destroy () { secret?.fill(0); secret = undefined }
    }
  },
  verify (signature, message, publicKey) {
    if (signature.length !== 64 || publicKey.length !== 32) return false
    if (!strongKey(publicKey)) return false
    try {
      // zip215 off: the strict RFC 8032 rules OpenSSL applies, so both backends accept the same set.
      return ed.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false
    }
  }
}
