// Sliding time windows with bounded memory. Events are counted in fixed buckets of `bucket` seconds; a
// bucket stays in the window while any part of it is inside [now − window, ∞). So a window holds at
// most window/bucket + 1 buckets whatever the event rate, and its edge is exact to one bucket (60 s on
// 48 h, 1 h on 30 days). The batch recomputation in the tests uses the same edge rule.

/** True when an event at `t` is inside a window of `window` seconds ending at `now` (bucketed edge). */
export function inWindow (t: number, now: number, window: number, bucket: number): boolean {
  return (Math.floor(t / bucket) + 1) * bucket > now - window
}

interface Bucket<T> { id: number, data: T }

/** Ordered buckets with O(1) append/evict; out-of-order inserts scan back from the tail. */
class Buckets<T> {
  items: Array<Bucket<T>> = []
  head = 0

  constructor (readonly bucket: number, readonly window: number, private readonly make: () => T) {}

  at (t: number): T {
    const id = Math.floor(t / this.bucket)
    const items = this.items
    let i = items.length - 1
    while (i >= this.head && items[i].id > id) i--
    if (i >= this.head && items[i].id === id) return items[i].data
    const b = { id, data: this.make() }
    items.splice(i + 1, 0, b)
    return b.data
  }

  /** Removes buckets that left the window; calls `drop` on each. */
  evict (now: number, drop: (data: T) => void): void {
    const start = now - this.window
    const items = this.items
    while (this.head < items.length && (items[this.head].id + 1) * this.bucket <= start) {
      drop(items[this.head].data)
      this.head++
    }
    if (this.head > 64 && this.head * 2 > items.length) { this.items = items.slice(this.head); this.head = 0 }
  }

  live (): Array<Bucket<T>> { return this.items.slice(this.head) }
}

/** Per-bucket vectors of counts (e.g. [events, unanchored events]); totals over the window. */
export class CountWindow {
  readonly #b: Buckets<number[]>
  #totals: number[]

  constructor (bucket: number, window: number, readonly width: number) {
    this.#b = new Buckets(bucket, window, () => new Array<number>(width).fill(0))
    this.#totals = new Array<number>(width).fill(0)
  }

  add (t: number, values: readonly number[]): void {
    const data = this.#b.at(t)
    for (let i = 0; i < this.width; i++) { data[i] += values[i]; this.#totals[i] += values[i] }
  }

  totals (now: number): number[] {
    this.#b.evict(now, (d) => { for (let i = 0; i < this.width; i++) this.#totals[i] -= d[i] })
    return this.#totals.slice()
  }

  toJSON (): Array<[number, number[]]> { return this.#b.live().map((x) => [x.id, x.data]) }

  static fromJSON (json: Array<[number, number[]]>, bucket: number, window: number, width: number): CountWindow {
    const w = new CountWindow(bucket, window, width)
    for (const [id, data] of json) w.add(id * bucket, data)
    return w
  }
}

export interface PeerStats {
  total: number
  unique: number
  /** Normalised Shannon entropy (H / log2 unique); 0 when ≤ 1 unique peer (§2 D_t, §4 entropy_drop). */
  entropy: number
  topPeer: string | null
  topRatio: number
}

const OTHER = '~other'

/** Peer → count over a sliding window, with entropy and top peer kept cheap to read. */
export class PeerWindow {
  readonly #b: Buckets<Map<string, number>>
  readonly #counts = new Map<string, number>()
  #total = 0
  #sumClogC = 0 // Σ c·log2 c, so H = log2 N − S/N without a pass over peers on each event
  #topDirty = false
  #top: string | null = null
  #topCount = 0

  constructor (bucket: number, window: number, readonly maxPeers: number) {
    this.#b = new Buckets(bucket, window, () => new Map())
  }

  add (t: number, peer: string, n = 1): void {
    // Cap on distinct peers: an agent naming millions of peers must not grow our memory (ours).
    const key = this.#counts.has(peer) || this.#counts.size < this.maxPeers ? peer : OTHER
    const bucket = this.#b.at(t)
    bucket.set(key, (bucket.get(key) ?? 0) + n)
    const c = this.#counts.get(key) ?? 0
    this.#counts.set(key, c + n)
    this.#total += n
    this.#sumClogC += clogc(c + n) - clogc(c)
    if (!this.#topDirty && c + n > this.#topCount) { this.#top = key; this.#topCount = c + n }
  }

  stats (now: number): PeerStats {
    let evicted = false
    this.#b.evict(now, (m) => {
      evicted = true
      for (const [peer, n] of m) {
        const c = (this.#counts.get(peer) ?? 0) - n
        if (c <= 0) this.#counts.delete(peer); else this.#counts.set(peer, c)
        this.#total -= n
      }
    })
    if (evicted) {
      // Rebuild the running sums from the counts: removes float drift, amortised over a bucket's events.
      this.#sumClogC = 0
      for (const c of this.#counts.values()) this.#sumClogC += clogc(c)
      this.#topDirty = true
    }
    if (this.#topDirty) {
      this.#top = null; this.#topCount = 0
      for (const [peer, c] of this.#counts) if (c > this.#topCount || (c === this.#topCount && this.#top !== null && peer < this.#top)) { this.#top = peer; this.#topCount = c }
      this.#topDirty = false
    }
    const unique = this.#counts.size
    const n = this.#total
    let entropy = 0
    if (unique > 1 && n > 0) entropy = Math.max(0, (Math.log2(n) - this.#sumClogC / n) / Math.log2(unique))
    return { total: n, unique, entropy, topPeer: this.#top, topRatio: n > 0 ? this.#topCount / n : 0 }
  }

  /** Peers in the window with their share, most frequent first (for the summary's network view). */
  peers (now: number, limit = 10): Array<[string, number]> {
    const { total } = this.stats(now)
    return [...this.#counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit).map(([p, c]) => [p, c / total])
  }

  toJSON (): Array<[number, Array<[string, number]>]> { return this.#b.live().map((x) => [x.id, [...x.data]]) }

  static fromJSON (json: Array<[number, Array<[string, number]>]>, bucket: number, window: number, maxPeers: number): PeerWindow {
    const w = new PeerWindow(bucket, window, maxPeers)
    for (const [id, entries] of json) for (const [peer, n] of entries) w.add(id * bucket, peer, n)
    return w
  }
}

function clogc (c: number): number { return c > 0 ? c * Math.log2(c) : 0 }
