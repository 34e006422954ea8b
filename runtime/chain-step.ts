// The chain rules, written once (protocol.md §4, §5, §7): given where a chain stands and its next event,
// the problems of that event and where the chain stands after it. Every checker is a loop around this
// step — ChainVerifier (runtime/verify.ts), the hub's in-order check (hub/ingest-verify.ts), and through
// it the HTTP record route and what Vigil's chain risk counts — so a rule and the fields it reports
// cannot drift apart between them.
//
// What the step does not do is the expensive or stateful lookup: the caller brings the event's hash
// and signature verdict (a hub worker computed them, or the verifier inline), and whether its nonce and
// its previous_hash were used before (an in-memory index, a compact one, or the hub's store). So the
// step is pure and cheap: it allocates nothing for a good event — the facts and the next state are
// objects the caller reuses — which matters because it runs once per event on the hot path.
import { ErrorCodes, type ErrorCode } from './errors.js'
import { timestampSeconds } from './event.js'
import { ROTATION_EVENT_TYPE } from './rotation.js'
import { AISS2_VERSION, type SigFault } from './aiss2-format.js'
import { profileRules, PROFILE_UPGRADE_EVENT_TYPE, type PqInForce } from './profile-rules.js'
import type { AissEvent } from './types.js'

export interface ChainProblem {
  /** FORK_AFTER_FINALIZATION (runtime/tsa/errors.ts): a hub's fork at a position a verified anchor made final (hub/finality.ts). */
  code: ErrorCode | 'FORK_AFTER_FINALIZATION'
  /** Index of the event at fault; -1 for the identity document itself. */
  index: number
  message: string
  field?: string
  expected?: string
  actual?: string
}

/** Where a chain stands: what the next event is checked against. */
export interface ChainState {
  /** Position (index) the next event has. */
  seq: number
  headHash: string | null
  lastTimestamp: number | null
  /** The agent_id and key in force (they change at a rotation). */
  agentId: string
  publicKey: Uint8Array
  /** The ML-DSA key and per-event-type policy in force (runtime/profile.ts); null while the chain is AISS-1. */
  pq?: PqInForce | null
}

/** What the caller found out about the event before the step. `undecodable`: a record that is no event. */
export type SignatureFact = 'ok' | 'encoding' | 'invalid' | 'not_canonical' | 'undecodable'

export interface StepFacts {
  /** SHA-256 hex of the event's signing bytes; null when it has none (not canonical, undecodable). */
  hash: string | null
  /** The signature checked against `state.publicKey` (the key in force before this event). */
  signature: SignatureFact
  /** Why the event could not be canonicalised, when the caller knows (for the message). */
  canonicalError?: string | undefined
  /** Whether this agent used the event's nonce before. */
  nonceUsed: boolean
  /** Index of an earlier event that claimed the same previous_hash; set only by callers that track it. */
  predecessorClaimedBy: number | undefined
  /**
   * The signature and profile faults of runtime/profile-rules.ts's checkSignedEvent against the keys in
   * force (AISS-1 and AISS-2 alike), when the caller ran it; they are reported instead of the messages
   * `signature` alone would give. `signature` must then be its classical verdict (classicalVerdict).
   */
  faults?: readonly SigFault[] | undefined
}

export const REQUIRED_FIELDS = ['version', 'agent_id', 'timestamp', 'nonce', 'payload', 'previous_hash', 'signature'] as const

/** `signature` is what an AISS-1 event is signed in; an AISS-2.0 event (or one wearing `signatures`) is
 *  judged by the profile rule, which reports a missing half itself. */
function lacks (event: object, field: typeof REQUIRED_FIELDS[number]): boolean {
  if (field in event) return false
  return field !== 'signature' || ((event as { version?: unknown }).version !== AISS2_VERSION && !('signatures' in event))
}
const ZERO_HASH = '0'.repeat(64)
const HEX64 = /^[0-9a-f]{64}$/
/** Returned for a good event, so a good event costs no allocation. Frozen: a caller cannot add to it. */
const NO_PROBLEMS = Object.freeze([]) as unknown as ChainProblem[]

/** The event is a JSON object with every field the format requires (what makes it worth hashing). */
export function hasEventShape (event: unknown): event is AissEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false
  for (const field of REQUIRED_FIELDS) if (lacks(event, field)) return false
  return true
}

function add (list: ChainProblem[] | null, code: ErrorCode, index: number, message: string, field?: string, expected?: string, actual?: string): ChainProblem[] {
  const p: ChainProblem = { code, index, message: `event ${index}: ${message}` }
  if (field !== undefined) p.field = field
  if (expected !== undefined) p.expected = expected
  if (actual !== undefined) p.actual = actual
  if (list === null) return [p]
  list.push(p)
  return list
}

/** A signature or profile fault of the event at `index`, worded as the step reports it. */
export function faultProblem (index: number, fault: Readonly<SigFault>): ChainProblem {
  return add(null, fault.code, index, fault.message, fault.field)[0]!
}

/**
 * Checks `event` at `state.seq` and writes the state after it into `next` (which may be `state` itself).
 * After a fault `next` is where a verifier that reads on would stand (the next position, the event's hash
 * as head when it has one, the key unchanged); a checker that refuses faulty events keeps `state`.
 * Returns the problems, in a fixed order (shape, signature, identity, link, time, nonce, rotation);
 * an empty, frozen list for a good event.
 */
export function chainStep (state: Readonly<ChainState>, event: unknown, facts: Readonly<StepFacts>, next: ChainState): ChainProblem[] {
  const index = state.seq
  const headHash = state.headHash
  const lastTs = state.lastTimestamp
  const agentId = state.agentId
  const publicKey = state.publicKey
  const pq = state.pq ?? null
  next.seq = index + 1; next.headHash = headHash; next.lastTimestamp = lastTs; next.agentId = agentId; next.publicKey = publicKey; next.pq = pq

  if (facts.signature === 'undecodable') return add(null, ErrorCodes.EVENT_MALFORMED, index, 'is not an event record')
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return add(null, ErrorCodes.EVENT_MALFORMED, index, 'is not a JSON object')
  let p: ChainProblem[] | null = null
  for (const field of REQUIRED_FIELDS) {
    if (lacks(event, field)) p = add(p, ErrorCodes.EVENT_MALFORMED, index, `missing field "${field}"`, field)
  }
  if (p !== null) return p
  const ev = event as AissEvent
  const payload = ev.payload as unknown
  const payloadOk = typeof payload === 'object' && payload !== null && !Array.isArray(payload)
  if (!payloadOk) p = add(p, ErrorCodes.EVENT_MALFORMED, index, 'payload is not an object', 'payload')
  // An int or a float, compared by value (runtime/event.ts).
  const ts = timestampSeconds(ev.timestamp)
  if (ts === null) p = add(p, ErrorCodes.EVENT_MALFORMED, index, 'timestamp is not a number', 'timestamp')
  const hash = facts.hash
  if (hash === null || facts.signature === 'not_canonical') {
    return add(p, ErrorCodes.EVENT_MALFORMED, index, facts.canonicalError === undefined ? 'cannot be canonicalised' : `cannot be canonicalised: ${facts.canonicalError}`)
  }

  // Signature(s) and profile, against the keys in force at this point of the chain (they change at a
  // rotation and a profile upgrade).
  const faults = facts.faults
  if (faults !== undefined) { for (const f of faults) p = add(p, f.code, index, f.message, f.field) } else if (facts.signature === 'encoding') p = add(p, ErrorCodes.SIGNATURE_ENCODING, index, 'signature is not the standard padded base64 of 64 bytes', 'signature')
  else if (facts.signature === 'invalid') p = add(p, ErrorCodes.SIGNATURE_INVALID, index, `signature does not verify with the public key of ${agentId}`, 'signature')
  if (ev.agent_id !== agentId) {
    const actual = String(ev.agent_id)
    p = add(p, ErrorCodes.AGENT_ID_MISMATCH, index, `agent_id ${actual} is not the chain's agent ${agentId}`, 'agent_id', agentId, actual)
  }

  const prev = ev.previous_hash as unknown
  if (headHash === null) {
    // Genesis: every form the reference emits is accepted (protocol.md §5). No verifier there checks it.
    const ok = prev === null || prev === 'genesis' || prev === ZERO_HASH || (typeof prev === 'string' && HEX64.test(prev))
    if (!ok) p = add(p, ErrorCodes.EVENT_MALFORMED, index, `genesis previous_hash ${JSON.stringify(prev)} is none of the accepted forms`, 'previous_hash')
  } else if (prev !== headHash) {
    const earlier = facts.predecessorClaimedBy
    p = earlier !== undefined
      ? add(p, ErrorCodes.FORK_DETECTED, index, `claims the same predecessor ${String(prev)} as event ${earlier}`, 'previous_hash', headHash, String(prev))
      : add(p, ErrorCodes.CHAIN_LINK_BROKEN, index, `previous_hash does not match the hash of event ${index - 1}`, 'previous_hash', headHash, String(prev))
  }
  if (ts !== null && lastTs !== null && ts < lastTs) {
    p = add(p, ErrorCodes.TIMESTAMP_BACKWARDS, index, `timestamp ${ts} is earlier than the previous event's ${lastTs}`, 'timestamp', `>= ${lastTs}`, String(ev.timestamp))
  }
  const nonce = ev.nonce as unknown
  if (typeof nonce !== 'string' || nonce.length === 0) p = add(p, ErrorCodes.EVENT_MALFORMED, index, 'nonce is empty or not a string', 'nonce')
  // Scoped per agent, as the reference's NonceStore; a rotation starts a new agent_id.
  else if (facts.nonceUsed) p = add(p, ErrorCodes.NONCE_REPLAYED, index, `nonce ${nonce} was already used by this agent`, 'nonce', undefined, nonce)

  const type = p === null ? ev.payload.event_type : undefined
  if (type === ROTATION_EVENT_TYPE || type === PROFILE_UPGRADE_EVENT_TYPE) {
    const r = profileRules().advanceKeys(ev, { agentId, publicKey, pq })
    if (!r.ok) p = add(p, r.code, index, r.reason, 'payload')
    // From the next event on, the new keys sign and the new agent_id is expected.
    else { next.agentId = r.keys.agentId; next.publicKey = r.keys.publicKey; next.pq = r.keys.pq }
  }
  if (ts !== null) next.lastTimestamp = lastTs === null ? ts : Math.max(lastTs, ts)
  next.headHash = hash
  return p ?? NO_PROBLEMS
}

/** Copies a chain state field by field (a hub lane adopts the step's result only for a good event). */
export function copyChainState (from: Readonly<ChainState>, to: ChainState): ChainState {
  to.seq = from.seq; to.headHash = from.headHash; to.lastTimestamp = from.lastTimestamp; to.agentId = from.agentId; to.publicKey = from.publicKey; to.pq = from.pq ?? null
  return to
}
