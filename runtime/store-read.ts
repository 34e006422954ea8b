// Reading the device store back (runtime/store.ts has the key layout, store-write.ts the writes):
// events and raw records in chain order, the indexed search (runtime/store-search.ts), stats and meta
// slots. Every read waits out a reopen in progress and calls a missing or out-of-order event what it
// is: a damaged store (STORE_CORRUPTED), never a shorter chain.
import type { Level } from 'level'
import { seqKey } from './store-repair.js'
import { ROTATION_EVENT_TYPE } from './rotation.js'
import { search, seqAtTime, type IndexedSource, type SearchQuery } from './store-search.js'
import type { AissEvent } from './types.js'

/** What the reader needs of the store: its current database (a reopen replaces it) and its codecs. */
export interface ReadContext {
  db (): Level<string, Uint8Array>
  /** Resolves once no reopen is in progress. */
  settled (): Promise<void>
  reopening (): boolean
  /** Number of events (the head's seq + 1). */
  count (): number
  /** Number of events already written (stamps in flight are counted by count() only). */
  writtenCount (): number
  identityCount (): number
  bytesWritten (): number
  decode<T> (key: string, value: Uint8Array): T
  decodeEvent (key: string, value: Uint8Array): AissEvent
  corrupt (key: string, why: string): never
}

export class StoreReader {
  readonly #c: ReadContext
  readonly #source: IndexedSource

  constructor (c: ReadContext) {
    this.#c = c
    this.#source = {
      get: (seq) => this.get(seq),
      indexed: (prefix, from, to, reverse) => this.#indexed(prefix, from, to, reverse),
      corrupt: (seq, why) => c.corrupt(seqKey(seq), why),
      // What is written: a search (newest first, or by time) must not reach for a queued event whose
      // batch has not been written yet and call it missing.
      count: () => c.writtenCount()
    }
  }

  async get (seq: number): Promise<AissEvent | undefined> {
    if (this.#c.reopening()) await this.#c.settled()
    const v = await this.#c.db().get(seqKey(seq))
    return v === undefined ? undefined : this.#c.decodeEvent(seqKey(seq), v)
  }

  /** Events in chain order from `from` (inclusive) to `to` (exclusive). */
  async * events (from = 0, to = Infinity): AsyncGenerator<{ seq: number, event: AissEvent }> {
    await this.#c.settled()
    // What is written when the iterator opens is in its snapshot; the queued head may run ahead of it
    // (stamps in flight), so a gap is judged against what was written, never the queued head.
    const written = this.#c.writtenCount()
    const opts: { gte: string, lt: string } = { gte: seqKey(from), lt: to === Infinity ? 'e"' : seqKey(to) }
    let expected = from
    // nextv: one native call per 256 entries instead of a promise per entry (chain verify reads here),
    // and the next page is read on LevelDB's thread while the caller works through this one.
    const it = this.#c.db().iterator(opts)
    let next: Promise<Array<[string, Uint8Array]>> | null = it.nextv(256)
    try {
      while (next !== null) {
        const entries: Array<[string, Uint8Array]> = await next
        next = null
        if (entries.length === 0) break
        next = it.nextv(256)
        for (const [key, value] of entries) {
          const seq = this.#inSequence(key, expected++)
          yield { seq, event: this.#c.decodeEvent(key, value) }
        }
      }
    } finally {
      // A caller that stops early leaves one page in flight: settle it before closing.
      await next?.catch(() => {})
      await it.close()
    }
    const last = Math.min(to, written)
    if (expected < last) this.#c.corrupt(seqKey(expected), `event #${expected} is missing (the written head is #${written - 1})`)
  }

  /** Stored records as they are on disk, in chain order from `from` to `to` (exclusive). */
  async recordsRange (from: number, to: number): Promise<Uint8Array[]> {
    await this.#c.settled()
    const out: Uint8Array[] = []
    let expected = from
    for await (const [key, value] of this.#c.db().iterator({ gte: seqKey(from), lt: seqKey(to) })) {
      this.#inSequence(key, expected++)
      out.push(value)
    }
    return out
  }

  /** The seq of an event key met in a range scan where `expected` comes next; a gap means a damaged store. */
  #inSequence (key: string, expected: number): number {
    const seq = parseInt(key.slice(2), 16)
    if (seq !== expected) this.#c.corrupt(seqKey(expected), `event #${expected} is missing (next stored is #${seq})`)
    return seq
  }

  seqAtTime (ts: number): Promise<number> { return seqAtTime(this.#source, ts) }

  search (q: SearchQuery = {}): Promise<Array<{ seq: number, event: AissEvent }>> { return search(this.#source, q) }

  /** Seqs listed under an index prefix, in chain order (or reversed), limited to [from, to). */
  async * #indexed (prefix: string, from: number, to: number, reverse: boolean): AsyncGenerator<number> {
    for await (const [key, value] of this.#c.db().iterator({ gte: prefix, lt: prefix.slice(0, -1) + '"', reverse })) {
      const seqs = this.#c.decode<number[]>(key, value)
      for (const seq of reverse ? [...seqs].reverse() : seqs) if (seq >= from && seq < to) yield seq
    }
  }

  async stats (): Promise<{ events: number, bytes: number, sessions: number, rotations: number, identities: number }> {
    let sessions = 0; let last = ''
    for await (const key of this.#c.db().keys({ gte: 'S!', lt: 'S"' })) {
      const id = key.slice(2, key.lastIndexOf('!'))
      if (id !== last) { sessions++; last = id }
    }
    let rotations = 0
    for await (const _ of this.#indexed('t!' + ROTATION_EVENT_TYPE + '!', 0, Infinity, false)) rotations++
    const db = this.#c.db() as unknown as { approximateSize?: (a: string, b: string) => Promise<number> }
    const onDisk = typeof db.approximateSize === 'function' ? await db.approximateSize('\u0000', '\uffff').catch(() => 0) : 0
    return { events: this.#c.count(), bytes: onDisk || this.#c.bytesWritten(), sessions, rotations, identities: this.#c.identityCount() }
  }

  /** A meta slot (sync cursors, settings); undefined when unset. */
  async getMeta<T> (name: string): Promise<T | undefined> {
    await this.#c.settled()
    const v = await this.#c.db().get('m!' + name)
    return v === undefined ? undefined : this.#c.decode<T>('m!' + name, v)
  }
}
