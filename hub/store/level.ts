// Over 300 lines (309): not split in issue 19's restructuring, which ran while the store was being changed
// (stamping path, several hubs); the error table and options could leave for a module of their own.
// The hub's chain store on one LevelDB (<data>/store). One hub process per store: LevelDB's lock makes a
// second one fail with STORE_LOCKED. Keys (strings; agent_ids are fixed-length Base58, so ranges work):
//   A!<agentId>                  the agent's record (registry state, keys, head, counters): CBOR
//   e!<agentId>!<seq:16 hex>     one event: runtime/record.ts's record, identity index → record.keys
//   n!<signer agent_id>!<nonce>  seq of the event that used the nonce (replay detection, scoped per
//                                signing agent_id like the verifier's)
//   x!<agentId>!<n:16 hex>       evidence #n of a refused input; the newest `maxEvidence` are kept
// Writes per event: two keys (event + nonce); per batch and agent: one record key. All chains appended
// while a write is in progress share the next LevelDB batch, written with sync: true (group commit), so
// an acknowledged event is on disk and one fsync serves many agents.
// A write error (a full disk: STORE_NO_SPACE, anything else: STORE_WRITE_FAILED) makes the store refuse
// every write until it has closed and reopened the database and re-read the agent records (LevelDB
// accepts writes after a failed one that do not survive a reopen; runtime/store-space.ts). It retries
// by itself with a backoff, so the hub recovers once space returns; listeners see both transitions.
import { openLevelLocked, closeLevelLocked, writeBatch } from '../../runtime/level-open.js'
import { Level } from 'level'
import { PcpError, ErrorCodes } from '../../runtime/errors.js'
import { decodeRecord, encodeValue, decodeValue, storedRecord } from '../../runtime/record.js'
import { writeError, noSpaceError, spaceShortfall } from '../../runtime/store-space.js'
import type { AissEvent } from '../../runtime/types.js'
import type { AgentRecord, ChainAppend, Evidence, HubStore } from './types.js'

/** Codes of the hub store beyond runtime's; the lead adds them to runtime/errors.ts ErrorCodes. */
export const HubStoreErrorCodes = {
  STORE_CONFLICT: 'STORE_CONFLICT',
  // PostgreSQL store (hub/store/pg.ts, pg-schema.ts)
  STORE_SCHEMA_NEWER: 'STORE_SCHEMA_NEWER', // the database's schema is newer than this hub's code
  STORE_MIGRATION_FAILED: 'STORE_MIGRATION_FAILED',
  STORE_UNREACHABLE: 'STORE_UNREACHABLE' // cannot connect to (or query) the database at start
} as const

type Op = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

const hex16 = (n: number): string => n.toString(16).padStart(16, '0')
const eKey = (id: string, seq: number): string => `e!${id}!${hex16(seq)}`
const xKey = (id: string, n: number): string => `x!${id}!${hex16(n)}`

export interface LevelHubStoreOptions {
  /** Evidence entries kept per agent (default 256); older ones are deleted. */
  maxEvidence?: number
  /** Default true: fsync each batch. false only for benchmarks of everything else. */
  sync?: boolean
}

/** What the hub logs and counts (hub/store-health.ts). */
export interface StoreHealthListener {
  /** A write failed, or (`during: 'reopen'`) an attempt to recover did; `first`: writes were accepted until now. */
  failed (err: PcpError, first: boolean, during: 'write' | 'reopen'): void
  /** The store reopened and accepts writes again, `downMs` after the first failure. */
  recovered (downMs: number): void
}

const MAX_RETRY_MS = 5000

export class LevelHubStore implements HubStore {
  readonly path: string
  #db: Level<string, Uint8Array>
  readonly #agents = new Map<string, AgentRecord>()
  readonly #maxEvidence: number
  readonly #sync: boolean
  #queue: Array<{ ops: Op[], resolve: () => void, reject: (e: unknown) => void }> = []
  #writing = false
  #closed = false
  #failure: PcpError | null = null
  #failedAt = 0
  #recovering: Promise<void> | null = null
  #retryTimer: NodeJS.Timeout | undefined
  #backoffMs = 0
  readonly #listeners: StoreHealthListener[] = []

  private constructor (path: string, opts: LevelHubStoreOptions) {
    this.path = path
    this.#db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.#maxEvidence = opts.maxEvidence ?? 256
    this.#sync = opts.sync ?? true
    if (!Number.isInteger(this.#maxEvidence) || this.#maxEvidence < 1) throw new RangeError(`"maxEvidence" expected a positive integer, got ${String(opts.maxEvidence)}`)
  }

  static async open (path: string, opts: LevelHubStoreOptions = {}): Promise<LevelHubStore> {
    const store = new LevelHubStore(path, opts)
    const short = await openLevelLocked(store.#db, path, store.#openMessages())
    await store.#loadAgents()
    // Readable, refusing writes until there is room for the reserve again (and retrying).
    if (short > 0) store.#fail(noSpaceError(`the hub store ${path} takes no writes`, path, short), 'reopen')
    return store
  }

  #openMessages (): Parameters<typeof openLevelLocked>[2] {
    return {
      locked: (pid) => `the hub store ${this.path} is open in process ${pid} (is a hub running?)`,
      failed: (err) => `cannot open the hub store at ${this.path}: ${err.message}`
    }
  }

  async #loadAgents (): Promise<void> {
    this.#agents.clear()
    for await (const [key, value] of this.#db.iterator({ gte: 'A!', lt: 'A"' })) {
      const rec = this.#decodeAgent(key, value)
      this.#agents.set(rec.agentId, rec)
    }
  }

  /** The error writes are refused with until the store has reopened; null while it accepts them. */
  get failure (): PcpError | null { return this.#failure }

  listen (l: StoreHealthListener): void { this.#listeners.push(l) }

  #fail (err: PcpError, during: 'write' | 'reopen'): void {
    const first = this.#failure === null
    if (first) this.#failedAt = Date.now()
    this.#failure = err
    for (const l of this.#listeners) l.failed(err, first, during)
    this.#scheduleRetry()
  }

  #scheduleRetry (): void {
    if (this.#retryTimer || this.#closed) return
    this.#backoffMs = Math.min(Math.max(250, this.#backoffMs * 2), MAX_RETRY_MS)
    this.#retryTimer = setTimeout(() => { this.#retryTimer = undefined; this.recover().catch(() => {}) }, this.#backoffMs)
    this.#retryTimer.unref()
  }

  /**
   * Closes and reopens the database and re-reads every agent record, once there is room (checked first,
   * cheaply, for a full disk). Called by the retry timer; concurrent callers share one attempt.
   */
  recover (): Promise<void> {
    if (this.#failure === null || this.#closed) return Promise.resolve()
    return (this.#recovering ??= this.#reopen().finally(() => { this.#recovering = null }))
  }

  async #reopen (): Promise<void> {
    while (this.#writing) await new Promise((r) => setImmediate(r))
    try {
      if (this.#failure!.code === ErrorCodes.STORE_NO_SPACE) {
        const short = await spaceShortfall(this.path)
        if (short > 0) throw noSpaceError(`the hub store ${this.path} takes no writes`, this.path, short)
      }
      await this.#db.close().catch(() => {})
      const db = new Level<string, Uint8Array>(this.path, { keyEncoding: 'utf8', valueEncoding: 'view' })
      const short = await openLevelLocked(db, this.path, this.#openMessages())
      this.#db = db
      await this.#loadAgents()
      if (short > 0) throw noSpaceError(`the hub store ${this.path} takes no writes`, this.path, short)
    } catch (err) {
      this.#fail(err instanceof PcpError ? err : writeError(`cannot reopen the hub store ${this.path}`, this.path, err), 'reopen')
      throw this.#failure
    }
    this.#failure = null
    this.#backoffMs = 0
    for (const l of this.#listeners) l.recovered(Date.now() - this.#failedAt)
  }

  /** Reads wait out a reopen in progress instead of meeting the closed database. */
  async #settled (): Promise<void> {
    if (this.#recovering) await this.#recovering.catch(() => {})
  }

  /** Byte fields are copied: a decoded view may point into a buffer LevelDB reuses. */
  #decodeAgent (key: string, value: Uint8Array): AgentRecord {
    const rec = this.#decode<AgentRecord>(key, value)
    rec.keys = rec.keys.map((k) => ({ agentId: k.agentId, publicKey: Uint8Array.from(k.publicKey) }))
    return rec
  }

  #decode<T> (key: string, value: Uint8Array): T {
    try { return decodeValue<T>(value) } catch (err) {
      throw new PcpError(ErrorCodes.STORE_CORRUPTED, `hub store ${this.path} is damaged at key ${key}: ${(err as Error).message}`, { key, file: this.path, cause: err })
    }
  }

  agents (): AgentRecord[] { return [...this.#agents.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.agentId < b.agentId ? -1 : 1)) }
  agent (agentId: string): AgentRecord | undefined { return this.#agents.get(agentId) }

  async reload (agentId: string): Promise<AgentRecord | undefined> {
    await this.#settled()
    const raw = await this.#db.get('A!' + agentId)
    if (raw === undefined) { this.#agents.delete(agentId); return undefined }
    const rec = this.#decodeAgent('A!' + agentId, raw)
    this.#agents.set(agentId, rec)
    return rec
  }

  async putAgent (record: AgentRecord, evidence?: Evidence): Promise<void> {
    const ops: Op[] = []
    if (evidence) {
      // The caller counted it: evidenceCount already includes this entry.
      const n = record.evidenceCount - 1
      ops.push({ type: 'put', key: xKey(record.agentId, n), value: encodeValue(evidence) })
      if (n >= this.#maxEvidence) ops.push({ type: 'del', key: xKey(record.agentId, n - this.#maxEvidence) })
    }
    ops.push({ type: 'put', key: 'A!' + record.agentId, value: encodeValue(record) })
    this.#agents.set(record.agentId, record)
    try {
      await this.#write(ops)
    } catch (err) {
      await this.reload(record.agentId).catch(() => {})
      throw err
    }
  }

  async append (items: ChainAppend[]): Promise<void> {
    const ops: Op[] = []
    for (const item of items) {
      const current = this.#agents.get(item.agentId)
      const seq = current?.head?.seq ?? -1
      if (seq !== item.expectedSeq) {
        throw new PcpError(HubStoreErrorCodes.STORE_CONFLICT, `chain ${item.agentId} moved: its head is #${seq}, the append expected #${item.expectedSeq}`,
          { agent: item.agentId, expected: item.expectedSeq, actual: seq })
      }
      let s = seq
      for (const { event, keyIndex, record } of item.events) {
        s++
        ops.push({ type: 'put', key: eKey(item.agentId, s), value: storedRecord(event, keyIndex, record) })
        ops.push({ type: 'put', key: `n!${event.agent_id}!${event.nonce}`, value: encodeValue(s) })
      }
      if (item.record.head?.seq !== s) throw new RangeError(`"record.head.seq" expected ${s} after ${item.events.length} events, got ${item.record.head?.seq}`)
      ops.push({ type: 'put', key: 'A!' + item.agentId, value: encodeValue(item.record) })
    }
    // The in-memory records move at once, as EventStore's head does, so the next batch checks against
    // them; a failed write reloads them from disk.
    for (const item of items) this.#agents.set(item.agentId, item.record)
    try {
      await this.#write(ops)
    } catch (err) {
      for (const item of items) await this.reload(item.agentId).catch(() => {})
      throw err
    }
  }

  async noncesUsed (_chainId: string, pairs: ReadonlyArray<{ signer: string, nonce: string }>): Promise<Array<number | undefined>> {
    if (pairs.length === 0) return []
    await this.#settled()
    const values = await this.#db.getMany(pairs.map((p) => `n!${p.signer}!${p.nonce}`))
    return values.map((v) => v === undefined ? undefined : decodeValue<number>(v))
  }

  async event (agentId: string, seq: number): Promise<AissEvent | undefined> {
    if (this.#recovering) await this.#settled()
    const raw = await this.#db.get(eKey(agentId, seq))
    return raw === undefined ? undefined : this.#decodeEvent(agentId, eKey(agentId, seq), raw)
  }

  #decodeEvent (agentId: string, key: string, raw: Uint8Array): AissEvent {
    const keys = this.#agents.get(agentId)?.keys.map((k) => k.agentId) ?? []
    try { return decodeRecord(raw, keys) } catch (err) {
      throw new PcpError(ErrorCodes.STORE_CORRUPTED, `hub store ${this.path} is damaged at key ${key}: ${(err as Error).message}`, { key, agent: agentId, file: this.path, cause: err })
    }
  }

  async * events (agentId: string, from = 0, to = Infinity): AsyncGenerator<{ seq: number, event: AissEvent }> {
    const end = Math.min(to, this.#agents.get(agentId)?.count ?? 0)
    if (from >= end) return
    await this.#settled()
    let expected = from
    for await (const [key, value] of this.#db.iterator({ gte: eKey(agentId, from), lt: eKey(agentId, end) })) {
      const seq = parseInt(key.slice(key.lastIndexOf('!') + 1), 16)
      if (seq !== expected) throw new PcpError(ErrorCodes.STORE_CORRUPTED, `hub store: event #${expected} of ${agentId} is missing`, { agent: agentId, index: expected })
      expected++
      yield { seq, event: this.#decodeEvent(agentId, key, value) }
    }
  }

  async evidence (agentId: string, limit = 50): Promise<Evidence[]> {
    await this.#settled()
    const out: Evidence[] = []
    for await (const [key, value] of this.#db.iterator({ gte: `x!${agentId}!`, lt: `x!${agentId}"`, reverse: true, limit })) {
      const e = this.#decode<Evidence>(key, value)
      out.push({ ...e, raw: Uint8Array.from(e.raw) })
    }
    return out
  }

  #write (ops: Op[]): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `the hub store ${this.path} is closed`, { file: this.path }))
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject })
      if (!this.#writing) void this.#flush()
    })
  }

  async #flush (): Promise<void> {
    this.#writing = true
    while (this.#queue.length) {
      const batch = this.#queue.splice(0)
      if (this.#failure) { for (const b of batch) b.reject(this.#failure); continue }
      try {
        await writeBatch(this.#db, batch.flatMap((b) => b.ops), this.#sync)
        for (const b of batch) b.resolve()
      } catch (err) {
        // Nothing queued behind it is written either: it would land after a torn log record.
        this.#fail(writeError(`write to the hub store ${this.path} failed`, this.path, err), 'write')
        for (const b of [...batch, ...this.#queue.splice(0)]) b.reject(this.#failure)
      }
    }
    this.#writing = false
  }

  async close (): Promise<void> {
    if (this.#closed) return
    clearTimeout(this.#retryTimer)
    await this.#settled()
    while (this.#writing || this.#queue.length) await new Promise((r) => setImmediate(r))
    this.#closed = true
    clearTimeout(this.#retryTimer)
    await closeLevelLocked(this.#db, this.path)
  }
}
