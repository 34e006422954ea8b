// node:crypto (hot path) and @noble (portable path) must be interchangeable byte for byte.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { nodeCrypto, portableCrypto, toHex, toBase64, fromBase64Strict } from '../runtime/index.js'

const Crypto = suite('crypto')
const seedOf = (i: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff)

Crypto('RFC 8032 test 1: same public key and signature from both backends', () => {
  const seed = Uint8Array.from(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'))
  for (const b of [nodeCrypto, portableCrypto]) {
    const key = b.signingKey(Uint8Array.from(seed))
    assert.is(toHex(key.publicKey), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', b.name)
    assert.is(toHex(key.sign(new Uint8Array(0))), 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b', b.name)
  }
})

Crypto('200 random keys and messages: identical signatures, each verifies the other', () => {
  for (let i = 0; i < 200; i++) {
    const a = nodeCrypto.signingKey(seedOf(i)); const b = portableCrypto.signingKey(seedOf(i))
    assert.equal(a.publicKey, b.publicKey)
    const msg = nodeCrypto.randomBytes(i % 97)
    const sa = a.sign(msg); const sb = b.sign(msg)
    assert.equal(sa, sb)
    assert.ok(nodeCrypto.verify(sb, msg, b.publicKey))
    assert.ok(portableCrypto.verify(sa, msg, a.publicKey))
    const bad = Uint8Array.from(sa); bad[i % 64]! ^= 1
    assert.not.ok(nodeCrypto.verify(bad, msg, a.publicKey))
    assert.not.ok(portableCrypto.verify(bad, msg, a.publicKey))
  }
})

Crypto('both refuse a non-canonical S (s + L) the same way', () => {
  const key = nodeCrypto.signingKey(seedOf(1)); const msg = new Uint8Array([1, 2, 3])
  const sig = key.sign(msg)
  // Add the group order L to S (little-endian): a malleated signature RFC 8032 says to reject.
  const L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex')
  const s = Uint8Array.from(sig.subarray(32)); let carry = 0
  for (let i = 0; i < 32; i++) { const v = s[i]! + L[i]! + carry; s[i] = v & 0xff; carry = v >> 8 }
  const malleated = new Uint8Array(64); malleated.set(sig.subarray(0, 32)); malleated.set(s, 32)
  assert.is(nodeCrypto.verify(malleated, msg, key.publicKey), false)
  assert.is(portableCrypto.verify(malleated, msg, key.publicKey), false)
})

Crypto('sha256 and random UUIDs agree in form', () => {
  const data = new TextEncoder().encode('abc')
  assert.equal(nodeCrypto.sha256(data), portableCrypto.sha256(data))
  for (const b of [nodeCrypto, portableCrypto]) assert.match(b.randomUUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

Crypto('signing keys zero the seed they are given, and destroy() stops signing', () => {
  for (const b of [nodeCrypto, portableCrypto]) {
    const seed = seedOf(3); const key = b.signingKey(seed)
    assert.ok(seed.every((x) => x === 0), `${b.name} zeroed the seed`)
    key.destroy()
    assert.throws(() => key.sign(new Uint8Array(1)), /destroyed/)
  }
})

Crypto('strict base64: one spelling per signature (the reference accepts junk, gaps.md #5)', () => {
  const sig = toBase64(new Uint8Array(64).fill(0xfb)) // '+' and '/' in every quartet
  assert.ok(fromBase64Strict(sig))
  assert.match(sig, /[+/]/)
  for (const bad of [sig.replace(/=+$/, ''), sig.slice(0, 10) + '!!\n  ' + sig.slice(10), sig.replace(/\+/g, '-').replace(/\//g, '_'), ' ' + sig, 'Bw=='.replace('w', 'x')]) {
    assert.is(fromBase64Strict(bad), null, JSON.stringify(bad))
  }
})

Crypto.run()
