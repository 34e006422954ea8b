// The device store: one LevelDB per agent (agents/<name>/store), so each robot process locks only its
// own agents. Keys (all strings, so a chain reads back in order with a plain range scan):
//   h                       head: { seq, hash, timestamp, agentIndex, durable }, in the SAME batch as its event
//                           (durable: every event up to that seq was covered by a completed fsync)
//   a!<n>                   identity #n of this chain ({ agentId, publicKey }); several after rotations
//   e!<seq:16 hex>          the event record (runtime/record.ts)
//   t!<type>!<seq:16 hex>   the seqs of one batch's events of that payload.event_type
//   S!<session>!<seq>       likewise by payload.session_id;   p!<peer>!<seq>   by peer agent
// Appends go through one group-commit queue: every stamp waiting while a batch is being written goes
// into the next batch, written with sync: true by default, so each acknowledged event is on disk.
// Each key in a LevelDB batch costs ~10 µs here, so an index key covers all of a batch's events that
// share it (about one key per event in all, instead of five). Time needs no index: the Agent keeps
// timestamps non-decreasing along the chain, so a time range is a binary search over seq.
// A write error (a full disk, an I/O error) stops all writes until the database has been closed and
// reopened and the head re-read from disk (recover()): LevelDB accepts writes after a failed one that
// do not survive a reopen (issue 13 #4; runtime/store-space.ts has the rules and the reserve file).
// Relaxed mode loses at most what was stamped since the last fsync (a sync batch, a rotation, close()):
// close() fsyncs, then writes the head with durable = its own seq (the clean-close marker), so the next
// open needs no scan; after a crash open scans the keys after `durable` and cuts a hole back to the
// gapless prefix (runtime/store-repair.ts).
import { Level } from 'level'
import { openLevelLocked, closeLevelLocked, writeBatch } from './level-open.js'
import { PcpError, ErrorCodes } from './errors.js'
import { writeError, noSpaceError, spaceShortfall } from './store-space.js'
import { encodeRecord, decodeRecord, encodeValue, decodeValue } from './record.js'
import { eventHash } from './event.js'
import { ROTATION_EVENT_TYPE } from './rotation.js'
import { findHole, setAside, setAsideEvents, seqKey, hex16, reportKey, REPAIR_EVENT_TYPE, type RepairReport } from './store-repair.js'
import { serveInspection, type InspectionServer } from './store-inspect.js'
import { indexPrefixes, search, seqAtTime, type IndexedSource, type SearchQuery } from './store-search.js'
import type { AissEvent } from './types.js'

export type { SearchQuery } from './store-search.js'

/** 'durable': every batch fsynced. 'relaxed': fsynced only when asked (sync(), a rotation, close()).
 *  'interval': like relaxed, plus an fsync at most every syncIntervalMs and at least once within
 *  syncIntervalMs of any unsynced write (group commit over time: an SD card sees one flush a second,
 *  not one per reading; a power cut loses at most the events written in the last syncIntervalMs plus
 *  the duration of one fsync). */
export type Durability = 'durable' | 'relaxed' | 'interval'
export const DEFAULT_SYNC_INTERVAL_MS = 1000

export interface Head { seq: number, hash: string, timestamp: number, agentIndex: number }
export interface StoredIdentity { agentId: string, publicKey: Uint8Array }

export interface AppendItem {
  event: AissEvent
  hash: string
  agentIndex: number
  /** The raw signature `event.signature` encodes, when the caller has it (spares the record a base64 round trip). */
  signature?: Uint8Array
}

type Put = { type: 'put', key: string, value: Uint8Array }
/** One queued write: an append (with its index entries and head) or a single key (identity, meta). */
interface Write { ops: Put[], index?: Map<string, number[]>, head?: Head, sync?: boolean, resolve: () => void, reject: (e: unknown) => void }

export class EventStore {
  readonly path: string
  readonly name: string
  readonly durability: Durability
  /** In 'interval' mode, the longest an acknowledged write waits for its fsync to start; else null. */
  readonly syncIntervalMs: number | null
  #db: Level<string, Uint8Array>
  #head: Head | null = null
  // The head as last written: what reads trust while a failed write has left #head ahead of the disk.
  #written: Head | null = null
  #identities: StoredIdentity[] = []
  #queue: Write[] = []
  #writing = false
  #closed = false
  #bytesWritten = 0
  // Set by a write error (or a disk too full at open): every write is refused with it until recover().
  #failure: PcpError | null = null
  #recovering: Promise<void> | null = null
  #retryAt = 0
  #backoffMs = 0
  #epoch = 0
  // Every event up to this seq is covered by a completed fsync; and the value in the head on disk.
  #durable = -1
  #diskDurable = -1
  #repairs: RepairReport[] = []
  #repaired: RepairReport | null = null
  #inspector: InspectionServer | null = null
  // 'interval' mode: when the last fsync started (performance.now()), and the timer of the next one.
  #lastSyncStart = 0
  #syncTimer: NodeJS.Timeout | undefined

  private constructor (path: string, name: string, durability: Durability, syncIntervalMs?: number) {
    this.path = path
    this.name = name
    if (durability !== 'durable' && durability !== 'relaxed' && durability !== 'interval') throw new RangeError(`"durability" expected 'durable', 'relaxed' or 'interval', got ${String(durability)}`)
    if (syncIntervalMs !== undefined && (!Number.isFinite(syncIntervalMs) || syncIntervalMs <= 0)) throw new RangeError(`"syncIntervalMs" expected a period in ms > 0, got ${String(syncIntervalMs)}`)
    this.durability = durability
    this.syncIntervalMs = durability === 'interval' ? syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS : null
    this.#db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  }

  /** Opens (creating if needed) and takes the lock; a second process gets STORE_LOCKED naming the holder. */
  static async open (path: string, opts: { name?: string, durability?: Durability, syncIntervalMs?: number, inspect?: boolean } = {}): Promise<EventStore> {
    const store = new EventStore(path, opts.name ?? path, opts.durability ?? 'durable', opts.syncIntervalMs)
    const short = await openLevelLocked(store.#db, path, store.#openMessages())
    try {
      await store.#load()
      if (short === 0) await store.#repairHole()
    } catch (err) {
      await store.#db.close()
      throw err
    }
    // Readable, but refusing writes until there is room for the reserve again.
    if (short > 0) store.#failure = store.#noSpace(short)
    // Read-only access for `pcp history/export` while this process holds the lock (store-inspect.ts).
    if (opts.inspect !== false) store.#inspector = await serveInspection(store)
    return store
  }

  #openMessages (): Parameters<typeof openLevelLocked>[2] {
    return {
      agent: this.name,
      locked: (pid) => `agent "${this.name}" is open in process ${pid} (${this.path} is locked)`,
      failed: (err) => `cannot open the store of agent "${this.name}" at ${this.path}: ${err.message}`
    }
  }

  #noSpace (short: number): PcpError {
    return noSpaceError(`the store of agent "${this.name}" takes no writes`, this.path, short, { agent: this.name })
  }

  /** Constant time whatever the chain length: the head and identities are single keys. */
  async #load (): Promise<void> {
    for await (const [key, value] of this.#db.iterator({ gte: 'a!', lt: 'a"' })) {
      const id = this.#decode<{ agentId: string, publicKey: Uint8Array }>(key, value)
      this.#identities[Number(key.slice(2))] = { agentId: id.agentId, publicKey: new Uint8Array(id.publicKey) }
    }
    for await (const [key, value] of this.#db.iterator({ gte: 'r!', lt: 'r"' })) this.#repairs.push(this.#decode<RepairReport>(key, value))
    const raw = await this.#db.get('h')
    if (raw === undefined) return
    const { durable, ...head } = this.#decode<Head & { durable?: number }>('h', raw)
    // The head and its event are written in one atomic batch; if the event is missing or differs,
    // the store was damaged after the fact. Say so instead of continuing a shortened chain.
    const ev = await this.#db.get(seqKey(head.seq))
    if (ev === undefined) this.#corrupt(seqKey(head.seq), `the head names event #${head.seq}, which is missing`)
    const event = this.#decodeEvent(seqKey(head.seq), ev!)
    if (eventHash(event) !== head.hash) this.#corrupt(seqKey(head.seq), `event #${head.seq} does not hash to the recorded head ${head.hash}`)
    this.#head = this.#written = head
    // A store from before `durable` was kept: scanned once, whole.
    this.#durable = this.#diskDurable = durable ?? -1
  }

  /**
   * Unless the head says every event is durable (a clean close): the keys after the last fsync must be
   * gapless, or the events after the first gap are set aside and the head cut back before it.
   */
  async #repairHole (): Promise<void> {
    const head = this.#head
    if (!head || this.#durable >= head.seq) return
    const hole = await findHole(this.#db, this.#durable + 1, head.seq)
    if (!hole) return
    const n = this.#repairs.length
    let done: Awaited<ReturnType<typeof setAside>>
    try {
      done = await setAside(this.#db, { n, ...hole, previousHead: { seq: head.seq, hash: head.hash }, agentIds: this.#identities.map((i) => i.agentId), durable: this.#durable })
    } catch (err) {
      // Nothing changed (one atomic batch); the next open tries again.
      throw writeError(`cannot set aside the events after the hole at event #${hole.lostFrom} in the store of agent "${this.name}"`, this.path, err, { agent: this.name, index: hole.lostFrom })
    }
    const { report, head: cut } = done
    this.#repairs.push(report)
    this.#repaired = report
    this.#head = this.#written = cut
    this.#durable = this.#diskDurable = Math.min(this.#durable, cut?.seq ?? -1)
    process.emitWarning(`store of agent "${this.name}" (${this.path}) came back from a power cut with a hole at event #${report.lostFrom}: ` +
      `${report.setAside.length} later events (#${report.setAside[0]?.seq ?? report.lostFrom}-#${head.seq}) set aside in quarantine ${n}; the chain continues after #${report.lostFrom - 1}`, { code: 'PCP_STORE_HOLE_REPAIRED' })
  }

  #corrupt (key: string, why: string, cause?: unknown): never {
    throw new PcpError(ErrorCodes.STORE_CORRUPTED, `store of agent "${this.name}" is damaged at key ${key}: ${why}`, { agent: this.name, key, file: this.path, cause })
  }

  #decode<T> (key: string, value: Uint8Array): T {
    try { return decodeValue<T>(value) } catch (err) { return this.#corrupt(key, `undecodable value (${(err as Error).message})`, err) }
  }

  // The identity list records refer to, rebuilt only when an identity is added (not per decoded event).
  #ids: string[] = []
  #agentIds (): string[] {
    if (this.#ids.length !== this.#identities.length) this.#ids = this.#identities.map((i) => i.agentId)
    return this.#ids
  }

  #decodeEvent (key: string, value: Uint8Array): AissEvent {
    try { return decodeRecord(value, this.#agentIds()) } catch (err) { return this.#corrupt(key, (err as Error).message, err) }
  }

  get head (): Head | null { return this.#head }
  /** The head as last written to LevelDB (head may be ahead of it while a batch is queued). */
  get writtenHead (): Head | null { return this.#written }
  /** Every event up to this seq is covered by a completed fsync (-1: none yet). */
  get durableSeq (): number { return this.#durable }
  get identities (): readonly StoredIdentity[] { return this.#identities }
  get closed (): boolean { return this.#closed }
  /** The error every write is refused with until recover() succeeds; null while writes are accepted. */
  get failure (): PcpError | null { return this.#failure }
  /** Bumped by every reopen: a head read before it may be stale. */
  get epoch (): number { return this.#epoch }
  /** Every hole repair this store has had (runtime/store-repair.ts), oldest first. */
  get repairs (): readonly RepairReport[] { return this.#repairs }
  /** The repair this open made, if it found a hole. */
  get repaired (): RepairReport | null { return this.#repaired }
  /** Repairs whose REPAIR_EVENT_TYPE event is not in the chain yet: the Agent stamps them at open. */
  get unrecordedRepairs (): RepairReport[] { return this.#repairs.filter((r) => r.recordedAt === null) }

  /** The events repair #n set aside, in chain order, with their hashes. */
  async * setAsideEvents (n: number): AsyncGenerator<{ seq: number, event: AissEvent, hash: string }> {
    await this.#settled()
    yield * setAsideEvents(this.#db, n, this.#identities.map((i) => i.agentId))
  }

  /**
   * After a write error: closes and reopens the database (freeing the reserve for LevelDB's log replay
   * if space is short) and re-reads the head and identities from disk. Rejects, and writes stay refused,
   * while there is not enough free space (STORE_NO_SPACE, checked before the reopen) or the reopen fails
   * (then retried no sooner than a growing backoff). Concurrent callers share one attempt.
   */
  recover (): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${this.name}" is closed`, { agent: this.name }))
    if (this.#failure === null) return Promise.resolve()
    return (this.#recovering ??= this.#reopen().finally(() => { this.#recovering = null }))
  }

  async #reopen (): Promise<void> {
    while (this.#writing) await new Promise((r) => setImmediate(r))
    if (this.#failure!.code === ErrorCodes.STORE_NO_SPACE) {
      const short = await spaceShortfall(this.path)
      if (short > 0) throw (this.#failure = this.#noSpace(short))
    } else if (Date.now() < this.#retryAt) {
      throw this.#failure!
    }
    try {
      await this.#db.close().catch(() => {})
      const db = new Level<string, Uint8Array>(this.path, { keyEncoding: 'utf8', valueEncoding: 'view' })
      const short = await openLevelLocked(db, this.path, this.#openMessages())
      this.#db = db
      this.#identities = []
      this.#ids = []
      this.#repairs = []
      this.#head = this.#written = null
      this.#epoch++
      await this.#load()
      if (short > 0) throw this.#noSpace(short)
      await this.#repairHole()
    } catch (err) {
      this.#retryAt = Date.now() + (this.#backoffMs = Math.min(Math.max(250, this.#backoffMs * 2), 10_000))
      throw (this.#failure = err instanceof PcpError ? err : writeError(`cannot reopen the store of agent "${this.name}"`, this.path, err, { agent: this.name }))
    }
    this.#failure = null
    this.#backoffMs = 0
  }

  /** Waits out a reopen in progress, so a read does not meet the closed database. */
  async #settled (): Promise<void> {
    if (this.#recovering) await this.#recovering.catch(() => {})
  }

  /** Queues a write of single keys (not an append) through the same ordered queue. */
  async #put (key: string, value: Uint8Array, sync?: boolean): Promise<void> {
    if (this.#failure) await this.recover()
    return new Promise((resolve, reject) => this.#enqueue({ ops: [{ type: 'put', key, value }], sync, resolve, reject }))
  }

  #enqueue (w: Write): void {
    if (this.#closed) return w.reject(new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${this.name}" is closed`, { agent: this.name }))
    if (this.#failure) return w.reject(this.#failure)
    this.#queue.push(w)
    if (!this.#writing) void this.#flush()
  }

  /** Registers an identity of this chain (the first one, or the next after a rotation); returns its index. */
  async addIdentity (id: StoredIdentity): Promise<number> {
    const known = this.#identities.findIndex((i) => i.agentId === id.agentId)
    if (known >= 0) return known
    const index = this.#identities.length
    await this.#put('a!' + index, encodeValue({ agentId: id.agentId, publicKey: id.publicKey }), true)
    this.#identities[index] = id
    return index
  }

  /**
   * Queues events for the next batch. The caller must have chained them onto the current head; the
   * promise resolves once they are written (and fsynced in durable mode). `meta` slots go in the same batch.
   */
  append (items: AppendItem[], opts: { meta?: Record<string, unknown> } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${this.name}" is closed`, { agent: this.name }))
    if (this.#failure) return Promise.reject(this.#failure)
    // A cheap guard against a caller holding a head from before a reopen: never write a broken link.
    const first = items[0]?.event
    if (first && this.#head && first.previous_hash !== this.#head.hash) {
      return Promise.reject(new PcpError(ErrorCodes.CHAIN_LINK_BROKEN, `store of agent "${this.name}": event #${this.#head.seq + 1} does not chain onto the stored head ${this.#head.hash}; not written`,
        { agent: this.name, index: this.#head.seq + 1, field: 'previous_hash', expected: this.#head.hash, actual: first.previous_hash }))
    }
    const ops: Put[] = []
    const index = new Map<string, number[]>()
    let seq = this.#head ? this.#head.seq : -1
    let head = this.#head!
    const recorded: Array<[RepairReport, number]> = []
    for (const { event, hash, agentIndex, signature } of items) {
      seq++
      // The event that records a repair marks its report, atomically with it.
      if (event.payload.event_type === REPAIR_EVENT_TYPE && this.#repairs.length) {
        const r = this.#repairs.find((r) => r.recordedAt === null && r.n === event.payload.repair)
        if (r) { recorded.push([r, seq]); ops.push({ type: 'put', key: reportKey(r.n), value: encodeValue({ ...r, recordedAt: seq }) }) }
      }
      const record = encodeRecord(event, agentIndex, signature)
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
    const done = new Promise<void>((resolve, reject) => this.#enqueue({ ops, index, head, resolve, reject }))
    if (recorded.length === 0) return done
    return done.then(() => { for (const [r, at] of recorded) r.recordedAt = at })
  }

  async #flush (): Promise<void> {
    this.#writing = true
    while (this.#queue.length) {
      const batch = this.#queue.splice(0)
      if (this.#failure) { for (const b of batch) b.reject(this.#failure); continue }
      const ops = batch.flatMap((b) => b.ops)
      const index = new Map<string, number[]>()
      let head: Head | undefined
      for (const b of batch) {
        if (b.head) head = b.head
        for (const [prefix, seqs] of b.index ?? []) {
          const list = index.get(prefix)
          if (list) list.push(...seqs); else index.set(prefix, seqs)
        }
      }
      for (const [prefix, seqs] of index) ops.push({ type: 'put', key: prefix + hex16(seqs[0]!), value: encodeValue(seqs) })
      // `durable` is what a COMPLETED fsync covered: this batch's own fsync may be cut half done.
      if (head) ops.push({ type: 'put', key: 'h', value: encodeValue({ ...head, durable: this.#durable }) })
      const sync = this.durability === 'durable' || batch.some((b) => b.sync === true)
      const started = performance.now()
      try {
        await writeBatch(this.#db, ops, sync)
        if (head) { this.#written = head; this.#diskDurable = this.#durable }
        if (sync) { this.#durable = this.#written?.seq ?? -1; this.#lastSyncStart = started } else this.#armIntervalSync()
        for (const b of batch) b.resolve()
      } catch (err) {
        // Nothing more is written until recover(): what LevelDB accepts after a failed write may not
        // survive a reopen, and everything queued chains onto events that never reached the disk.
        // The in-memory head is unknown until then; recover() re-reads it.
        this.#head = this.#written
        this.#failure = writeError(`write to the store of agent "${this.name}" failed`, this.path, err, { agent: this.name })
        for (const b of [...batch, ...this.#queue.splice(0)]) b.reject(this.#failure)
      }
    }
    this.#writing = false
  }

  /**
   * 'interval' mode: an unsynced write gets an fsync that starts no later than syncIntervalMs after the
   * previous fsync started (so at most syncIntervalMs after the write itself, which came after it).
   * One timer at a time; it only queues a sync(), so the fsync stays in the write queue's order.
   */
  #armIntervalSync (): void {
    if (this.syncIntervalMs === null || this.#syncTimer !== undefined || this.#closed) return
    const wait = Math.max(0, this.#lastSyncStart + this.syncIntervalMs - performance.now())
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined
      // A failed fsync sets #failure; the next stamp reports it (and recovers), so nothing is lost silently here.
      if (!this.#closed && this.#durable < (this.#written?.seq ?? -1)) this.sync().catch(() => {})
    }, wait)
    // A script that has finished may exit: nothing acknowledged is lost on a process exit (page cache).
    this.#syncTimer.unref()
  }

  /**
   * Resolves once every event appended so far is on disk, in relaxed mode too (a LevelDB sync write
   * covers all earlier writes). rotate() needs it before it destroys the old key.
   */
  sync (): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${this.name}" is closed`, { agent: this.name }))
    // After a write error nothing unsynced is trusted: the reopen makes what survived durable (LevelDB
    // writes the replayed log into a synced table), so a device no one stamps on still catches up.
    if (this.#failure) return this.recover().then(() => this.sync())
    const head = this.#head
    if (!head) return Promise.resolve()
    return new Promise((resolve, reject) => this.#enqueue({ ops: [], head, sync: true, resolve, reject }))
  }

  /** Waits for every queued write. */
  async flush (): Promise<void> {
    while (this.#writing || this.#queue.length) await new Promise((r) => setImmediate(r))
  }

  async get (seq: number): Promise<AissEvent | undefined> {
    if (this.#recovering) await this.#settled()
    const v = await this.#db.get(seqKey(seq))
    return v === undefined ? undefined : this.#decodeEvent(seqKey(seq), v)
  }

  /** Events in chain order from `from` (inclusive) to `to` (exclusive). */
  async * events (from = 0, to = Infinity): AsyncGenerator<{ seq: number, event: AissEvent }> {
    await this.#settled()
    const opts: { gte: string, lt: string } = { gte: seqKey(from), lt: to === Infinity ? 'e"' : seqKey(to) }
    let expected = from
    // nextv: one native call per 256 entries instead of a promise per entry (chain verify reads here).
    const it = this.#db.iterator(opts)
    try {
      for (;;) {
        const entries = await it.nextv(256)
        if (entries.length === 0) break
        for (const [key, value] of entries) {
          const seq = this.#inSequence(key, expected++)
          yield { seq, event: this.#decodeEvent(key, value) }
        }
      }
    } finally { await it.close() }
    const last = Math.min(to, (this.#head?.seq ?? -1) + 1)
    if (expected < last) this.#corrupt(seqKey(expected), `event #${expected} is missing (the head is #${this.#head!.seq})`)
  }

  /**
   * Stored records as they are on disk, in chain order from `from` to `to` (exclusive). Their identity
   * index refers to `identities`. The sync agent forwards them without decoding and re-encoding.
   */
  async recordsRange (from: number, to: number): Promise<Uint8Array[]> {
    await this.#settled()
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

  /** First seq whose timestamp is >= ts (runtime/store-search.ts). */
  seqAtTime (ts: number): Promise<number> { return seqAtTime(this.#source, ts) }

  /** Search through the indexes (runtime/store-search.ts): nothing scans the whole chain. */
  search (q: SearchQuery = {}): Promise<Array<{ seq: number, event: AissEvent }>> { return search(this.#source, q) }

  readonly #source: IndexedSource = {
    get: (seq) => this.get(seq),
    indexed: (prefix, from, to, reverse) => this.#indexed(prefix, from, to, reverse),
    corrupt: (seq, why) => this.#corrupt(seqKey(seq), why),
    count: () => (this.#head?.seq ?? -1) + 1
  }

  /** Seqs listed under an index prefix, in chain order (or reversed), limited to [from, to). */
  async * #indexed (prefix: string, from: number, to: number, reverse: boolean): AsyncGenerator<number> {
    for await (const [key, value] of this.#db.iterator({ gte: prefix, lt: prefix.slice(0, -1) + '"', reverse })) {
      const seqs = this.#decode<number[]>(key, value)
      for (const seq of reverse ? [...seqs].reverse() : seqs) if (seq >= from && seq < to) yield seq
    }
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
    await this.#settled()
    const v = await this.#db.get('m!' + name)
    return v === undefined ? undefined : this.#decode<T>('m!' + name, v)
  }

  async putMeta (name: string, value: unknown): Promise<void> {
    await this.#put('m!' + name, encodeValue(value))
  }

  /**
   * Every event is durable once this resolves, in relaxed mode too: an fsync, then the head written
   * again with durable = its seq (the clean-close marker, also fsynced: after a cut half-way through an
   * fsync, only an fsync that completed may vouch for the data), so the next open scans nothing.
   */
  async close (): Promise<void> {
    if (this.#closed) return
    await this.#settled()
    await this.flush()
    let failed: unknown
    const head = this.#head
    if (head && this.#failure === null) {
      try {
        if (this.#durable < head.seq) await this.sync()
        if (this.#diskDurable < head.seq) await this.sync()
      } catch (err) { failed = err }
    }
    this.#closed = true
    clearTimeout(this.#syncTimer)
    await this.#inspector?.close()
    await closeLevelLocked(this.#db, this.path)
    if (failed !== undefined) throw failed
  }
}

