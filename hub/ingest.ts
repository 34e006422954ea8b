// Over 300 lines: not split in issue 19's restructuring: the chain-step and AISS-2 work were changing it
// at the time (issue 19's rule: leave it to them); the key-in-force helpers (pqOfRecord, samePq) could leave.
// Ingest: an `events` batch from an agent's `up` topic → verified → stored → acknowledged.
//
// Per agent, one lane keeps order; agents run side by side:
//   1. on arrival (in mqtt.js's message handler, which must not be held): decode the records and submit
//      them to the verify pool at once, under the agent's key, with the key predicted to be in force
//      (the pool verifies signatures and hashes on the worker threads, in order per agent);
//   2. in the lane, in arrival order: drop what the hub already holds (same seq, same hash: a QoS 1 or
//      reconnect resend), call a different event at a held position a fork, check every new event's
//      link, time, nonce and rotation against the lane's head, and append the good prefix to the store
//      without waiting for the disk, so the next batch is checked while this one is written;
//   3. when the store's group commit is durable: feed Vigil and ack `{ head }` (acks stay in order, as
//      the store resolves writes in order). A refused event is never dropped silently: its record goes
//      to the agent's evidence, an anomaly to Vigil, a count under its code, and a nack to the device.
import { decodeRecord } from '../runtime/record.js'
import { eventHash, timestampSeconds } from '../runtime/event.js'
import { ROTATION_EVENT_TYPE } from '../runtime/rotation.js'
import { profileRules, ALL_AISS2, PROFILE_UPGRADE_EVENT_TYPE, type PqInForce } from '../runtime/profile-rules.js'
import { pqFromJSON, pqToJSON } from '../runtime/profile.js'
import { parseIdentityDocument } from '../runtime/identity.js'
import { equalBytes } from '../runtime/encoding.js'
import { ErrorCodes } from '../runtime/errors.js'
import { nonceKey, type ChainProblem } from '../runtime/verify.js'
import type { AissEvent } from '../runtime/types.js'
import { NACK_CODES, MAX_BATCH_RECORDS, notAllowedNack, type AckEnvelope, type NackEnvelope, type WireHead } from '../sync/wire.js'
import { verifyBatch, checkEvent, SIG, type CheckState, type VerifyItem, type VerifyResult } from './ingest-verify.js'
import { unsignedReason, unsignedProblem, HOSTILE, type HostileReason } from './hostile.js'
import { RecentHashes } from './recent-hashes.js'
import type { AgentRecord, Evidence, HubStore } from './store/types.js'

export interface VerifySubmitter { submit (key: string, item: VerifyItem): Promise<VerifyResult> }

export interface IngestHooks {
  /** Events durably stored, in chain order (the chain id is the agent's first agent_id). */
  stored? (agentId: string, events: AissEvent[], record: AgentRecord): void
  /** An event refused: its first (most telling) problem. */
  rejected? (agentId: string, problem: ChainProblem): void
  /** A batch nacked because another hub extended the chain first (shared store, lost compare-and-set). */
  raceLost? (agentId: string): void
  /** A batch's signatures and hashes checked: seconds from submission, waiting for a worker included (pcp_verify_batch_seconds). */
  verified? (agentId: string, seconds: number, events: number): void
}

export interface IngestOptions {
  store: HubStore
  /** The verify pool (or anything with its submit); without one, verification runs on the main thread. */
  pool?: VerifySubmitter
  hooks?: IngestHooks
  /** Unix seconds. */
  now?: () => number
  /** Events accepted into lanes but not yet stored, over all agents, before batches are refused with HUB_BUSY. */
  maxQueuedEvents?: number
  /** The same, for one agent: its share, so one device (or whoever uses its topic) cannot starve the others. */
  maxQueuedPerAgent?: number
  /**
   * The verified anchor that made a stored position final (hub/finality.ts, with the hub's TSA trust
   * roots), or null: a fork there is FORK_AFTER_FINALIZATION. Without it every fork is FORK_DETECTED.
   */
  finality?: (agentId: string, seq: number) => Promise<FinalAnchor | null>
}

export interface FinalAnchor { index: number, from: number, to: number, genTime?: Date }

/**
 * `overLimit`: the first record past the per-event limits (hub/sync-kinds.ts scans them, sync/wire.ts has the
 * limits). The batch ends there; that record is not decoded on the main thread, only verified on a
 * worker: signed by the key in force, it gets the final EVENT_TOO_LARGE; otherwise it is hostile input.
 */
export interface BatchInput { from: number | 'head', ids: string[], records: Uint8Array[], topic: string, overLimit?: { index: number, message: string } }
/**
 * `hostile`: the batch held an event that is not the agent's (no valid signature of the key in force, or
 * a replay of an event the hub already holds at another position). Nothing about the agent changes: no
 * evidence, no Vigil anomaly, no refusal count on its record, and no answer (the hub cannot tell who sent
 * it, and an answer on the agent's `down` topic could reach the real device under a copied `corr`). The
 * signed prefix before it, if any, is stored. `problem`: the verifier's words for the missing signature,
 * for a caller that answers with one (the HTTP route), when the worker had them.
 */
export type BatchOutcome =
  | { ack: Omit<AckEnvelope, 'corr' | 'v' | 'kind'> }
  | { nack: Omit<NackEnvelope, 'corr' | 'v' | 'kind'>, problem?: ChainProblem, index?: number, hash?: string | null }
  | { hostile: HostileReason, message: string, index: number, problem?: ChainProblem | undefined }

interface Lane {
  tail: Promise<unknown>
  /** The state after every batch checked so far (written or being written). */
  check: CheckState | null
  predicted: Predicted | null
  /** Nonces of events checked but maybe not durable yet (the store's index does not have them yet). */
  pendingNonces: Map<string, number>
  /** Hashes of the newest events (checked, maybe not durable yet), for resend comparison without a store read. */
  recent: RecentHashes
  /** Events of this agent accepted but not yet stored (its share of `#queued`). */
  queued: number
  lastWrite: Promise<void>
  broken: boolean
  /** The last store scan for a fork's link (#claimedBy): what it found for which previous_hash, and when. */
  forkScan: { prev: string, found: number | undefined, at: number } | null
}

/** How far back a new event chained onto a held event other than the head is named a fork (FORK_DETECTED). */
const FORK_REACH = 8192
/**
 * A store scan for a fork hashes up to FORK_REACH stored events (~120-170 ms of the main thread at 8,192):
 * a lane scans at most once in this long, and a repeat of the same link is answered from its last scan.
 * A device that keeps sending forks is refused either way; it must not keep the hub hashing its history.
 */
const FORK_SCAN_MS = 10_000
/** How long a shared-store hub waits for another hub to store the events before a batch (then: GAP nack). */
const SHARED_GAP_WAIT_MS = 500

/** The keys (and AISS-2 profile state) a batch is verified under, guessed ahead of the lane's check. */
interface Predicted { seq: number, agentId: string, publicKey: Uint8Array, pq: PqInForce | null }

/**
 * The profile state a stored chain continues under: what ingest recorded (`profile`), else what its
 * identity document binds (an AISS-2.0 document: its ML-DSA key, every event AISS-2.0), else none.
 */
function pqOfRecord (rec: AgentRecord): PqInForce | null {
  // Per record object: the store replaces the object on every change, and the prediction and the lane's
  // check then share one value (samePq's identity test), parsed once.
  let pq = pqOfRecordCache.get(rec)
  if (pq !== undefined) return pq
  if (rec.profile !== undefined) pq = pqFromJSON(rec.profile)
  else if (rec.identity?.version !== 'AISS-2.0') pq = null
  else { const key = parseIdentityDocument(rec.identity).publicKeyPq; pq = key ? { publicKey: key, policy: ALL_AISS2 } : null }
  pqOfRecordCache.set(rec, pq)
  return pq
}
const pqOfRecordCache = new WeakMap<AgentRecord, PqInForce | null>()

function samePq (a: PqInForce | null, b: PqInForce | null): boolean {
  if (a === b) return true
  if (a === null || b === null || a.policy.default !== b.policy.default || !equalBytes(a.publicKey, b.publicKey)) return false
  const [ta, tb] = [a.policy.event_types, b.policy.event_types]
  const types = Object.keys(ta)
  return types.length === Object.keys(tb).length && types.every((t) => ta[t] === tb[t])
}

export class Ingest {
  readonly #store: HubStore
  readonly #pool: VerifySubmitter | undefined
  readonly #hooks: IngestHooks
  readonly #now: () => number
  readonly #maxQueued: number
  readonly #maxPerAgent: number
  readonly #finality: IngestOptions['finality']
  readonly #lanes = new Map<string, Lane>()
  #queued = 0

  constructor (opts: IngestOptions) {
    this.#store = opts.store
    this.#pool = opts.pool
    this.#hooks = opts.hooks ?? {}
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.#maxQueued = opts.maxQueuedEvents ?? 200_000
    this.#maxPerAgent = opts.maxQueuedPerAgent ?? Math.min(this.#maxQueued, 16 * MAX_BATCH_RECORDS)
    this.#finality = opts.finality
  }

  get queuedEvents (): number { return this.#queued }

  #lane (agentId: string): Lane {
    let lane = this.#lanes.get(agentId)
    if (!lane) {
      lane = { tail: Promise.resolve(), check: null, predicted: null, pendingNonces: new Map(), recent: new RecentHashes(), queued: 0, lastWrite: Promise.resolve(), broken: false, forkScan: null }
      this.#lanes.set(agentId, lane)
    }
    return lane
  }

  /** The check state from the durable record (at start, and after a failed write). */
  #fromRecord (rec: AgentRecord): CheckState {
    const key = rec.keys.at(-1)!
    return { seq: rec.count, headHash: rec.head?.hash ?? null, lastTimestamp: rec.head?.timestamp ?? null, agentId: key.agentId, publicKey: key.publicKey, pq: pqOfRecord(rec) }
  }

  /** Head as the lane will have it once pending writes land (resolves after they did). */
  async head (agentId: string): Promise<WireHead | null> {
    const lane = this.#lane(agentId)
    // A failed write is not this question's answer: the head is what the store holds (a rejected
    // lastWrite kept every handshake failing until a restart, issue 13 #5).
    const run = lane.tail.then(async () => {
      await lane.lastWrite.catch(() => {})
      // Another hub may have extended the chain since this one last looked (several hubs, one store).
      if (this.#store.shared) await this.#resync(agentId, lane)
      const h = this.#store.agent(agentId)?.head
      return h ? { seq: h.seq, hash: h.hash } : null
    })
    lane.tail = run.catch(() => {})
    return run
  }

  /** Handles one batch of an allowed agent (the caller checked registry state and envelope shape). */
  submit (agentId: string, input: BatchInput): Promise<BatchOutcome> {
    const rec = this.#store.agent(agentId)
    if (!rec || rec.keys.length === 0) return Promise.resolve({ nack: { code: NACK_CODES.AGENT_UNKNOWN, message: 'send the identity document first', head: null, retry: true } })
    const over = input.overLimit?.index ?? -1
    if (over >= 0) input = { ...input, records: input.records.slice(0, over + 1) }
    const n = input.records.length
    const lane = this.#lane(agentId)
    if (this.#queued + n > this.#maxQueued || lane.queued + n > this.#maxPerAgent) {
      const mine = lane.queued + n > this.#maxPerAgent
      return Promise.resolve({ nack: { code: NACK_CODES.HUB_BUSY, message: mine ? `the hub holds ${lane.queued} unstored events of ${agentId}; retry later` : `the hub holds ${this.#queued} unstored events; retry later`, head: null, retry: true } })
    }
    lane.predicted ??= { seq: rec.count, agentId: rec.keys.at(-1)!.agentId, publicKey: rec.keys.at(-1)!.publicKey, pq: pqOfRecord(rec) }
    // The record past the limits is left to the worker (in verified), never decoded here.
    const events = input.records.map((r, i) => { if (i === over) return null; try { return decodeRecord(r, input.ids) } catch { return null } })
    const from = input.from === 'head' ? lane.predicted.seq : input.from
    const used = { ...lane.predicted }
    const verified = this.#verify(agentId, { ids: input.ids, records: input.records, agentId: used.agentId, publicKey: used.publicKey, pq: used.pq })
    this.#predict(lane, from, over >= 0 ? events.slice(0, over) : events)
    this.#queued += n; lane.queued += n
    // The lane waits only for the checks of the batch before; the ack waits for its durable write.
    const checked = lane.tail.then(() => this.#process(agentId, lane, input, events, verified, used))
    lane.tail = checked.catch(() => {})
    return checked.then((c) => c.done).finally(() => { this.#queued -= n; lane.queued -= n })
  }

  /** Re-reads the record; a lane whose state is behind it starts again from it. Only with no write of the lane in flight. */
  async #resync (agentId: string, lane: Lane): Promise<AgentRecord | undefined> {
    const rec = await this.#store.reload(agentId)
    if (rec && lane.check !== null && lane.check.seq !== rec.count) { this.#restart(lane, rec); lane.predicted = null }
    return rec
  }

  /** The lane starts again from the record as stored (no write of it in flight). */
  #restart (lane: Lane, rec: AgentRecord): CheckState {
    const check = lane.check = this.#fromRecord(rec)
    lane.pendingNonces.clear(); lane.recent.clear(); lane.broken = false
    // A batch nacked for a failed write already has its answer; one now held in full (another hub stored
    // it) writes nothing and must not inherit that failure.
    lane.lastWrite = Promise.resolve()
    return check
  }

  #verify (agentId: string, item: VerifyItem): Promise<VerifyResult> {
    const seen = this.#hooks.verified
    if (seen === undefined) return this.#pool ? this.#pool.submit(agentId, item) : Promise.resolve(verifyBatch(item))
    const t0 = performance.now()
    const done = (r: VerifyResult): VerifyResult => { seen(agentId, (performance.now() - t0) / 1000, item.records.length); return r }
    if (this.#pool) return this.#pool.submit(agentId, item).then(done)
    return Promise.resolve(done(verifyBatch(item)))
  }

  /** Advances the predicted key over the batch's rotations, so the next batch can be verified now. */
  #predict (lane: Lane, from: number, events: Array<AissEvent | null>): void {
    const p = lane.predicted!
    if (from !== p.seq) return // a resend or a gap: the lane re-verifies if the guess was wrong
    for (const ev of events) {
      const type = ev?.payload?.event_type
      if (ev && (type === ROTATION_EVENT_TYPE || type === PROFILE_UPGRADE_EVENT_TYPE)) {
        const r = profileRules().advanceKeys(ev, p)
        if (r.ok) { p.agentId = r.keys.agentId; p.publicKey = r.keys.publicKey; p.pq = r.keys.pq }
      }
    }
    p.seq = from + events.length
  }

  async #process (agentId: string, lane: Lane, input: BatchInput, events: Array<AissEvent | null>, verified: Promise<VerifyResult>,
    used: Predicted): Promise<{ done: Promise<BatchOutcome> }> {
    // Wrapped, because an async function's promise would flatten (and so wait for) the write.
    let out = await this.#check(agentId, lane, input, events, verified, used)
    if (this.#store.shared && 'nack' in out && out.nack.code === NACK_CODES.GAP) {
      // Several hubs on one store: the batches before this one may have been stored by another hub. Ask
      // the store, not this lane, before sending the device back.
      await lane.lastWrite.catch(() => {})
      let rec = await this.#resync(agentId, lane).catch(() => undefined)
      // Round robin over a shared subscription: the batch before this one is often still being written
      // by the other hub. A short wait for it beats sending the device back to resend both.
      for (let waited = 0; rec && typeof input.from === 'number' && rec.count < input.from && waited < SHARED_GAP_WAIT_MS; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        rec = await this.#resync(agentId, lane).catch(() => undefined)
      }
      if (rec && rec.count > (out.nack.head?.seq ?? -1) + 1) out = await this.#check(agentId, lane, input, events, verified, used)
    }
    return { done: 'later' in out ? out.later : Promise.resolve(out) }
  }

  async #check (agentId: string, lane: Lane, input: BatchInput, events: Array<AissEvent | null>, verified: Promise<VerifyResult>,
    used: Predicted): Promise<BatchOutcome | { later: Promise<BatchOutcome> }> {
    let result: VerifyResult
    try { result = await verified } catch { result = verifyBatch({ ids: input.ids, records: input.records, agentId: used.agentId, publicKey: used.publicKey, pq: used.pq }) }
    let rec = this.#store.agent(agentId)!
    let state = lane.check
    if (lane.broken || state === null) {
      await lane.lastWrite.catch(() => {})
      rec = (await this.#store.reload(agentId)) ?? rec
      state = this.#restart(lane, rec)
    }
    const from = input.from === 'head' ? state.seq : input.from
    const headNow = (): WireHead | null => state.headHash === null ? null : { seq: state.seq - 1, hash: state.headHash }
    if (from > state.seq) {
      this.#resetPrediction(lane)
      return { nack: { code: NACK_CODES.GAP, message: `batch starts at #${from}, the hub's next is #${state.seq}`, head: headNow(), retry: true } }
    }
    // 1. Positions the hub already holds: the same event (a resend) or a different one (a fork).
    const skip = Math.min(state.seq - from, events.length)
    for (let i = 0; i < skip; i++) {
      const seq = from + i
      const held = lane.recent.get(seq) ?? await this.#heldHash(agentId, lane, seq)
      if (result.hashes[i] !== held) {
        const forged = await this.#forkForged(agentId, lane, input, i, seq, events[i] ?? null)
        if (forged) return forged
        const differs = `event ${seq}: differs from the event the hub holds at that position (hash ${result.hashes[i] || '(none)'} vs ${held}); both are signed by the agent's key`
        const problem = await this.#finalFork(agentId, seq, { code: ErrorCodes.FORK_DETECTED, index: seq, message: differs, expected: held, actual: result.hashes[i] || '' })
        return this.#refuse(agentId, lane, input, seq, i, problem, headNow())
      }
    }
    // 2. New events, checked in order; the batch stops at the first refused one.
    if (skip < events.length && (skip > 0 || used.agentId !== state.agentId || used.seq !== state.seq || !samePq(used.pq, state.pq ?? null))) {
      // Verified with a wrong guess of the keys in force (a resend, or a rotation refused earlier): again.
      const fresh = await this.#verify(agentId + '\u0000re', { ids: input.ids, records: input.records.slice(skip), agentId: state.agentId, publicKey: state.publicKey, pq: state.pq ?? null })
      result = { sig: [...result.sig.slice(0, skip), ...fresh.sig], hashes: [...result.hashes.slice(0, skip), ...fresh.hashes], faults: [...result.faults.slice(0, skip), ...fresh.faults] }
    }
    const fresh = events.slice(skip)
    const nonces = await this.#store.noncesUsed(agentId, fresh.map((ev) => ({ signer: String(ev?.agent_id), nonce: String(ev?.nonce) })))
    const accepted: Array<{ event: AissEvent, hash: string, keyIndex: number, record: Uint8Array }> = []
    const keys = [...rec.keys]
    let refused: { i: number, problem: ChainProblem } | null = null
    let hostile: { i: number, reason: HostileReason, message: string, problem?: ChainProblem | undefined } | null = null
    let tooLarge: number | null = null
    let behind = false
    const over = input.overLimit?.index ?? -1
    for (let j = 0; j < fresh.length; j++) {
      const i = skip + j
      const ev = fresh[j]!
      const nk = nonceKey(ev ?? {})
      const signer = state.agentId
      // Only what the key in force signed can say anything about this agent (issue 14, item 1).
      const unsigned = unsignedReason(ev === null && i !== over ? SIG.UNDECODABLE : result.sig[i]!)
      if (unsigned !== null) { hostile = { i, reason: unsigned, message: `event ${state.seq}: no valid signature of ${state.agentId}`, problem: unsignedProblem(state.seq, result.faults[i]) }; break }
      if (i === over) { tooLarge = i; break }
      const usedAt = nonces[j] ?? lane.pendingNonces.get(nk)
      // Held at or past the position the lane expects it: the lane is behind the store (another hub stored
      // it, several hubs on one store), and this is a resend, not a replay: asked again from the store.
      if (usedAt !== undefined && usedAt >= state.seq) { behind = true; break }
      if (usedAt !== undefined && (lane.recent.get(usedAt) ?? await this.#heldHash(agentId, lane, usedAt)) === result.hashes[i]) {
        // The agent's own event, already held at #usedAt, sent again at another position: a replay by
        // whoever copied it, not something the agent did twice.
        hostile = { i, reason: HOSTILE.REPLAYED_EVENT, message: `event ${state.seq}: is event #${usedAt}, which the hub already holds` }; break
      }
      const prev = ev?.previous_hash
      const claimedBy = typeof prev !== 'string' || state.headHash === null || prev === state.headHash ? undefined : await this.#claimedBy(agentId, lane, state, prev, accepted)
      const problems = checkEvent(state, ev, result.sig[i]!, result.hashes[i]!, usedAt !== undefined, result.faults[i] ?? null, claimedBy)
      if (problems.length > 0) {
        const p = problems[0]!
        // A new event chained onto an earlier one than the head: the histories part at the event that claimed it first.
        refused = { i, problem: p.code === ErrorCodes.FORK_DETECTED && claimedBy !== undefined ? await this.#finalFork(agentId, claimedBy, p) : p }
        break
      }
      if (state.agentId !== signer) keys.push({ agentId: state.agentId, publicKey: state.publicKey })
      lane.pendingNonces.set(nk, state.seq - 1)
      lane.recent.set(state.seq - 1, result.hashes[i]!)
      // The bytes as received and verified are what is stored (hub/store/types.ts ChainAppend), not a re-encoding.
      accepted.push({ event: ev!, hash: result.hashes[i]!, keyIndex: keys.findIndex((k) => k.agentId === signer), record: input.records[i]! })
    }
    if (behind) {
      this.#forget(lane, accepted)
      const h = this.#store.agent(agentId)?.head
      return { nack: { code: NACK_CODES.GAP, message: `the hub's view of ${agentId} was behind its store: resend from the hub's head`, head: h ? { seq: h.seq, hash: h.hash } : null, retry: true } }
    }
    const current = this.#store.agent(agentId)?.state ?? 'unknown'
    if (accepted.length > 0 && current !== 'allowed') {
      // Revoked (on this hub, or on another one sharing the store) while the batch was being checked: the
      // caller's check is stale, and nothing the agent signed is taken after the hub knows.
      this.#forget(lane, accepted)
      const { code, retry } = notAllowedNack(current)
      return { nack: { code, message: `agent ${agentId} became ${current} while its batch was checked`, head: null, retry } }
    }
    const now = this.#now()
    if (accepted.length > 0) {
      const last = accepted.at(-1)!
      const expectedSeq = state.seq - 1 - accepted.length
      const next: AgentRecord = { ...this.#store.agent(agentId)!, keys, head: { seq: state.seq - 1, hash: last.hash, timestamp: timestampSeconds(last.event.timestamp)! }, count: state.seq, lastSeen: now }
      // The AISS-2 profile state goes with the head: a restarted hub (or another one) continues under it.
      if (state.pq != null || next.profile !== undefined) next.profile = pqToJSON(state.pq ?? null)
      const write = this.#store.append([{ agentId, expectedSeq, events: accepted, record: next }])
      lane.lastWrite = write.then(() => {
        for (const a of accepted) lane.pendingNonces.delete(nonceKey(a.event))
        this.#hooks.stored?.(agentId, accepted.map((a) => a.event), next)
      }, (err) => { lane.broken = true; throw err })
    }
    if (hostile) return { hostile: hostile.reason, message: hostile.message, index: from + hostile.i, problem: hostile.problem }
    if (tooLarge !== null) {
      // Signed by the agent, so not hostile, and not a chain fault either (no evidence, no Vigil anomaly):
      // the event cannot be taken as it is, and resending will not change that.
      this.#resetPrediction(lane)
      await lane.lastWrite.catch(() => {})
      return { nack: { code: NACK_CODES.EVENT_TOO_LARGE, message: `event #${from + tooLarge} of ${agentId}: ${input.overLimit!.message}; it can only leave the device in an export`, head: headNow(), retry: false }, index: from + tooLarge }
    }
    if (refused) return this.#refuse(agentId, lane, input, from + refused.i, refused.i, refused.problem, headNow())
    const head = headNow()!
    const later = lane.lastWrite.then((): BatchOutcome => ({ ack: { head, stored: accepted.length, duplicates: skip } }), async (err: unknown): Promise<BatchOutcome> => {
      this.#resetPrediction(lane)
      const code = (err as { code?: unknown }).code
      if (code === 'STORE_CONFLICT' && this.#store.shared) {
        // Another hub extended (or changed) the chain first: its head is the answer, and the device
        // resends from there at once (what it sent is then held, or checked against the new head).
        this.#hooks.raceLost?.(agentId)
        const h = this.#store.agent(agentId)?.head // a refused write left the view as stored (HubStore.append)
        return { nack: { code: NACK_CODES.GAP, message: `another hub stored events of ${agentId} first (STORE_CONFLICT): resend from the hub's head`, head: h ? { seq: h.seq, hash: h.hash } : null, retry: true } }
      }
      return { nack: { code: NACK_CODES.HUB_BUSY, message: `the hub could not store the batch${typeof code === 'string' ? ` (${code})` : ''}: ${(err as Error).message}`, head: null, retry: true } }
    })
    return { later }
  }

  /**
   * An event whose previous_hash `prev` names a held event other than the head: the position of the event
   * that chained onto that one first (the verifier's FORK_DETECTED), looked for among the FORK_REACH newest
   * positions: the lane's recent hashes, this batch's accepted events, then the store (which keeps no index
   * by hash: its events are hashed, once what the lane wrote before is durable). Further back, or not
   * found, it stays CHAIN_LINK_BROKEN. Only on the failure path, for an event the agent's key signed.
   */
  async #claimedBy (agentId: string, lane: Lane, state: CheckState, prev: string, accepted: ReadonlyArray<{ hash: string }>): Promise<number | undefined> {
    const first = (seq: number | undefined): number | undefined => seq !== undefined && seq + 1 < state.seq ? seq + 1 : undefined
    const inRing = lane.recent.find(prev)
    if (inRing !== undefined) return first(inRing)
    const k = accepted.findIndex((a) => a.hash === prev)
    if (k >= 0) return first(state.seq - accepted.length + k)
    const from = Math.max(0, state.seq - FORK_REACH)
    const to = Math.min(lane.recent.oldest, state.seq - accepted.length)
    if (from >= to) return undefined
    const last = lane.forkScan
    if (last?.prev === prev) return first(last.found)
    // Rate-limited: a second far fork within FORK_SCAN_MS is refused as CHAIN_LINK_BROKEN, not FORK_DETECTED.
    if (last !== null && performance.now() - last.at < FORK_SCAN_MS) return undefined
    await lane.lastWrite.catch(() => {})
    let found: number | undefined
    try {
      for await (const { seq, event } of this.#store.events(agentId, from, to)) if (eventHash(event) === prev) { found = seq; break }
    } catch { /* a store that cannot be read names no fork: the link is broken either way */ }
    lane.forkScan = { prev, found, at: performance.now() }
    return first(found)
  }

  /** The hash held at `seq` once what the lane checked before is durable ('' when none). */
  async #heldHash (agentId: string, lane: Lane, seq: number): Promise<string> {
    await lane.lastWrite.catch(() => {})
    return this.#storedHash(agentId, seq)
  }

  /** A fork where the histories part at `seq`: FORK_AFTER_FINALIZATION when a verified anchor the hub holds made `seq` final. */
  async #finalFork (agentId: string, seq: number, fork: ChainProblem): Promise<ChainProblem> {
    const final = await this.#finality?.(agentId, seq).catch(() => null) ?? null
    if (!final) return fork
    return { ...fork, code: 'FORK_AFTER_FINALIZATION', message: `${fork.message}, and that event is final: anchor event ${final.index} (covering ${final.from}..${final.to}) has a verified token of ${final.genTime?.toISOString()}` }
  }

  async #storedHash (agentId: string, seq: number): Promise<string> {
    const ev = await this.#store.event(agentId, seq)
    return ev ? eventHash(ev) : ''
  }

  /**
   * A different event at a held position is a fork only if the key that signed the held event also
   * signed this one, and it is not one of the agent's own events replayed at the wrong position.
   * Returns the hostile outcome otherwise, null for a real fork. One signature check per message at
   * most: the batch stops here either way.
   */
  async #forkForged (agentId: string, lane: Lane, input: BatchInput, i: number, seq: number, ev: AissEvent | null): Promise<BatchOutcome | null> {
    const out = (reason: HostileReason, message: string): BatchOutcome => { this.#resetPrediction(lane); return { hostile: reason, message, index: seq } }
    if (ev === null) return out(HOSTILE.FORGED_EVENT_MALFORMED, `event ${seq}: not an event record`)
    await lane.lastWrite.catch(() => {})
    const rec = this.#store.agent(agentId)!
    const held = await this.#store.event(agentId, seq)
    const key = rec.keys.find((k) => k.agentId === held?.agent_id)
    if (!held || !key) return out(HOSTILE.FORGED_SIGNATURE_INVALID, `event ${seq}: the hub cannot tell which key signed its event there`)
    const check = verifyBatch({ ids: input.ids, records: [input.records[i]!], agentId: key.agentId, publicKey: key.publicKey })
    const unsigned = unsignedReason(check.sig[0]!)
    if (unsigned !== null) return out(unsigned, `event ${seq}: differs from the held event and carries no valid signature of ${key.agentId}`)
    const [usedAt] = await this.#store.noncesUsed(agentId, [{ signer: String(ev.agent_id), nonce: String(ev.nonce) }])
    if (usedAt !== undefined && (await this.#storedHash(agentId, usedAt)) === check.hashes[0]) {
      return out(HOSTILE.REPLAYED_EVENT, `event ${seq}: is event #${usedAt}, which the hub already holds`)
    }
    return null
  }

  /** A checked batch that is not written: its nonces are free again, and the lane starts again from the store. */
  #forget (lane: Lane, accepted: ReadonlyArray<{ event: AissEvent }>): void {
    for (const a of accepted) lane.pendingNonces.delete(nonceKey(a.event))
    lane.check = null; lane.predicted = null
  }

  #resetPrediction (lane: Lane): void {
    const s = lane.check
    lane.predicted = s ? { seq: s.seq, agentId: s.agentId, publicKey: s.publicKey, pq: s.pq ?? null } : null
  }

  /** Keeps the refused record as evidence, counts it, tells Vigil (through the hook), nacks. */
  async #refuse (agentId: string, lane: Lane, input: BatchInput, seq: number, i: number, problem: ChainProblem, head: WireHead | null): Promise<BatchOutcome> {
    this.#resetPrediction(lane)
    const now = this.#now()
    await lane.lastWrite.catch(() => {})
    const rec = this.#store.agent(agentId)!
    const evidence: Evidence = { at: now, code: problem.code, message: problem.message, seq, topic: input.topic, raw: input.records[i]! }
    const next: AgentRecord = {
      ...rec, rejectedCount: rec.rejectedCount + 1, evidenceCount: rec.evidenceCount + 1, lastSeen: now,
      lastProblem: { code: problem.code, index: problem.index, message: problem.message, at: now }
    }
    await this.#store.putAgent(next, evidence).catch(() => { lane.broken = true })
    this.#hooks.rejected?.(agentId, problem)
    return {
      nack: { code: NACK_CODES.REJECTED, message: `${problem.code}: ${problem.message}`, head, retry: false },
      problem, index: seq, hash: null
    }
  }
}
