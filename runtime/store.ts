// The device store: one LevelDB per agent (agents/<name>/store), so each robot process locks only its
// own agents. Keys (all strings, so a chain reads back in order with a plain range scan):
//   h                       head: { seq, hash, timestamp, agentIndex }, in the SAME batch as its event
//   a!<n>                   identity #n of this chain ({ agentId, publicKey }); several after rotations
//   e!<seq:16 hex>          the event record (runtime/record.ts)
//   t!<type>!<seq:16 hex>   the seqs of one batch's events of that payload.event_type
//   S!<session>!<seq>       likewise by payload.session_id;   p!<peer>!<seq>   by peer agent
// Appends go through one group-commit queue: every stamp waiting while a batch is being written goes
// into the next batch, written with sync: true by default, so each acknowledged event is on disk.
// Each key in a LevelDB batch costs ~10 µs here, so an index key covers all of a batch's events that
// share it (about one key per event in all, instead of five). Time needs no index: the Agent keeps
// timestamps non-decreasing along the chain, so a time range is a binary search over seq.
import { Level } from 'level'
import { openLevelLocked, closeLevelLocked } from './level-open.js'
import { PcpError, ErrorCodes } from './errors.js'
import { encodeRecord, decodeRecord, encodeValue, decodeValue } from './record.js'
import { eventHash } from './event.js'
import { ROTATION_EVENT_TYPE } from './rotation.js'
import type { AissEvent } from './types.js'

export type Durability = 'durable' | 'relaxed'

export interface Head { seq: number, hash: string, timestamp: number, agentIndex: number }
export interface StoredIdentity { agentId: string, publicKey: Uint8Array }

export interface SearchQuery {
  eventType?: string
  after?: number
  before?: number
  sessionId?: string
  peer?: string
  limit?: number
  /** Newest first instead of chain order. */
  reverse?: boolean
}

export interface AppendItem { event: AissEvent, hash: string, agentIndex: number }

const hex16 = (seq: number): string => seq.toString(16).padStart(16, '0')
const seqKey = (seq: number): string => 'e!' + hex16(seq)
const PEER_FIELDS = ['peer_agent_id', 'peer_id', 'peer'] as const

/** The index prefixes an event belongs to. */
function indexPrefixes (event: AissEvent): string[] {
  const p = event.payload ?? {}
  const out: string[] = []
  if (typeof p.event_type === 'string') out.push('t!' + p.event_type + '!')
  if (typeof p.session_id === 'string') out.push('S!' + p.session_id + '!')
  for (const f of PEER_FIELDS) if (typeof p[f] === 'string') { out.push('p!' + p[f] + '!'); break }
  return out
}

export class EventStore {
  readonly path: string
  readonly name: string
  readonly durability: Durability
  #db: Level<string, Uint8Array>
  #head: Head | null = null
  #identities: StoredIdentity[] = []
  #queue: Array<{ ops: Array<{ type: 'put', key: string, value: Uint8Array }>, index: Map<string, number[]>, head: Head, sync?: true, resolve: () => void, reject: (e: unknown) => void }> = []
  #writing = false
  #closed = false
  #bytesWritten = 0

  private constructor (path: string, name: string, durability: Durability) {
    this.path = path
    this.name = name
    this.durability = durability
    this.#db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  }

  /** Opens (creating if needed) and takes the lock; a second process gets STORE_LOCKED naming the holder. */
  static async open (path: string, opts: { name?: string, durability?: Durability } = {}): Promise<EventStore> {
    const store = new EventStore(path, opts.name ?? path, opts.durability ?? 'durable')
    await openLevelLocked(store.#db, path, {
      agent: store.name,
      locked: (pid) => `agent "${store.name}" is open in process ${pid} (${path} is locked)`,
      failed: (err) => `cannot open the store of agent "${store.name}" at ${path}: ${err.message}`
    })
    try {
      await store.#load()
    } catch (err) {
      await store.#db.close()
      throw err
    }
    return store
  }

  /** Constant time whatever the chain length: the head and identities are single keys. */
  async #load (): Promise<void> {
    for await (const [key, value] of this.#db.iterator({ gte: 'a!', lt: 'a"' })) {
      const id = this.#decode<{ agentId: string, publicKey: Uint8Array }>(key, value)
      this.#identities[Number(key.slice(2))] = { agentId: id.agentId, publicKey: new Uint8Array(id.publicKey) }
    }
    const raw = await this.#db.get('h')
    if (raw === undefined) return
    const head = this.#decode<Head>('h', raw)
    // The head and its event are written in one atomic batch; if the event is missing or differs,
    // the store was damaged after the fact. Say so instead of continuing a shortened chain.
    const ev = await this.#db.get(seqKey(head.seq))
    if (ev === undefined) this.#corrupt(seqKey(head.seq), `the head names event #${head.seq}, which is missing`)
    const event = this.#decodeEvent(seqKey(head.seq), ev!)
    if (eventHash(event) !== head.hash) this.#corrupt(seqKey(head.seq), `event #${head.seq} does not hash to the recorded head ${head.hash}`)
    this.#head = head
  }

  #corrupt (key: string, why: string, cause?: unknown): never {
    throw new PcpError(ErrorCodes.STORE_CORRUPTED, `store of agent "${this.name}" is damaged at key ${key}: ${why}`, { agent: this.name, key, file: this.path, cause })
  }

  #decode<T> (key: string, value: Uint8Array): T {
    try { return decodeValue<T>(value) } catch (err) { return this.#corrupt(key, `undecodable value (${(err as Error).message})`, err) }
  }

  #decodeEvent (key: string, value: Uint8Array): AissEvent {
    try { return decodeRecord(value, this.#identities.map((i) => i.agentId)) } catch (err) { return this.#corrupt(key, (err as Error).message, err) }
  }

  get head (): Head | null { return this.#head }
  get identities (): readonly StoredIdentity[] { return this.#identities }
  get closed (): boolean { return this.#closed }

  /** Registers an identity of this chain (the first one, or the next after a rotation); returns its index. */
  async addIdentity (id: StoredIdentity): Promise<number> {
    const known = this.#identities.findIndex((i) => i.agentId === id.agentId)
    if (known >= 0) return known
    const index = this.#identities.length
    await this.#db.put('a!' + index, encodeValue({ agentId: id.agentId, publicKey: id.publicKey }), { sync: true })
    this.#identities[index] = id
    return index
  }

  /**
   * Queues events for the next batch. The caller must have chained them onto the current head; the
   * promise resolves once they are written (and fsynced in durable mode). `meta` slots go in the same batch.
   */
  append (items: AppendItem[], opts: { meta?: Record<string, unknown> } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${this.name}" is closed`, { agent: this.name }))
    const ops: Array<{ type: 'put', key: string, value: Uint8Array }> = []
    const index = new Map<string, number[]>()
    let seq = this.#head ? this.#head.seq : -1
    let head = this.#head!
    for (const { event, hash, agentIndex } of items) {
      seq++
      const record = encodeRecord(event, agentIndex)
      this.#bytesWritten += record.length
      ops.push({ type: 'put', key: seqKey(seq), value: record })
      for (const prefix of indexPrefixes(event)) {
        const list = index.get(prefix)
        if (list) list.push(seq); else index.set(prefix, [seq])
      }
      head = { seq, hash, timestamp: event.timestamp, agentIndex }
    }
    // Meta slots written with the events, atomically (an import and its record: runtime/reference-history.ts).
    for (const [name, value] of Object.entries(opts.meta ?? {})) ops.push({ type: 'put', key: 'm!' + name, value: encodeValue(value) })
    this.#head = head
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, index, head, resolve, reject })
      if (!this.#writing) void this.#flush()
    })
  }

  async #flush (): Promise<void> {
    this.#writing = true
    while (this.#queue.length) {
      const batch = this.#queue.splice(0)
      const ops = batch.flatMap((b) => b.ops)
      const index = new Map<string, number[]>()
      for (const b of batch) {
        for (const [prefix, seqs] of b.index) {
          const list = index.get(prefix)
          if (list) list.push(...seqs); else index.set(prefix, seqs)
        }
      }
      for (const [prefix, seqs] of index) ops.push({ type: 'put', key: prefix + hex16(seqs[0]!), value: encodeValue(seqs) })
      ops.push({ type: 'put', key: 'h', value: encodeValue(batch.at(-1)!.head) })
      try {
        await this.#db.batch(ops, { sync: this.durability === 'durable' || batch.some((b) => b.sync) })
        for (const b of batch) b.resolve()
      } catch (err) {
        // Everything queued after a failed batch chains onto events that never reached the disk:
        // fail those too and rewind the in-memory head to what is really stored.
        const later = this.#queue.splice(0)
        const wrapped = new PcpError(ErrorCodes.STORE_CORRUPTED, `write to the store of agent "${this.name}" failed: ${(err as Error).message}`, { agent: this.name, cause: err })
        for (const b of [...batch, ...later]) b.reject(wrapped)
        const raw = await this.#db.get('h').catch(() => undefined)
        this.#head = raw ? decodeValue<Head>(raw) : null
      }
    }
    this.#writing = false
  }

  /**
   * Resolves once every event appended so far is on disk, in relaxed mode too (a LevelDB sync write
   * covers all earlier writes). rotate() needs it before it destroys the old key.
   */
  sync (): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${this.name}" is closed`, { agent: this.name }))
    const head = this.#head
    if (!head) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops: [], index: new Map(), head, sync: true, resolve, reject })
      if (!this.#writing) void this.#flush()
    })
  }

  /** Waits for every queued write. */
  async flush (): Promise<void> {
    while (this.#writing || this.#queue.length) await new Promise((r) => setImmediate(r))
  }

  async get (seq: number): Promise<AissEvent | undefined> {
    const v = await this.#db.get(seqKey(seq))
    return v === undefined ? undefined : this.#decodeEvent(seqKey(seq), v)
  }

  /** Events in chain order from `from` (inclusive) to `to` (exclusive). */
  async * events (from = 0, to = Infinity): AsyncGenerator<{ seq: number, event: AissEvent }> {
    const opts: { gte: string, lt: string } = { gte: seqKey(from), lt: to === Infinity ? 'e"' : seqKey(to) }
    let expected = from
    for await (const [key, value] of this.#db.iterator(opts)) {
      const seq = this.#inSequence(key, expected++)
      yield { seq, event: this.#decodeEvent(key, value) }
    }
    const last = Math.min(to, (this.#head?.seq ?? -1) + 1)
    if (expected < last) this.#corrupt(seqKey(expected), `event #${expected} is missing (the head is #${this.#head!.seq})`)
  }

  /**
   * Stored records as they are on disk, in chain order from `from` to `to` (exclusive). Their identity
   * index refers to `identities`. The sync agent forwards them without decoding and re-encoding.
   */
  async recordsRange (from: number, to: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    let expected = from
    for await (const [key, value] of this.#db.iterator({ gte: seqKey(from), lt: seqKey(to) })) {
      this.#inSequence(key, expected++)
      out.push(value)
    }
    return out
  }

  /** The seq of an event key met in a range scan where `expected` comes next; a gap means a damaged store. */
  #inSequence (key: string, expected: number): number {
    const seq = parseInt(key.slice(2), 16)
    if (seq !== expected) this.#corrupt(seqKey(expected), `event #${expected} is missing (next stored is #${seq})`)
    return seq
  }

  /** First seq whose timestamp is >= ts: a binary search, as timestamps never decrease along the chain. */
  async seqAtTime (ts: number): Promise<number> {
    let lo = 0; let hi = (this.#head?.seq ?? -1) + 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const ev = await this.get(mid)
      if (!ev) this.#corrupt(seqKey(mid), `event #${mid} is missing`)
      if (ev!.timestamp < ts) lo = mid + 1; else hi = mid
    }
    return lo
  }

  /** Seqs listed under an index prefix, in chain order (or reversed), limited to [from, to). */
  async * #indexed (prefix: string, from: number, to: number, reverse: boolean): AsyncGenerator<number> {
    for await (const [key, value] of this.#db.iterator({ gte: prefix, lt: prefix.slice(0, -1) + '"', reverse })) {
      const seqs = this.#decode<number[]>(key, value)
      for (const seq of reverse ? [...seqs].reverse() : seqs) if (seq >= from && seq < to) yield seq
    }
  }

  /**
   * Search through the indexes: a type, session or peer query reads only that index's keys, and a
   * time range is two binary searches; nothing scans the whole chain.
   */
  async search (q: SearchQuery = {}): Promise<Array<{ seq: number, event: AissEvent }>> {
    const limit = q.limit ?? 100
    const reverse = q.reverse ?? false
    const from = q.after === undefined ? 0 : await this.seqAtTime(q.after)
    const to = q.before === undefined ? (this.#head?.seq ?? -1) + 1 : await this.seqAtTime(q.before)
    let seqs: AsyncIterable<number> | Iterable<number>
    if (q.eventType !== undefined) seqs = this.#indexed('t!' + q.eventType + '!', from, to, reverse)
    else if (q.sessionId !== undefined) seqs = this.#indexed('S!' + q.sessionId + '!', from, to, reverse)
    else if (q.peer !== undefined) seqs = this.#indexed('p!' + q.peer + '!', from, to, reverse)
    else seqs = (function * () { if (reverse) { for (let s = to - 1; s >= from; s--) yield s } else { for (let s = from; s < to; s++) yield s } })()
    const out: Array<{ seq: number, event: AissEvent }> = []
    for await (const seq of seqs) {
      const event = await this.get(seq)
      if (!event) this.#corrupt(seqKey(seq), `an index names event #${seq}, which is missing`)
      if (q.sessionId !== undefined && event!.payload.session_id !== q.sessionId) continue
      if (q.peer !== undefined && !PEER_FIELDS.some((f) => event!.payload[f] === q.peer)) continue
      out.push({ seq, event: event! })
      if (out.length >= limit) break
    }
    return out
  }

  async stats (): Promise<{ events: number, bytes: number, sessions: number, rotations: number, identities: number }> {
    let sessions = 0; let last = ''
    for await (const key of this.#db.keys({ gte: 'S!', lt: 'S"' })) {
      const id = key.slice(2, key.lastIndexOf('!'))
      if (id !== last) { sessions++; last = id }
    }
    let rotations = 0
    for await (const _ of this.#indexed('t!' + ROTATION_EVENT_TYPE + '!', 0, Infinity, false)) rotations++
    const bytes = await this.#approximateSize()
    return { events: (this.#head?.seq ?? -1) + 1, bytes, sessions, rotations, identities: this.#identities.length }
  }

  async #approximateSize (): Promise<number> {
    const db = this.#db as unknown as { approximateSize?: (a: string, b: string) => Promise<number> }
    const onDisk = typeof db.approximateSize === 'function' ? await db.approximateSize('\u0000', '\uffff').catch(() => 0) : 0
    return onDisk || this.#bytesWritten
  }

  /** Small typed key/value slots for other modules (sync cursors, settings). */
  async getMeta<T> (name: string): Promise<T | undefined> {
    const v = await this.#db.get('m!' + name)
    return v === undefined ? undefined : this.#decode<T>('m!' + name, v)
  }

  async putMeta (name: string, value: unknown): Promise<void> {
    await this.#db.put('m!' + name, encodeValue(value), { sync: this.durability === 'durable' })
  }

  async close (): Promise<void> {
    if (this.#closed) return
    await this.flush()
    this.#closed = true
    await closeLevelLocked(this.#db, this.path)
  }
}

