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
// Why ~390 lines: what is left is the state that must change together — the write queue, the heads
// (in memory, written, durable), failure and recovery. The rest lives beside it: reads (store-read.ts),
// what a batch writes (store-batch.ts), opening (store-load.ts), indexes and search (store-search.ts).
import { Level } from 'level'
import { openLevelLocked, closeLevelLocked, writeBatch } from './level-open.js'
import { PcpError, ErrorCodes } from './errors.js'
import { writeError, noSpaceError, spaceShortfall } from './store-space.js'
import { decodeRecord, encodeValue, decodeValue } from './record.js'
import { setAsideEvents, type RepairReport } from './store-repair.js'
import { serveInspection, type InspectionServer } from './store-inspect.js'
import type { SearchQuery } from './store-search.js'
import { StoreReader } from './store-read.js'
import { loadState, repairHole } from './store-load.js'
import { appendOps, groupOps, type AppendItem, type Head, type Write } from './store-batch.js'
import type { AissEvent } from './types.js'

export type { SearchQuery } from './store-search.js'

/** 'durable': every batch fsynced. 'relaxed': fsynced only when asked (sync(), a rotation, close()).
 *  'interval': like relaxed, plus an fsync at most every syncIntervalMs and at least once within
 *  syncIntervalMs of any unsynced write (group commit over time: an SD card sees one flush a second,
 *  not one per reading; a power cut loses at most the events written in the last syncIntervalMs plus
 *  the duration of one fsync). */
export type Durability = 'durable' | 'relaxed' | 'interval'
export const DEFAULT_SYNC_INTERVAL_MS = 1000

export type { Head, AppendItem } from './store-batch.js'
export interface StoredIdentity { agentId: string, publicKey: Uint8Array }

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

  /** Reads identities, repair reports and the head (runtime/store-load.ts). */
  async #load (): Promise<void> {
    const s = await loadState(this.#db, {
      decode: (key, value) => this.#decode(key, value),
      decodeEvent: (key, value, ids) => { try { return decodeRecord(value, ids) } catch (err) { return this.#corrupt(key, (err as Error).message, err) } },
      corrupt: (key, why) => this.#corrupt(key, why)
    })
    this.#identities = s.identities
    this.#repairs = s.repairs
    this.#head = this.#written = s.head
    this.#durable = this.#diskDurable = s.durable
  }

  /** A hole after the last completed fsync is cut out at open (runtime/store-load.ts). */
  async #repairHole (): Promise<void> {
    const done = await repairHole(this.#db, { identities: this.#identities, repairs: this.#repairs, head: this.#head, durable: this.#durable }, this)
    if (done === null) return
    this.#repairs.push(done.report)
    this.#repaired = done.report
    this.#head = this.#written = done.head
    this.#durable = this.#diskDurable = done.durable
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
    const { ops, index, head, recorded, bytes } = appendOps(items, this.#head, this.#repairs, opts.meta)
    this.#bytesWritten += bytes
    this.#head = head
    const done = new Promise<void>((resolve, reject) => this.#enqueue({ ops, index, ...(head ? { head } : {}), resolve, reject }))
    if (recorded.length === 0) return done
    return done.then(() => { for (const [r, at] of recorded) r.recordedAt = at })
  }

  async #flush (): Promise<void> {
    this.#writing = true
    while (this.#queue.length) {
      const batch = this.#queue.splice(0)
      if (this.#failure) { for (const b of batch) b.reject(this.#failure); continue }
      const { ops, head } = groupOps(batch, this.#durable)
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

  // Reads (runtime/store-read.ts) see the current database and head through these.
  readonly #reader = new StoreReader({
    db: () => this.#db,
    settled: () => this.#settled(),
    reopening: () => this.#recovering !== null,
    count: () => (this.#head?.seq ?? -1) + 1,
    writtenCount: () => (this.#written?.seq ?? -1) + 1,
    identityCount: () => this.#identities.length,
    bytesWritten: () => this.#bytesWritten,
    decode: (key, value) => this.#decode(key, value),
    decodeEvent: (key, value) => this.#decodeEvent(key, value),
    corrupt: (key, why) => this.#corrupt(key, why)
  })

  get (seq: number): Promise<AissEvent | undefined> { return this.#reader.get(seq) }
  /** Events in chain order from `from` (inclusive) to `to` (exclusive). */
  events (from = 0, to = Infinity): AsyncGenerator<{ seq: number, event: AissEvent }> { return this.#reader.events(from, to) }
  /**
   * Stored records as they are on disk, in chain order from `from` to `to` (exclusive). Their identity
   * index refers to `identities`. The sync agent forwards them without decoding and re-encoding.
   */
  recordsRange (from: number, to: number): Promise<Uint8Array[]> { return this.#reader.recordsRange(from, to) }
  /** First seq whose timestamp is >= ts: a binary search, as timestamps never decrease along the chain. */
  seqAtTime (ts: number): Promise<number> { return this.#reader.seqAtTime(ts) }
  /** Search through the indexes (runtime/store-search.ts): nothing scans the whole chain. */
  search (q: SearchQuery = {}): Promise<Array<{ seq: number, event: AissEvent }>> { return this.#reader.search(q) }
  stats (): Promise<{ events: number, bytes: number, sessions: number, rotations: number, identities: number }> { return this.#reader.stats() }
  /** Small typed key/value slots for other modules (sync cursors, settings). */
  getMeta<T> (name: string): Promise<T | undefined> { return this.#reader.getMeta<T>(name) }

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

