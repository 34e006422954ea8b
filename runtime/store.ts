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
// Here: the store's life (open, close), its identities and repair reports, and the failure state with
// its recovery, which must see all of it at once. Beside it: writing (store-write.ts: the group-commit
// queue, the heads, the fsyncs), what one batch writes (store-batch.ts), reading (store-read.ts),
// opening's state (store-load.ts), indexes and search (store-search.ts), inspection (store-inspect.ts).
import { Level } from 'level'
import { openLevelLocked, closeLevelLocked } from './level-open.js'
import { PcpError, ErrorCodes } from './errors.js'
import { writeError, noSpaceError, spaceShortfall } from './store-space.js'
import { decodeRecord, encodeValue, decodeValue } from './record.js'
import { setAsideEvents, type RepairReport } from './store-repair.js'
import { serveInspection, type InspectionServer } from './store-inspect.js'
import type { SearchQuery } from './store-search.js'
import { StoreReader } from './store-read.js'
import { loadState, repairHole } from './store-load.js'
import type { AppendItem, Head } from './store-batch.js'
import { WriteQueue, checkDurability, storeClosed, type Durability } from './store-write.js'
import type { AissEvent } from './types.js'

export type { SearchQuery } from './store-search.js'
export { DEFAULT_SYNC_INTERVAL_MS, type Durability } from './store-write.js'
export type { Head, AppendItem } from './store-batch.js'
export interface StoredIdentity { agentId: string, publicKey: Uint8Array }

export class EventStore {
  readonly path: string
  readonly name: string
  readonly durability: Durability
  /** In 'interval' mode, the longest an acknowledged write waits for its fsync to start; else null. */
  readonly syncIntervalMs: number | null
  #db: Level<string, Uint8Array>
  #identities: StoredIdentity[] = []
  #closed = false
  // Set by a write error (or a disk too full at open): every write is refused with it until recover().
  #failure: PcpError | null = null
  #recovering: Promise<void> | null = null
  #retryAt = 0
  #backoffMs = 0
  #epoch = 0
  #repairs: RepairReport[] = []
  #repaired: RepairReport | null = null
  #inspector: InspectionServer | null = null
  // The group-commit queue and the heads (runtime/store-write.ts): in memory, written, durable.
  readonly #writer: WriteQueue

  private constructor (path: string, name: string, durability: Durability, syncIntervalMs?: number) {
    this.path = path
    this.name = name
    this.durability = durability
    this.syncIntervalMs = checkDurability(durability, syncIntervalMs)
    this.#db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.#writer = new WriteQueue({
      name,
      db: () => this.#db,
      closed: () => this.#closed,
      failure: () => this.#failure,
      failed: (err) => (this.#failure = writeError(`write to the store of agent "${this.name}" failed`, this.path, err, { agent: this.name })),
      recover: () => this.recover()
    }, durability, this.syncIntervalMs)
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
      decodeEvent: (key, value, ids) => this.#decodeEvent(key, value, ids),
      corrupt: (key, why) => this.#corrupt(key, why)
    })
    this.#identities = s.identities
    this.#repairs = s.repairs
    this.#writer.restore(s.head, s.durable)
  }

  /** A hole after the last completed fsync is cut out at open (runtime/store-load.ts). */
  async #repairHole (): Promise<void> {
    const done = await repairHole(this.#db, { identities: this.#identities, repairs: this.#repairs, head: this.#writer.head, durable: this.#writer.durable }, this)
    if (done === null) return
    this.#repairs.push(done.report)
    this.#repaired = done.report
    this.#writer.restore(done.head, done.durable)
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

  /** `agentIds`: while loading, the identities read so far. */
  #decodeEvent (key: string, value: Uint8Array, agentIds = this.#agentIds()): AissEvent {
    try { return decodeRecord(value, agentIds) } catch (err) { return this.#corrupt(key, (err as Error).message, err) }
  }

  get head (): Head | null { return this.#writer.head }
  /** The head as last written to LevelDB (head may be ahead of it while a batch is queued). */
  get writtenHead (): Head | null { return this.#writer.written }
  /** Every event up to this seq is covered by a completed fsync (-1: none yet). */
  get durableSeq (): number { return this.#writer.durable }
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
    if (this.#closed) return Promise.reject(storeClosed(this.name))
    if (this.#failure === null) return Promise.resolve()
    return (this.#recovering ??= this.#reopen().finally(() => { this.#recovering = null }))
  }

  async #reopen (): Promise<void> {
    while (this.#writer.writing) await new Promise((r) => setImmediate(r))
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
      this.#writer.restore(null)
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

  /** Registers an identity of this chain (the first one, or the next after a rotation); returns its index. */
  async addIdentity (id: StoredIdentity): Promise<number> {
    const known = this.#identities.findIndex((i) => i.agentId === id.agentId)
    if (known >= 0) return known
    const index = this.#identities.length
    await this.#writer.put('a!' + index, encodeValue({ agentId: id.agentId, publicKey: id.publicKey }), true)
    this.#identities[index] = id
    return index
  }

  /**
   * Queues events for the next batch. The caller must have chained them onto the current head; the
   * promise resolves once they are written (and fsynced in durable mode). `meta` slots go in the same batch.
   */
  append (items: AppendItem[], opts: { meta?: Record<string, unknown> } = {}): Promise<void> { return this.#writer.append(items, this.#repairs, opts.meta) }

  /**
   * Resolves once every event appended so far is on disk, in relaxed mode too (a LevelDB sync write
   * covers all earlier writes). rotate() needs it before it destroys the old key.
   */
  sync (): Promise<void> { return this.#writer.sync() }

  /** Waits for every queued write. */
  flush (): Promise<void> { return this.#writer.idle() }

  // Reads (runtime/store-read.ts) see the current database and head through these.
  readonly #reader = new StoreReader({
    db: () => this.#db,
    settled: () => this.#settled(),
    reopening: () => this.#recovering !== null,
    count: () => (this.#writer.head?.seq ?? -1) + 1,
    writtenCount: () => (this.#writer.written?.seq ?? -1) + 1,
    identityCount: () => this.#identities.length,
    bytesWritten: () => this.#writer.bytesWritten,
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
    await this.#writer.put('m!' + name, encodeValue(value))
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
    const head = this.#writer.head
    if (head && this.#failure === null) {
      try {
        if (this.#writer.durable < head.seq) await this.sync()
        if (this.#writer.diskDurable < head.seq) await this.sync()
      } catch (err) { failed = err }
    }
    this.#closed = true
    this.#writer.stop()
    await this.#inspector?.close()
    await closeLevelLocked(this.#db, this.path)
    if (failed !== undefined) throw failed
  }
}
