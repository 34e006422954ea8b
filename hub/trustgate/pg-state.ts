// TrustGate's state in PostgreSQL, shared by every hub on the store (docs/scaling.md): one journal, one
// history of policy versions. Tables (hub/store/pg-schema.ts, migration 5):
//   pcp_tg_identity   the one identity that signs the journal (the first hub's; every hub must hold it:
//                     devices pin one hub key, and any hub may answer them)
//   pcp_tg_journal    (seq, hash, event): the journal, one PCP chain of that identity, the same signed
//                     trustgate.* events a single hub stamps into its own chain, so its export verifies
//   pcp_tg_policies   (version, bytes): policy versions, named by the SHA-256 of their bytes
// The activation history is the journal's trustgate.policy_activated entries, in order.
// No fork: an event is signed on the head this hub has read and inserted at the next seq, the primary
// key. A hub that did not see the others' last entries collides (JOURNAL_CONFLICT), reads them (readNew)
// and decides again. Every row read back is checked (hash, link to the one before, signature) before the
// service acts on it: a row written into the database by anyone without the key is refused, not obeyed.
// An append is announced with NOTIFY pcp_tg_journal; a hub listens on a connection of its own and, when
// that is lost, listens again and reads what it missed; a poll every `pollMs` bounds a lost notification.
import type { Pool } from 'pg'
import { PgListener } from '../store/pg-listen.js'
import { canonicalize } from '../../runtime/canonical.js'
import { PcpError, ErrorCodes } from '../../runtime/errors.js'
import { eventHash, stampEvent } from '../../runtime/event.js'
import { parseJson, stringifyJson } from '../../runtime/json.js'
import { verifyChain, checkEventSignature } from '../../runtime/verify.js'
import type { Identity } from '../../runtime/identity.js'
import type { AissEvent, IdentityDocument } from '../../runtime/types.js'
import { parsePolicy } from '../../policy/load.js'
import type { LoadedPolicy } from '../../policy/types.js'
import { redactUrl } from '../store/pg.js'
import { ServiceErrorCodes } from './errors.js'
import { JOURNAL_TYPES, type JournalEntry } from './queue.js'
import { lineHash, type ActivationRecord } from './versions.js'
import { PgPolicyVersions } from './pg-versions.js'
import { PgPrincipals } from './pg-principals.js'
import type { PrincipalStore } from './principal-store.js'
import type { TrustGateState } from './state.js'

export interface PgTrustGateStateOptions {
  url: string
  /** The hub's identity (its private key signs the journal); must be the one the store's journal has. Owned: close() destroys it. */
  identity: Identity
  document: IdentityDocument
  /** Milliseconds; event timestamps. */
  clock?: () => number
  /** How often to look for entries whose notification was lost. Default 1000 ms. */
  pollMs?: number
  /** This hub's principals.json: its principals are added to the shared table (the bootstrap path). */
  principalsFile: PrincipalStore
  /** Each append that lost the race to another hub (the hub counts them: pcp_trustgate_journal_races_total). */
  onRace?: () => void
}

const PAGE = 5000
type Head = { seq: number, hash: string, timestamp: number }

export class PgTrustGateState implements TrustGateState {
  readonly shared = true
  readonly versions: PgPolicyVersions
  readonly principals: PgPrincipals
  readonly #pool: Pool
  readonly #o: PgTrustGateStateOptions
  #head: Head | null = null
  #listener: PgListener | null = null
  #poll: NodeJS.Timeout | undefined
  #closed = false
  #conflicts = 0
  readonly #onChange: Array<() => void> = []

  private constructor (pool: Pool, o: PgTrustGateStateOptions) {
    this.#pool = pool; this.#o = o
    this.versions = new PgPolicyVersions(pool)
    this.principals = new PgPrincipals(pool, o.principalsFile)
  }

  static async open (o: PgTrustGateStateOptions): Promise<PgTrustGateState> {
    const pg = (await import('pg')).default
    const pool = new pg.Pool({ connectionString: o.url, max: 2, application_name: 'pcp-hub-trustgate' })
    pool.on('error', () => {}) // an idle connection the server ended; the next query opens another
    const s = new PgTrustGateState(pool, o)
    try {
      await s.#claimIdentity()
      await s.versions.load()
      await s.principals.refresh()
      s.#listener = new PgListener({
        Client: pg.Client, url: o.url, applicationName: 'pcp-hub-trustgate-listen', channels: ['pcp_tg_journal', 'pcp_tg_principals'], retryMs: 250,
        onNotify: (n) => {
          if (n.channel === 'pcp_tg_principals') s.#principalsChanged()
          else if (Number(n.payload) > (s.#head?.seq ?? -1)) { for (const l of s.#onChange) l() }
        },
        resumed: () => s.#changed() // what was announced while nobody listened is read now
      })
      await s.#listener.start()
      const every = o.pollMs ?? 1000
      if (every > 0) { s.#poll = setInterval(() => s.#changed(), every); s.#poll.unref() }
      return s
    } catch (err) { await s.close(); throw err }
  }

  async #claimIdentity (): Promise<void> {
    const id = this.#o.identity
    await this.#pool.query('INSERT INTO pcp_tg_identity (agent_id, document) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id.agentId, stringifyJson(this.#o.document)])
    const { rows } = await this.#pool.query<{ agent_id: string }>('SELECT agent_id FROM pcp_tg_identity')
    const owner = rows[0]?.agent_id
    if (owner !== id.agentId) {
      throw new PcpError(ServiceErrorCodes.TRUSTGATE_IDENTITY_MISMATCH, `the TrustGate journal in ${redactUrl(this.#o.url)} is signed by hub identity ${String(owner)}, and this hub is ${id.agentId}: every hub on one store must hold the same hub key (copy agents/hub/identity.json and its private key file from the first hub's --data before this hub's first start)`, { expected: owner, actual: id.agentId })
    }
  }

  // ---- the journal ----

  async append (entry: JournalEntry): Promise<AissEvent> {
    if (!entry.type.startsWith('trustgate.')) throw new RangeError(`journal entry types start with "trustgate.", got ${entry.type}`)
    if (Object.hasOwn(entry.payload, 'event_type')) throw new RangeError('journal payloads must not carry their own event_type')
    const head = this.#head
    const id = this.#o.identity
    // Never earlier than the entry before it, whichever hub's clock wrote that one.
    const timestamp = Math.max(Math.floor((this.#o.clock ?? Date.now)() / 1000), head?.timestamp ?? 0)
    const { event, hash } = stampEvent(id, { ...entry.payload, event_type: entry.type }, { previousHash: head?.hash ?? id.genesisHash(), timestamp })
    const seq = (head?.seq ?? -1) + 1
    try {
      // The notification leaves at commit, in the same statement: one round trip.
      await this.#pool.query("WITH ins AS (INSERT INTO pcp_tg_journal (seq, hash, event) VALUES ($1, $2, $3) RETURNING seq) SELECT pg_notify('pcp_tg_journal', seq::text) FROM ins", [seq, hash, stringifyJson(event)])
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        this.#conflicts++
        this.#o.onRace?.()
        throw new PcpError(ServiceErrorCodes.JOURNAL_CONFLICT, `another hub appended journal entry #${seq} first`, { index: seq })
      }
      throw err // the outcome is unknown: readNew brings the entry back if it was committed
    }
    this.#took(seq, hash, event)
    return event
  }

  /** Appends that lost the race to another hub (each was decided again on the entries it had missed). */
  get conflicts (): number { return this.#conflicts }

  #took (seq: number, hash: string, ev: AissEvent): void {
    this.#head = { seq, hash, timestamp: ev.timestamp }
    if (ev.payload.event_type === JOURNAL_TYPES.policyActivated) {
      const { event_type: _t, ...record } = ev.payload
      this.versions.took(record as unknown as ActivationRecord)
    }
  }

  async readNew (): Promise<AissEvent[]> {
    const out: AissEvent[] = []
    for (;;) {
      const from = this.#head?.seq ?? -1
      const { rows } = await this.#pool.query<{ seq: string, hash: string, event: string }>('SELECT seq, hash, event FROM pcp_tg_journal WHERE seq > $1 ORDER BY seq LIMIT $2', [from, PAGE])
      for (const r of rows) {
        const seq = Number(r.seq)
        const ev = this.#checked(seq, r.hash, r.event)
        if (ev.payload.event_type === JOURNAL_TYPES.policyActivated) await this.versions.fetch(String(ev.payload.version))
        this.#took(seq, r.hash, ev)
        out.push(ev)
      }
      if (rows.length < PAGE) return out
    }
  }

  /** The row as an event, if it is the next link of the journal, signed by its identity. */
  #checked (seq: number, hash: string, text: string): AissEvent {
    const head = this.#head
    const bad = (why: string): PcpError => new PcpError(ErrorCodes.STORE_CORRUPTED, `TrustGate journal entry #${seq} in ${redactUrl(this.#o.url)} ${why}: refused`, { index: seq })
    if (seq !== (head?.seq ?? -1) + 1) throw bad(`follows #${head?.seq ?? -1} (an entry is missing)`)
    let ev: AissEvent
    try { ev = parseJson(text) as unknown as AissEvent } catch { throw bad('is not JSON') }
    if (eventHash(ev) !== hash) throw bad('does not hash to its recorded hash')
    if (ev.previous_hash !== (head?.hash ?? this.#o.identity.genesisHash())) throw bad('does not link to the entry before it')
    if (ev.agent_id !== this.#o.identity.agentId || checkEventSignature(ev, this.#o.identity.publicKey) !== 'ok') throw bad('is not signed by the journal\'s key')
    return ev
  }

  async * events (): AsyncGenerator<AissEvent> {
    let from = -1
    for (;;) {
      const { rows } = await this.#pool.query<{ seq: string, event: string }>('SELECT seq, event FROM pcp_tg_journal WHERE seq > $1 ORDER BY seq LIMIT $2', [from, PAGE])
      for (const r of rows) { from = Number(r.seq); yield parseJson(r.event) as unknown as AissEvent }
      if (rows.length < PAGE) return
    }
  }

  /** The whole journal checked as `pcp verify` checks a chain. */
  async verify (): Promise<{ valid: boolean }> {
    const all: AissEvent[] = []
    for await (const ev of this.events()) all.push(ev)
    return verifyChain(all, this.#o.document)
  }

  async firstIdentityDocument (): Promise<IdentityDocument> { return this.#o.document }

  // ---- policy versions ----

  async addVersion (bytes: Uint8Array | string, source: string): Promise<{ id: string, policy: LoadedPolicy, created: boolean }> {
    return await this.versions.add(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, source)
  }

  async activationRecord (id: string, by: { principal: string, comment: string, at: number }): Promise<ActivationRecord> {
    const policy = this.versions.get(id)
    const last = this.versions.history().at(-1)
    return {
      seq: (last?.seq ?? 0) + 1, version: policy.hash, name: policy.policy.name, policy_version: policy.versionId,
      principal: by.principal, comment: by.comment, at: by.at, prev: last === undefined ? '' : lineHash(canonicalize(last))
    }
  }

  // ---- notifications ----

  onChange (listener: () => void): void { this.#onChange.push(listener) }

  #changed (): void {
    if (this.#closed) return
    for (const l of this.#onChange) l()
    this.#principalsChanged()
  }

  #principalsChanged (): void { if (!this.#closed) this.principals.refresh().catch(() => {}) } // the next read meets the failure again

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#poll) clearInterval(this.#poll)
    await this.#listener?.close()
    await this.#pool.end().catch(() => {})
    this.#o.identity.destroy()
  }
}
