// Writing the device store (runtime/store.ts has the key layout): one group-commit queue. Every write
// waiting while a batch is being written goes into the next LevelDB batch (runtime/store-batch.ts builds
// it), in queue order, fsynced as the durability mode says. Here are the three heads: in memory (after
// the queued appends), as last written, and `durable`, the newest seq a COMPLETED fsync covered, which
// the store's open relies on after a power cut. The store owns the failure state and recovery: a failed
// write is reported to it, and nothing more is written until it has reopened the database.
import type { Level } from 'level'
import { writeBatch } from './level-open.js'
import { PcpError, ErrorCodes } from './errors.js'
import type { RepairReport } from './store-repair.js'
import { appendOps, groupOps, type AppendItem, type Head, type Write } from './store-batch.js'

/** 'durable': every batch fsynced. 'relaxed': fsynced only when asked (sync(), a rotation, close()).
 *  'interval': like relaxed, plus an fsync at most every syncIntervalMs and at least once within
 *  syncIntervalMs of any unsynced write (group commit over time: an SD card sees one flush a second,
 *  not one per reading; a power cut loses at most the events written in the last syncIntervalMs plus
 *  the duration of one fsync). */
export type Durability = 'durable' | 'relaxed' | 'interval'
export const DEFAULT_SYNC_INTERVAL_MS = 1000

/** Checks a store's durability options; returns its fsync period ('interval' mode) or null. */
export function checkDurability (durability: Durability, syncIntervalMs: number | undefined): number | null {
  if (durability !== 'durable' && durability !== 'relaxed' && durability !== 'interval') throw new RangeError(`"durability" expected 'durable', 'relaxed' or 'interval', got ${String(durability)}`)
  if (syncIntervalMs !== undefined && (!Number.isFinite(syncIntervalMs) || syncIntervalMs <= 0)) throw new RangeError(`"syncIntervalMs" expected a period in ms > 0, got ${String(syncIntervalMs)}`)
  return durability === 'interval' ? syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS : null
}

export function storeClosed (name: string): PcpError {
  return new PcpError(ErrorCodes.STORE_CLOSED, `store of agent "${name}" is closed`, { agent: name })
}

/** What the queue needs of the store: its current database (a reopen replaces it) and its failure state. */
export interface WriteContext {
  /** The store's agent, for messages. */
  readonly name: string
  db (): Level<string, Uint8Array>
  closed (): boolean
  /** The error every write is refused with, or null while writes are accepted. */
  failure (): PcpError | null
  /** A write failed: the store refuses writes until recover(); returns the error to refuse them with. */
  failed (err: unknown): PcpError
  recover (): Promise<void>
}

export class WriteQueue {
  readonly #c: WriteContext
  // Every batch fsynced ('durable'), or only those that ask.
  readonly #syncEvery: boolean
  readonly #syncIntervalMs: number | null
  #queue: Write[] = []
  #writing = false
  #head: Head | null = null
  // The head as last written: what reads trust while a failed write has left #head ahead of the disk.
  #written: Head | null = null
  // Every event up to this seq is covered by a completed fsync; and the value in the head on disk.
  #durable = -1
  #diskDurable = -1
  #bytesWritten = 0
  // 'interval' mode: when the last fsync started (performance.now()), and the timer of the next one.
  #lastSyncStart = 0
  #syncTimer: NodeJS.Timeout | undefined

  constructor (c: WriteContext, durability: Durability, syncIntervalMs: number | null) {
    this.#c = c
    this.#syncEvery = durability === 'durable'
    this.#syncIntervalMs = syncIntervalMs
  }

  get head (): Head | null { return this.#head }
  get written (): Head | null { return this.#written }
  get durable (): number { return this.#durable }
  /** The `durable` the head on disk records. */
  get diskDurable (): number { return this.#diskDurable }
  get bytesWritten (): number { return this.#bytesWritten }
  get writing (): boolean { return this.#writing }

  /** The heads as read back from disk (runtime/store-load.ts); `durable` unchanged if not given. */
  restore (head: Head | null, durable = this.#durable): void {
    this.#head = this.#written = head
    this.#durable = this.#diskDurable = durable
  }

  /** Queues a write of single keys (not an append) through the same ordered queue. */
  async put (key: string, value: Uint8Array, sync?: boolean): Promise<void> {
    if (this.#c.failure()) await this.#c.recover()
    return new Promise((resolve, reject) => this.#enqueue({ ops: [{ type: 'put', key, value }], sync, resolve, reject }))
  }

  /** EventStore.append(); `repairs`: the store's reports, marked recorded once their event is written. */
  append (items: AppendItem[], repairs: readonly RepairReport[], meta: Record<string, unknown> | undefined): Promise<void> {
    if (this.#c.closed()) return Promise.reject(storeClosed(this.#c.name))
    const failure = this.#c.failure()
    if (failure) return Promise.reject(failure)
    // A cheap guard against a caller holding a head from before a reopen: never write a broken link.
    const first = items[0]?.event
    if (first && this.#head && first.previous_hash !== this.#head.hash) {
      const name = this.#c.name
      return Promise.reject(new PcpError(ErrorCodes.CHAIN_LINK_BROKEN, `store of agent "${name}": event #${this.#head.seq + 1} does not chain onto the stored head ${this.#head.hash}; not written`,
        { agent: name, index: this.#head.seq + 1, field: 'previous_hash', expected: this.#head.hash, actual: first.previous_hash }))
    }
    const { ops, index, head, recorded, bytes } = appendOps(items, this.#head, repairs, meta)
    this.#bytesWritten += bytes
    this.#head = head
    const done = new Promise<void>((resolve, reject) => this.#enqueue({ ops, index, ...(head ? { head } : {}), resolve, reject }))
    if (recorded.length === 0) return done
    return done.then(() => { for (const [r, at] of recorded) r.recordedAt = at })
  }

  /** EventStore.sync(). */
  sync (): Promise<void> {
    if (this.#c.closed()) return Promise.reject(storeClosed(this.#c.name))
    // After a write error nothing unsynced is trusted: the reopen makes what survived durable (LevelDB
    // writes the replayed log into a synced table), so a device no one stamps on still catches up.
    if (this.#c.failure()) return this.#c.recover().then(() => this.sync())
    const head = this.#head
    if (!head) return Promise.resolve()
    return new Promise((resolve, reject) => this.#enqueue({ ops: [], head, sync: true, resolve, reject }))
  }

  #enqueue (w: Write): void {
    if (this.#c.closed()) return w.reject(storeClosed(this.#c.name))
    const failure = this.#c.failure()
    if (failure) return w.reject(failure)
    this.#queue.push(w)
    if (!this.#writing) void this.#flush()
  }

  async #flush (): Promise<void> {
    this.#writing = true
    while (this.#queue.length) {
      const batch = this.#queue.splice(0)
      const failure = this.#c.failure()
      if (failure) { for (const b of batch) b.reject(failure); continue }
      const { ops, head } = groupOps(batch, this.#durable)
      const sync = this.#syncEvery || batch.some((b) => b.sync === true)
      const started = performance.now()
      try {
        await writeBatch(this.#c.db(), ops, sync)
        if (head) { this.#written = head; this.#diskDurable = this.#durable }
        if (sync) { this.#durable = this.#written?.seq ?? -1; this.#lastSyncStart = started } else this.#armIntervalSync()
        for (const b of batch) b.resolve()
      } catch (err) {
        // Nothing more is written until recover(): what LevelDB accepts after a failed write may not
        // survive a reopen, and everything queued chains onto events that never reached the disk.
        // The in-memory head is unknown until then; recover() re-reads it.
        this.#head = this.#written
        const failure = this.#c.failed(err)
        for (const b of [...batch, ...this.#queue.splice(0)]) b.reject(failure)
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
    if (this.#syncIntervalMs === null || this.#syncTimer !== undefined || this.#c.closed()) return
    const wait = Math.max(0, this.#lastSyncStart + this.#syncIntervalMs - performance.now())
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined
      // A failed fsync sets the store's failure; the next stamp reports it (and recovers), so nothing is lost silently here.
      if (!this.#c.closed() && this.#durable < (this.#written?.seq ?? -1)) this.sync().catch(() => {})
    }, wait)
    // A script that has finished may exit: nothing acknowledged is lost on a process exit (page cache).
    this.#syncTimer.unref()
  }

  /** Waits for every queued write. */
  async idle (): Promise<void> {
    while (this.#writing || this.#queue.length) await new Promise((r) => setImmediate(r))
  }

  /** At close: no interval fsync after this. */
  stop (): void {
    clearTimeout(this.#syncTimer)
  }
}
