// The hashes of an agent's newest events, as ingest's lane keeps them (hub/ingest.ts): a resend is told
// from a fork, and a replayed nonce from a reused one, without a store read; and a new event that chains
// onto one of them instead of the head is named a fork. Bounded small, because every agent holds one
// (issue 18: ≤ 20 KB of hub state per agent; a Map of 8,192 hex strings was ~1 MB per active agent):
// 32 bytes per hash in one buffer, allocated at the first event. What is older is asked of the store.
// Positions are consecutive (the lane sets each accepted event's in chain order); a position that does
// not follow the last one starts the window again.

export const RECENT_HASHES = 128

export class RecentHashes {
  readonly #capacity: number
  #ring: Buffer | null = null
  /** Oldest and newest position held; `#lo > #hi` when empty. */
  #lo = 0
  #hi = -1

  constructor (capacity = RECENT_HASHES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`"capacity" expected a positive integer, got ${String(capacity)}`)
    this.#capacity = capacity
  }

  /** The oldest position held (Infinity when none): below it, ask the store. */
  get oldest (): number { return this.#lo > this.#hi ? Infinity : this.#lo }

  /** `hash`: 64 lower-case hex digits (a verifier's event hash). */
  set (seq: number, hash: string): void {
    if (seq !== this.#hi + 1 || this.#lo > this.#hi) { this.#lo = seq; this.#hi = seq - 1 }
    this.#ring ??= Buffer.alloc(this.#capacity * 32)
    this.#ring.write(hash, (seq % this.#capacity) * 32, 32, 'hex')
    this.#hi = seq
    if (this.#hi - this.#lo >= this.#capacity) this.#lo = this.#hi - this.#capacity + 1
  }

  get (seq: number): string | undefined {
    if (seq < this.#lo || seq > this.#hi) return undefined
    const at = (seq % this.#capacity) * 32
    return this.#ring!.toString('hex', at, at + 32)
  }

  /** The position held with this hash, or undefined. */
  find (hash: string): number | undefined {
    if (this.#lo > this.#hi || !/^[0-9a-f]{64}$/.test(hash)) return undefined
    const want = Buffer.from(hash, 'hex')
    for (let seq = this.#lo; seq <= this.#hi; seq++) {
      const at = (seq % this.#capacity) * 32
      if (want.equals(this.#ring!.subarray(at, at + 32))) return seq
    }
    return undefined
  }

  clear (): void { this.#lo = 0; this.#hi = -1 }
}
