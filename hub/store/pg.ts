// Over 300 lines: not split in issue 19's restructuring, which ran while the PostgreSQL store was being
// changed for several hubs; the seam for later is the write queue (group commit) apart from the reads.
// The hub's chain store on PostgreSQL (`pcp hub start --store postgres://…`), for hubs that share one
// store (docs/scaling.md). Tables (hub/store/pg-schema.ts): pcp_agents (one row per chain: head_seq and
// the same CBOR record the LevelDB store keeps), pcp_events (agent_id, seq, the record bytes of the signed
// event), pcp_nonces (unique per signing agent_id and nonce), pcp_evidence (bounded per agent).
// Writes go through one FIFO queue: everything queued while a write is in flight leaves as ONE call of
// pcp_write (one round trip, one commit: group commit, as in the LevelDB store), so the appends of one
// agent reach the database in the order ingest made them. Each agent row in it is a compare-and-set on
// head_seq: when another hub moved a head, the call raises, the queued work of that agent is refused with
// STORE_CONFLICT (its record re-read), and the rest of the group is written again without it.
// Several hubs on one database: each keeps a view of the agent rows, and an append or a record update is
// also a compare-and-set on reg_rev (migration 4), so a record one hub changed (approval, revocation) is
// never overwritten by another hub's stale copy. A change of reg_rev is announced with NOTIFY pcp_agents;
// every store LISTENs on a connection of its own and re-reads that agent, so an approval on one hub is seen
// by all within a round trip (and, after the listening connection was lost, by re-reading every agent).
import { randomBytes } from 'node:crypto'
import { PcpError, ErrorCodes } from '../../runtime/errors.js'
import { storedRecord, decodeRecord, encodeValue, decodeValue } from '../../runtime/record.js'
import type { AissEvent } from '../../runtime/types.js'
import type { Pool, DatabaseError, Notification } from 'pg'
import { PgListener } from './pg-listen.js'
import type { AgentRecord, ChainAppend, Evidence, HubStore } from './types.js'
import { HubStoreErrorCodes, type StoreHealthListener } from './level.js'
import { migrate } from './pg-schema.js'

export interface PgHubStoreOptions {
  /** Evidence entries kept per agent (default 256). */
  maxEvidence?: number
  /** Default true. false: synchronous_commit = off (benchmarks only). */
  sync?: boolean
  /** Connections (default 4): one carries the writes at a time, the others serve reads. */
  connections?: number
  /**
   * Default true: LISTEN for other hubs' record changes. false for a pooler that cannot hold a LISTEN
   * (PgBouncer in transaction mode): the view then learns of them only when a write of it conflicts (the
   * compare-and-set on reg_rev refuses it) or ingest re-reads the record.
   */
  notifications?: boolean
}

interface AgentRow { id: string, expected: number, head: number, first: number, rec: Uint8Array, record: AgentRecord, revExpected: number, rev: number }
interface Write {
  agents: AgentRow[]
  events: Array<{ agent: string, seq: number, rec: Uint8Array }>
  nonces: Array<{ signer: string, nonce: string }>
  evidence: Array<{ agent: string, n: number, entry: Uint8Array }>
  resolve: () => void
  reject: (e: unknown) => void
}

const PAGE = 2000
const CONFLICT_SQLSTATE = 'PCP09'

/** postgres://user:secret@host/db → postgres://user@host/db: what logs and errors may show. */
export function redactUrl (url: string): string {
  try { const u = new URL(url); u.password = ''; return u.toString() } catch { return 'postgres://(invalid url)' }
}

export function isPostgresUrl (s: string): boolean { return /^postgres(ql)?:\/\//.test(s) }

type PgModule = { Pool: typeof import('pg').Pool, Client: typeof import('pg').Client }
async function loadPg (): Promise<PgModule> {
  try { const m = await import('pg'); return (m as unknown as { default?: PgModule }).default ?? m } catch (err) {
    throw new PcpError('HUB_STACK_MISSING', 'the PostgreSQL store needs pg, which is an optional peer: npm install pg@8', { field: 'pg', cause: err })
  }
}

export class PgHubStore implements HubStore {
  readonly path: string
  /** Other processes may write the same agents (docs/scaling.md): ingest re-reads a record before it answers a gap or a head question. */
  readonly shared = true
  /** Names this store in its NOTIFY payloads, so it does not re-read after its own writes. */
  readonly writer = randomBytes(6).toString('hex')
  readonly #pool: Pool
  /** reg_rev of each agent row, as this process last wrote or read it (what its next write compares). */
  readonly #rev = new Map<string, number>()
  readonly #committedRev = new Map<string, number>()
  /** Bumped at each local change of an agent's view: a re-read that started before it must not undo it. */
  readonly #gen = new Map<string, number>()
  /** Writes of each agent queued or in flight: a NOTIFY re-read waits for none of them, it skips. */
  readonly #inflight = new Map<string, number>()
  #listener: PgListener | null = null
  readonly #agents = new Map<string, AgentRecord>()
  /** The records as last committed (or read): what the view falls back to when a write fails and the database cannot be read either. */
  readonly #committed = new Map<string, AgentRecord>()
  readonly #maxEvidence: number
  #queue: Write[] = []
  #writing = false
  #closed = false
  #failure: PcpError | null = null
  #failedAt = 0
  readonly #listeners: StoreHealthListener[] = []

  private constructor (pool: Pool, where: string, maxEvidence: number) {
    this.#pool = pool; this.path = where; this.#maxEvidence = maxEvidence
  }

  static async open (url: string, opts: PgHubStoreOptions = {}): Promise<PgHubStore> {
    const maxEvidence = opts.maxEvidence ?? 256
    if (!Number.isInteger(maxEvidence) || maxEvidence < 1) throw new RangeError(`"maxEvidence" expected a positive integer, got ${String(opts.maxEvidence)}`)
    const pg = await loadPg()
    const where = redactUrl(url)
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.connections ?? 4,
      application_name: 'pcp-hub',
      ...(opts.sync === false ? { options: '-c synchronous_commit=off' } : {})
    })
    // A connection the server ends while idle (restart, pg_terminate_backend) is dropped from the pool;
    // without a listener the pool's 'error' event would end the process.
    pool.on('error', () => {})
    const store = new PgHubStore(pool, where, maxEvidence)
    try {
      try { await pool.query('SELECT 1') } catch (err) {
        throw new PcpError(HubStoreErrorCodes.STORE_UNREACHABLE, `cannot reach the hub store ${where}: ${(err as Error).message}`, { file: where, cause: err })
      }
      await migrate(pool, where)
      if (opts.notifications !== false) {
        store.#listener = new PgListener({ Client: pg.Client, url, applicationName: 'pcp-hub-listen', channels: ['pcp_agents'], onNotify: (n) => store.#onNotify(n), resumed: () => store.#loadAgents(), retryMs: 500 })
        await store.#listener.start()
      }
      await store.#loadAgents()
    } catch (err) { await store.#listener?.close(); await pool.end().catch(() => {}); throw err }
    return store
  }

  /** Every agent row, read again; agents this process is writing keep their view (their writes compare). */
  async #loadAgents (): Promise<void> {
    const gens = new Map(this.#gen)
    const { rows } = await this.#pool.query<{ agent_id: string, record: Buffer, reg_rev: string }>('SELECT agent_id, record, reg_rev FROM pcp_agents')
    for (const r of rows) {
      if ((this.#gen.get(r.agent_id) ?? 0) !== (gens.get(r.agent_id) ?? 0) || (this.#inflight.get(r.agent_id) ?? 0) > 0) continue
      this.#apply(r.agent_id, this.#decodeAgent(r.agent_id, r.record), Number(r.reg_rev))
    }
  }

  #apply (agentId: string, rec: AgentRecord, rev: number): void {
    this.#agents.set(agentId, rec); this.#committed.set(agentId, rec)
    this.#rev.set(agentId, rev); this.#committedRev.set(agentId, rev)
  }

  #touch (agentId: string): void { this.#gen.set(agentId, (this.#gen.get(agentId) ?? 0) + 1) }

  #onNotify (n: Notification): void {
    const [agentId, writer] = (n.payload ?? '').split(' ')
    if (!agentId || writer === this.writer) return
    void this.refresh(agentId).catch(() => {})
  }

  /**
   * Re-reads one agent's row unless this process has writes of it in flight (those compare reg_rev and
   * head, and re-read on conflict themselves) or changed its view meanwhile.
   */
  async refresh (agentId: string): Promise<void> {
    if ((this.#inflight.get(agentId) ?? 0) > 0) return
    const gen = this.#gen.get(agentId) ?? 0
    const row = await this.#readRow(agentId)
    if ((this.#gen.get(agentId) ?? 0) !== gen || (this.#inflight.get(agentId) ?? 0) > 0 || row === null) return
    this.#apply(agentId, row.record, row.rev)
  }

  async #readRow (agentId: string): Promise<{ record: AgentRecord, rev: number } | null> {
    const { rows } = await this.#pool.query<{ record: Buffer, reg_rev: string }>('SELECT record, reg_rev FROM pcp_agents WHERE agent_id = $1', [agentId])
    return rows.length === 0 ? null : { record: this.#decodeAgent(agentId, rows[0]!.record), rev: Number(rows[0]!.reg_rev) }
  }

  /** Every agent's stored event count, read now (other hubs append without announcing it). */
  async counts (): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ agent_id: string, head_seq: string }>('SELECT agent_id, head_seq FROM pcp_agents')
    return new Map(rows.map((r) => [r.agent_id, Number(r.head_seq) + 1]))
  }

  /** The last write error until a write succeeds again; null while writes succeed. */
  get failure (): PcpError | null { return this.#failure }
  listen (l: StoreHealthListener): void { this.#listeners.push(l) }

  #decodeAgent (agentId: string, raw: Uint8Array): AgentRecord {
    const rec = this.#decode<AgentRecord>(`pcp_agents ${agentId}`, raw)
    rec.keys = rec.keys.map((k) => ({ agentId: k.agentId, publicKey: Uint8Array.from(k.publicKey) }))
    return rec
  }

  #decode<T> (key: string, raw: Uint8Array): T {
    try { return decodeValue<T>(raw) } catch (err) {
      throw new PcpError(ErrorCodes.STORE_CORRUPTED, `hub store ${this.path} is damaged at ${key}: ${(err as Error).message}`, { key, file: this.path, cause: err })
    }
  }

  agents (): AgentRecord[] { return [...this.#agents.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.agentId < b.agentId ? -1 : 1)) }
  agent (agentId: string): AgentRecord | undefined { return this.#agents.get(agentId) }

  async reload (agentId: string): Promise<AgentRecord | undefined> {
    const row = await this.#readRow(agentId)
    this.#touch(agentId)
    if (row === null) { this.#agents.delete(agentId); this.#committed.delete(agentId); this.#rev.delete(agentId); this.#committedRev.delete(agentId); return undefined }
    this.#apply(agentId, row.record, row.rev)
    return row.record
  }

  /** `bump`: a record change that is not an append (registry, refusal): it moves reg_rev and is announced. */
  #row (record: AgentRecord, expected: number, bump: boolean): AgentRow {
    const revExpected = this.#rev.get(record.agentId) ?? 0
    return { id: record.agentId, expected, head: record.head?.seq ?? -1, first: record.firstSeen, rec: encodeValue(record), record, revExpected, rev: revExpected + (bump ? 1 : 0) }
  }

  async #tracked (ids: string[], w: Write): Promise<void> {
    for (const id of ids) this.#inflight.set(id, (this.#inflight.get(id) ?? 0) + 1)
    try { await this.#write(w) } finally {
      for (const id of ids) { const n = (this.#inflight.get(id) ?? 1) - 1; if (n > 0) this.#inflight.set(id, n); else this.#inflight.delete(id) }
    }
  }

  async putAgent (record: AgentRecord, evidence?: Evidence): Promise<void> {
    // Guarded by the head too: a record from a hub that has not seen the latest append must not put an
    // older head back.
    const row = this.#row(record, record.head?.seq ?? -1, true)
    const w = this.#empty([row])
    if (evidence) w.evidence.push({ agent: record.agentId, n: record.evidenceCount - 1, entry: encodeValue(evidence) })
    this.#agents.set(record.agentId, record); this.#rev.set(record.agentId, row.rev); this.#touch(record.agentId)
    try { await this.#tracked([record.agentId], w) } catch (err) {
      await this.#restore(record.agentId)
      throw err
    }
  }

  async append (items: ChainAppend[]): Promise<void> {
    const w = this.#empty([])
    for (const item of items) {
      let s = item.expectedSeq
      for (const { event, keyIndex, record } of item.events) {
        s++
        w.events.push({ agent: item.agentId, seq: s, rec: storedRecord(event, keyIndex, record) })
        w.nonces.push({ signer: event.agent_id, nonce: event.nonce })
      }
      if (item.record.head?.seq !== s) throw new RangeError(`"record.head.seq" expected ${s} after ${item.events.length} events, got ${item.record.head?.seq}`)
      w.agents.push(this.#row(item.record, item.expectedSeq, false))
    }
    // Only this process's view: the database decides (the compare-and-set in pcp_write).
    for (const item of items) {
      const seq = this.#agents.get(item.agentId)?.head?.seq ?? -1
      if (seq !== item.expectedSeq) throw this.#conflict(item.agentId, item.expectedSeq, seq)
    }
    for (const item of items) { this.#agents.set(item.agentId, item.record); this.#touch(item.agentId) }
    try { await this.#tracked(items.map((i) => i.agentId), w) } catch (err) {
      for (const item of items) await this.#restore(item.agentId)
      throw err
    }
  }

  /**
   * After a failed write: the record from the database, or, when it cannot be read either (connection
   * lost), the last committed one. Never the failed write's: a head handshake must not report events
   * that are not stored, or the device would stop resending them.
   */
  async #restore (agentId: string): Promise<void> {
    try { await this.reload(agentId) } catch {
      const rec = this.#committed.get(agentId)
      if (rec) { this.#agents.set(agentId, rec); this.#rev.set(agentId, this.#committedRev.get(agentId) ?? 0) } else { this.#agents.delete(agentId); this.#rev.delete(agentId) }
    }
  }

  #conflict (agentId: string, expected: number, actual: number | null): PcpError {
    return new PcpError(HubStoreErrorCodes.STORE_CONFLICT, `chain ${agentId} moved: its head is #${actual ?? 'none'}, the append expected #${expected}`, { agent: agentId, expected, actual })
  }

  #empty (agents: AgentRow[]): Write {
    return { agents, events: [], nonces: [], evidence: [], resolve: () => {}, reject: () => {} }
  }

  async noncesUsed (_chainId: string, pairs: ReadonlyArray<{ signer: string, nonce: string }>): Promise<Array<number | undefined>> {
    if (pairs.length === 0) return []
    const { rows } = await this.#pool.query<{ i: string, seq: string }>(
      'SELECT t.i, n.seq FROM unnest($1::text[], $2::text[]) WITH ORDINALITY t(signer, nonce, i) JOIN pcp_nonces n ON n.signer = t.signer AND n.nonce = t.nonce',
      [pairs.map((p) => p.signer), pairs.map((p) => p.nonce)])
    const out: Array<number | undefined> = pairs.map(() => undefined)
    for (const r of rows) out[Number(r.i) - 1] = Number(r.seq)
    return out
  }

  async event (agentId: string, seq: number): Promise<AissEvent | undefined> {
    const { rows } = await this.#pool.query<{ record: Buffer }>('SELECT record FROM pcp_events WHERE agent_id = $1 AND seq = $2', [agentId, seq])
    return rows.length === 0 ? undefined : this.#decodeEvent(agentId, seq, rows[0]!.record)
  }

  #decodeEvent (agentId: string, seq: number, raw: Uint8Array): AissEvent {
    const keys = this.#agents.get(agentId)?.keys.map((k) => k.agentId) ?? []
    try { return decodeRecord(raw, keys) } catch (err) {
      throw new PcpError(ErrorCodes.STORE_CORRUPTED, `hub store ${this.path} is damaged at event #${seq} of ${agentId}: ${(err as Error).message}`, { key: `${agentId}/${seq}`, agent: agentId, index: seq, file: this.path, cause: err })
    }
  }

  async * events (agentId: string, from = 0, to = Infinity): AsyncGenerator<{ seq: number, event: AissEvent }> {
    // An explicit end may be past this process's view: other hubs append without announcing it (StoreFeed).
    const end = to === Infinity ? (this.#agents.get(agentId)?.count ?? 0) : to
    let expected = from
    while (expected < end) {
      const { rows } = await this.#pool.query<{ seq: string, record: Buffer }>(
        'SELECT seq, record FROM pcp_events WHERE agent_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4', [agentId, expected, end, PAGE])
      if (rows.length === 0) break
      for (const r of rows) {
        const seq = Number(r.seq)
        if (seq !== expected) break
        expected++
        yield { seq, event: this.#decodeEvent(agentId, seq, r.record) }
      }
      if (Number(rows.at(-1)!.seq) !== expected - 1) break
    }
    if (expected < end) throw new PcpError(ErrorCodes.STORE_CORRUPTED, `hub store: event #${expected} of ${agentId} is missing`, { agent: agentId, index: expected })
  }

  async evidence (agentId: string, limit = 50): Promise<Evidence[]> {
    const { rows } = await this.#pool.query<{ n: string, entry: Buffer }>('SELECT n, entry FROM pcp_evidence WHERE agent_id = $1 ORDER BY n DESC LIMIT $2', [agentId, limit])
    return rows.map((r) => { const e = this.#decode<Evidence>(`pcp_evidence ${agentId} #${r.n}`, r.entry); return { ...e, raw: Uint8Array.from(e.raw) } })
  }

  #write (w: Write): Promise<void> {
    if (this.#closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `the hub store ${this.path} is closed`, { file: this.path }))
    return new Promise((resolve, reject) => {
      w.resolve = resolve; w.reject = reject
      this.#queue.push(w)
      if (!this.#writing) void this.#flush()
    })
  }

  async #flush (): Promise<void> {
    this.#writing = true
    while (this.#queue.length) {
      let group = this.#queue.splice(0)
      while (group.length) {
        try {
          await this.#call(group)
          for (const w of group) { for (const a of w.agents) { this.#committed.set(a.id, a.record); this.#committedRev.set(a.id, a.rev) } w.resolve() }
          if (this.#failure) { this.#failure = null; for (const l of this.#listeners) l.recovered(Date.now() - this.#failedAt) }
          group = []
        } catch (err) {
          const db = err as DatabaseError
          if (db.code === CONFLICT_SQLSTATE) {
            // One agent lost a race: refuse its work, write the others' again.
            const agent = db.message
            const actual = db.detail === 'none' ? null : Number(db.detail)
            const lost = this.#conflict(agent, Number(db.hint), actual)
            const touches = (w: Write): boolean => w.agents.some((a) => a.id === agent)
            for (const w of group) if (touches(w)) w.reject(lost)
            group = group.filter((w) => !touches(w))
            continue
          }
          const first = this.#failure === null
          if (first) this.#failedAt = Date.now()
          const failure = db.code === '23505'
            ? new PcpError(HubStoreErrorCodes.STORE_CONFLICT, `the hub store ${this.path} refused a duplicate (${db.constraint ?? 'unique key'}): ${db.detail ?? db.message}`, { file: this.path, cause: err })
            : new PcpError(ErrorCodes.STORE_WRITE_FAILED, `write to the hub store ${this.path} failed: ${db.message}`, { file: this.path, cause: err })
          if (failure.code === ErrorCodes.STORE_WRITE_FAILED) {
            this.#failure = failure
            for (const l of this.#listeners) l.failed(failure, first, 'write')
          }
          for (const w of group) w.reject(failure)
          group = []
        }
      }
    }
    this.#writing = false
  }

  #call (group: Write[]): Promise<unknown> {
    const a = group.flatMap((w) => w.agents)
    const e = group.flatMap((w) => w.events)
    const n = group.flatMap((w) => w.nonces)
    const x = group.flatMap((w) => w.evidence)
    // Nonces are one per event, in event order: their agent and seq are the event's.
    return this.#pool.query('SELECT pcp_write($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)', [
      a.map((r) => r.id), a.map((r) => r.expected), a.map((r) => r.head), a.map((r) => r.first), a.map((r) => Buffer.from(r.rec)),
      e.map((r) => r.agent), e.map((r) => r.seq), Buffer.concat(e.map((r) => r.rec)), e.map((r) => r.rec.length),
      n.map((r) => r.signer), n.map((r) => r.nonce),
      x.map((r) => r.agent), x.map((r) => r.n), x.map((r) => Buffer.from(r.entry)), this.#maxEvidence,
      a.map((r) => r.revExpected), a.map((r) => r.rev), this.writer
    ])
  }

  async close (): Promise<void> {
    if (this.#closed) return
    while (this.#writing || this.#queue.length) await new Promise((r) => setTimeout(r, 1))
    this.#closed = true
    await this.#listener?.close()
    await this.#pool.end()
  }
}
