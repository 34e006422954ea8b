// A SeenIndex (runtime/verify.ts) in 8 bytes a slot instead of a string per key: a million nonces as JS
// strings in a Set take ~110 MB, here ~16 MB. A slot holds a 32-bit keyed fingerprint of the key and the
// index of the event that used it. Fingerprints collide, so a match is only a candidate: `confirm` asks
// the caller whether that event's key really is this one (the streaming verifier re-reads it from the
// file). The answers are therefore exactly those of the in-memory index, only rarely slower.
// The fingerprint is keyed with a random secret per index, so a crafted file cannot pile its keys into
// one probe run (hash flooding would make verification quadratic).
import { randomBytes } from 'node:crypto'
import type { SeenIndex } from './verify.js'

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b))

/** HalfSipHash-2-4 (the 32-bit SipHash, as Linux's hsiphash) over a string's UTF-16 code units. */
export function halfSipHash (k0: number, k1: number, s: string): number {
  let v0 = k0 | 0; let v1 = k1 | 0; let v2 = (0x6c796765 ^ k0) | 0; let v3 = (0x74656462 ^ k1) | 0
  const round = (): void => {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5); v1 ^= v0; v0 = rotl(v0, 16)
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8); v3 ^= v2
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7); v3 ^= v0
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13); v1 ^= v2; v2 = rotl(v2, 16)
  }
  const n = s.length
  const whole = n & ~1
  for (let i = 0; i < whole; i += 2) {
    const m = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
    v3 ^= m; round(); round(); v0 ^= m
  }
  // Last block: the length in units (top byte, as SipHash's byte count) and the odd unit if any.
  const b = ((n & 0xff) << 24) | (n & 1 ? s.charCodeAt(n - 1) : 0)
  v3 ^= b; round(); round(); v0 ^= b
  v2 ^= 0xff
  round(); round(); round(); round()
  return (v1 ^ v3) >>> 0
}

export class FingerprintIndex implements SeenIndex {
  readonly #fingerprint: (key: string) => number
  readonly #confirm: (index: number, key: string) => boolean
  // [fingerprint, index + 1] pairs; index + 1 === 0 marks a free slot. Linear probing from
  // fingerprint % capacity; the table grows by half once 80% full (doubling would leave it half empty).
  #slots: Uint32Array
  #capacity: number
  #size = 0
  /** Candidates that `confirm` turned down (fingerprint collisions): a measure, for tests. */
  rejected = 0

  /** `fingerprint` replaces the keyed hash, for tests that need collisions. */
  constructor (confirm: (index: number, key: string) => boolean, opts: { capacity?: number, fingerprint?: (key: string) => number } = {}) {
    const k = randomBytes(8)
    const k0 = k.readUInt32LE(0); const k1 = k.readUInt32LE(4)
    this.#fingerprint = opts.fingerprint ?? ((key) => halfSipHash(k0, k1, key))
    this.#confirm = confirm
    this.#capacity = opts.capacity ?? 4096
    this.#slots = new Uint32Array(2 * this.#capacity)
  }

  get size (): number { return this.#size }
  /** Bytes held by the table. */
  get bytes (): number { return this.#slots.byteLength }

  claim (key: string, index: number): number | undefined {
    const fp = this.#fingerprint(key) >>> 0
    const slots = this.#slots
    const cap = this.#capacity
    let i = fp % cap
    for (;;) {
      const held = slots[2 * i + 1]!
      if (held === 0) break
      if (slots[2 * i] === fp) {
        if (this.#confirm(held - 1, key)) return held - 1
        this.rejected++
      }
      if (++i === cap) i = 0
    }
    slots[2 * i] = fp; slots[2 * i + 1] = index + 1
    if (++this.#size * 5 > cap * 4) this.#grow()
    return undefined
  }

  /** Sizes the table once for about `n` keys: growing step by step near the end would hold two tables at once. */
  reserve (n: number): void {
    const cap = Math.ceil(n * 1.25)
    if (cap > this.#capacity) this.#grow(cap)
  }

  #grow (to = Math.ceil(this.#capacity * 1.5)): void {
    const old = this.#slots
    const cap = to
    const slots = new Uint32Array(2 * cap)
    for (let j = 0; j < old.length; j += 2) {
      if (old[j + 1] === 0) continue
      let i = old[j]! % cap
      while (slots[2 * i + 1] !== 0) if (++i === cap) i = 0
      slots[2 * i] = old[j]!; slots[2 * i + 1] = old[j + 1]!
    }
    this.#slots = slots
    this.#capacity = cap
  }
}
