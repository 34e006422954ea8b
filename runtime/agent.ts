// Agent: what every robot and sensor script calls. It owns one identity and its chain in the device
// store, stamps events onto the persisted head and resolves each stamp once its event is durable.
// Beside it: opening (runtime/agent-open.ts: the key, the store, the recorded profile, hole repairs),
// the stamp path (runtime/agent-stamp.ts: chain, sign, store, recover after a write error) and key
// changes (runtime/agent-keys.ts: rotation, the profile upgrade). What is here is the public API and
// the reads, which all wait for the stamps in flight first.
import { EventEmitter } from 'node:events'
import type { EventStore, Durability, SearchQuery } from './store.js'
import type { Identity } from './identity.js'
import { ChainVerifier, identityFrom, type ChainReport, type ChainProblem } from './verify.js'
import { ALL_AISS2, type ProfilePolicy } from './profile-rules.js'
import { writeAuditExport } from './memory.js'
import { readRotatedIdentityDocument } from './home.js'
import { openAgentParts, warnDurability, loadProfile, recordRepairs, MAX_EVENT_BYTES, type AgentOpenOptions, type AgentRef } from './agent-open.js'
import { StampPipeline } from './agent-stamp.js'
import { checkPayload } from './event.js'
import { rotateKey, upgradeProfile, type KeyContext } from './agent-keys.js'
import type { AissEvent, IdentityDocument, Stamper } from './types.js'
import type { JsonObject, JsonValue } from './value.js'
import { signStatement, type StatementSigner } from './statement.js'

export { MAX_EVENT_BYTES, type AgentOpenOptions, type AgentRef } from './agent-open.js'

export class Agent extends EventEmitter implements Stamper, StatementSigner {
  readonly name: string
  readonly dir: string
  readonly store: EventStore
  // The key in force, its profile policy, the head and the stamps in flight (runtime/agent-stamp.ts).
  readonly #chain: StampPipeline
  #clock: () => number
  #passphrase: string | undefined
  #scryptN: number | undefined
  // identity.json is the AISS-2.0 document (the chain is AISS-2 from its genesis).
  #aiss2Document = false

  private constructor (name: string, dir: string, identity: Identity, store: EventStore, agentIndex: number, opts: AgentOpenOptions) {
    super()
    this.name = name; this.dir = dir; this.store = store
    this.#clock = opts.clock ?? Date.now
    this.#passphrase = opts.passphrase ?? process.env.PCP_PASSPHRASE
    this.#scryptN = opts.scryptN
    this.#chain = new StampPipeline(name, store, identity, agentIndex, this, { clock: this.#clock, maxEventBytes: opts.maxEventBytes ?? MAX_EVENT_BYTES })
    warnDurability(name, store)
  }

  static async open (ref: AgentRef, opts: AgentOpenOptions = {}): Promise<Agent> {
    if (opts.maxEventBytes !== undefined && !(opts.maxEventBytes > 0)) throw new RangeError(`"maxEventBytes" expected a positive number of bytes, got ${String(opts.maxEventBytes)}`)
    const parts = await openAgentParts(ref, opts)
    try {
      const agent = new Agent(parts.name, parts.dir, parts.identity, parts.store, parts.agentIndex, opts)
      const profile = await loadProfile(parts)
      agent.#aiss2Document = profile.aiss2Document
      agent.#chain.pq = profile.pq
      const warnings = await recordRepairs(agent)
      // After open() has returned: a listener attached right after it hears them.
      if (warnings.length) setImmediate(() => { for (const w of warnings) agent.emit('warning', w) })
      return agent
    } catch (err) {
      parts.identity.destroy()
      await parts.store.close()
      throw err
    }
  }

  /** The profile policy in force, or null while the chain is AISS-1. */
  get profilePolicy (): ProfilePolicy | null {
    const pq = this.#chain.pq
    return pq ? { default: pq.policy.default, event_types: { ...pq.policy.event_types } } : null
  }

  get agentId (): string { return this.#chain.identity.agentId }
  get publicKey (): Uint8Array { return this.#chain.identity.publicKey }

  /** Signs a statement that is not a chain event (runtime/statement.ts: gate requests, broker logins) with the current key. */
  signStatement (purpose: string, body: JsonObject): Uint8Array { return signStatement(this.#chain.identity, purpose, body) }
  get durability (): Durability { return this.store.durability }
  /** The last stamped event's position and hash (persisted or still in flight). Null for an empty chain. */
  get head (): { seq: number, hash: string, timestamp: number } | null {
    const head = this.#chain.head
    return head ? { ...head } : null
  }

  /** The current identity document (after rotations, the newest key's). */
  identityDocument (): IdentityDocument { return this.#aiss2Document ? this.#chain.identity.documentAiss2() : this.#chain.identity.document() }

  /** The identity the chain starts with: what an audit export names, so the chain verifies from event 0. */
  async firstIdentityDocument (): Promise<IdentityDocument> {
    const first = this.store.identities[0]!
    if (first.agentId === this.agentId) return this.identityDocument()
    return readRotatedIdentityDocument(this.dir, this.name, first.agentId)
  }

  /**
   * Signs `{ event_type, ...payload }` onto the head. The event is chained synchronously, so concurrent
   * calls chain in call order; a burst is signed on a second thread and stored in one group-commit
   * batch. Resolves with the event once it is durable (see AgentOpenOptions.durability).
   * `opts.meta`: store meta slots written in the same atomic batch as the event (an anchor event and
   * the removal of its pending entry, runtime/anchor/anchorer.ts: a crash keeps both or neither).
   */
  stamp (eventType: string, payload: Record<string, JsonValue> = {}, opts: { meta?: Record<string, unknown> } = {}): Promise<AissEvent> {
    if (typeof eventType !== 'string' || eventType.length === 0) throw new TypeError('"eventType" expected a non-empty string')
    checkPayload(payload)
    return this.#chain.stamp(eventType, payload, opts, undefined)
  }

  /** Every event in chain order, across key rotations. */
  async * events (from = 0): AsyncGenerator<AissEvent> {
    await this.#chain.drain()
    for await (const { event } of this.store.events(from)) yield event
  }

  /** The whole history as one chronological list (it can be long; prefer events() for streaming). */
  async history (): Promise<AissEvent[]> {
    const out: AissEvent[] = []
    for await (const e of this.events()) out.push(e)
    return out
  }

  /** Re-reads and verifies the stored chain from its first identity. */
  async verify (opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<ChainReport> {
    await this.#chain.drain()
    const first = this.store.identities[0]!
    // From the first document, so an AISS-2.0 one binds its ML-DSA key from event 0 here too.
    const verifier = new ChainVerifier(identityFrom(await this.firstIdentityDocument()))
    const errors: ChainProblem[] = []
    const total = (this.head?.seq ?? -1) + 1
    let n = 0
    // Stamps may land while this reads: the report covers the prefix read (n events), not the head now.
    for await (const { event } of this.store.events()) {
      errors.push(...verifier.push(event).problems)
      n++
      if (opts.onProgress && n % 1000 === 0) opts.onProgress(n, total)
    }
    return { valid: errors.length === 0, eventCount: n, agentId: first.agentId, finalAgentId: verifier.agentId, headHash: verifier.headHash, hashes: [], errors }
  }

  /** Writes an audit export (protocol.md §14) of the whole chain, streamed and atomically renamed. */
  async export (path: string, opts: { onProgress?: (done: number, total: number) => void, now?: number } = {}): Promise<{ path: string, eventCount: number, chainIntegrityHash: string }> {
    await this.#chain.drain()
    return writeAuditExport(this.store, await this.firstIdentityDocument(), path, opts)
  }

  search (q: SearchQuery = {}): Promise<AissEvent[]> {
    return this.store.search(q).then((rows) => rows.map((r) => r.event))
  }

  #keys (): KeyContext {
    return { agent: this, chain: this.#chain, passphrase: this.#passphrase, scryptN: this.#scryptN, clock: this.#clock, aiss2Document: this.#aiss2Document }
  }

  /**
   * Rotates the key: the old key signs an attestation and a rotation event; the new key signs from
   * then on. Crash-safe: the new key is on disk before the event, and an interrupted swap of the key
   * files is completed at the next open (runtime/agent-keys.ts).
   */
  rotate (): Promise<{ event: AissEvent, previousAgentId: string, newAgentId: string }> {
    return rotateKey(this.#keys())
  }

  /**
   * Switches the chain to AISS-2 (or changes its per-event-type policy): adds an ML-DSA-65 key to the key
   * file if it has none (same protection), then stamps a profile_upgrade event signed by both keys that
   * binds the key and records `policy`. From then on stamp() signs each event as the policy says.
   * Needs `pcp-edge/aiss2`. There is no way back (runtime/profile.ts).
   */
  upgradeProfile (policy: ProfilePolicy = ALL_AISS2): Promise<AissEvent> {
    return upgradeProfile(this.#keys(), policy)
  }

  async close (): Promise<void> {
    if (this.store.closed) return
    await this.#chain.close()
    try { await this.store.close() } finally { this.#chain.identity.destroy() }
  }
}
