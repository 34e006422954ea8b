// Chain verification. Unlike the reference (protocol.md §4.1, gaps.md #8, #9) it never stops at the
// first fault and it checks what the reference skips: agent_id ↔ public key binding, strict base64,
// forks inside a linear list. Untrusted input gives a report, never a crash; assertChain() throws.
import { crypto, sha256Hex } from './crypto.js'
import { fromBase64Strict, toHex } from './encoding.js'
import { PcpError, ErrorCodes, type ErrorCode } from './errors.js'
import { signingBytes } from './event.js'
import { chainStep, hasEventShape, type ChainProblem, type ChainState, type StepFacts } from './chain-step.js'
import { profileRules, ALL_AISS2, type PqInForce } from './profile-rules.js'
import type { SigFault } from './aiss2-format.js'
import { deriveAgentId, parseIdentityDocument } from './identity.js'
import type { AissEvent } from './types.js'

export type { ChainProblem } from './chain-step.js'

export interface ChainReport {
  valid: boolean
  eventCount: number
  /** agent_id at the start of the chain and after any key rotations. */
  agentId: string | null
  finalAgentId: string | null
  headHash: string | null
  hashes: string[]
  errors: ChainProblem[]
}

export type SignatureVerdict = 'ok' | 'encoding' | 'invalid' | 'not_canonical'

/**
 * An event's signature against a raw public key: 'encoding' unless it is the strict padded base64 of 64
 * bytes, 'not_canonical' when the event cannot be put in canonical form, else 'ok' or 'invalid'. Pass the
 * signing bytes when the caller already has them (they are also what the event hash covers).
 */
export function checkEventSignature (ev: AissEvent, publicKey: Uint8Array, bytes?: Uint8Array): SignatureVerdict {
  const signature = typeof ev.signature === 'string' ? fromBase64Strict(ev.signature) : null
  if (!signature || signature.length !== 64) return 'encoding'
  if (bytes === undefined) {
    try { bytes = signingBytes(ev) } catch { return 'not_canonical' }
  }
  try { return crypto().verify(signature, bytes, publicKey) ? 'ok' : 'invalid' } catch { return 'invalid' }
}

/**
 * What the replay and fork checks remember: for each key (an agent's nonce; a previous_hash), the index
 * of the first event that used it. claim() returns that index, or records `index` and returns undefined.
 * In memory by default; the streaming export verifier (runtime/audit-stream.ts) passes compact ones.
 */
export interface SeenIndex { claim (key: string, index: number): number | undefined }

export class MapSeenIndex implements SeenIndex {
  readonly #map = new Map<string, number>()
  claim (key: string, index: number): number | undefined {
    const earlier = this.#map.get(key)
    if (earlier === undefined) this.#map.set(key, index)
    return earlier
  }
}

/**
 * Checks events one at a time, keeping only what the next check needs, so a chain can be verified as it
 * arrives. verifyChain() is a loop over it. The rules are chainStep's (runtime/chain-step.ts); this class
 * adds what a verifier of a whole chain needs around them: hashing, the signature check, and the nonce
 * and predecessor indexes. Unlike the hub it reads on past a fault, so one report lists every problem.
 */
export class ChainVerifier {
  readonly #state: ChainState
  readonly #facts: StepFacts = { hash: null, signature: 'ok', canonicalError: undefined, nonceUsed: false, predecessorClaimedBy: undefined }
  readonly #nonces: SeenIndex
  readonly #successorOf: SeenIndex // previous_hash → index of the event that used it

  constructor (identity: { agentId: string, publicKey: Uint8Array, publicKeyPq?: Uint8Array | null, pq?: PqInForce | null }, resume?: { headHash: string, lastTimestamp: number, count: number },
    seen: { nonces?: SeenIndex, successors?: SeenIndex } = {}) {
    this.#nonces = seen.nonces ?? new MapSeenIndex()
    this.#successorOf = seen.successors ?? new MapSeenIndex()
    this.#state = {
      seq: resume?.count ?? 0, headHash: resume?.headHash ?? null, lastTimestamp: resume?.lastTimestamp ?? null,
      agentId: identity.agentId, publicKey: identity.publicKey,
      // An AISS-2.0 identity binds its ML-DSA key from event 0, and every event is AISS-2.0 until a
      // profile_upgrade records a policy (runtime/profile.ts).
      pq: identity.pq ?? (identity.publicKeyPq ? { publicKey: identity.publicKeyPq, policy: ALL_AISS2 } : null)
    }
  }

  /** The ML-DSA key and policy in force for the next event; null while the chain is AISS-1. */
  get pq (): PqInForce | null { return this.#state.pq ?? null }

  /** The agent_id and key in force for the next event. */
  get agentId (): string { return this.#state.agentId }
  get publicKey (): Uint8Array { return this.#state.publicKey }
  get headHash (): string | null { return this.#state.headHash }
  get lastTimestamp (): number | null { return this.#state.lastTimestamp }
  /** Events pushed so far. */
  get count (): number { return this.#state.seq }

  /** Checks the next event; returns its problems (empty when it is good) and its hash. */
  push (event: unknown): { problems: ChainProblem[], hash: string | null } {
    const facts = this.#facts
    facts.hash = null; facts.signature = 'ok'; facts.canonicalError = undefined; facts.nonceUsed = false; facts.predecessorClaimedBy = undefined; facts.faults = undefined
    // Only a well-formed event is hashed and enters the indexes (a malformed one claims no nonce).
    if (hasEventShape(event)) {
      let bytes: Uint8Array | null = null
      try { bytes = signingBytes(event) } catch (err) { facts.signature = 'not_canonical'; facts.canonicalError = (err as Error).message }
      if (bytes !== null) {
        const index = this.#state.seq
        facts.hash = sha256Hex(bytes)
        // The profile rule (runtime/profile-rules.ts): AISS-1 and AISS-2 signatures, downgrades.
        const faults: SigFault[] = profileRules().checkSignedEvent(event, { agentId: this.#state.agentId, publicKey: this.#state.publicKey, pq: this.#state.pq ?? null }, bytes)
        facts.faults = faults
        facts.signature = faults.length === 0 ? 'ok' : 'invalid'
        const prev = event.previous_hash
        // Recorded for every event (the first user of a previous_hash keeps it), consulted on a broken link.
        if (typeof prev === 'string' && prev) facts.predecessorClaimedBy = this.#successorOf.claim(prev, index)
        if (typeof event.nonce === 'string' && event.nonce.length > 0) facts.nonceUsed = this.#nonces.claim(nonceKey(event), index) !== undefined
      }
    }
    const problems = chainStep(this.#state, event, facts, this.#state)
    return { problems, hash: facts.hash }
  }
}

/** The replay check's key: nonces are scoped per agent, as the reference's NonceStore. */
export function nonceKey (ev: { agent_id?: unknown, nonce?: unknown }): string {
  return `${String(ev.agent_id)}\u0000${String(ev.nonce)}`
}

/** The identity an export or a chain is checked against: a document (checked) or a raw key. */
export function identityFrom (identity: unknown): { agentId: string, publicKey: Uint8Array, publicKeyPq: Uint8Array | null } {
  if (identity instanceof Uint8Array) return { agentId: deriveAgentId(identity), publicKey: identity, publicKeyPq: null }
  if (identity && typeof identity === 'object' && 'publicKey' in identity && (identity as { publicKey: unknown }).publicKey instanceof Uint8Array) {
    const { publicKey: pk, publicKeyPq } = identity as { publicKey: Uint8Array, publicKeyPq?: unknown }
    return { agentId: deriveAgentId(pk), publicKey: pk, publicKeyPq: publicKeyPq instanceof Uint8Array ? publicKeyPq : null }
  }
  const { doc, publicKey, publicKeyPq } = parseIdentityDocument(identity)
  return { agentId: doc.agent_id, publicKey, publicKeyPq }
}

/** Verifies a whole chain and lists every problem found, each with its event index and a stable code. */
export function verifyChain (events: readonly unknown[], identity: unknown): ChainReport {
  let id: { agentId: string, publicKey: Uint8Array, publicKeyPq: Uint8Array | null }
  try {
    id = identityFrom(identity)
  } catch (err) {
    const e = err as PcpError
    return {
      valid: false, eventCount: Array.isArray(events) ? events.length : 0, agentId: null, finalAgentId: null, headHash: null, hashes: [],
      errors: [{ code: (e.code ?? ErrorCodes.IDENTITY_INVALID) as ErrorCode, index: -1, message: e.message, ...(e.field ? { field: e.field } : {}) }]
    }
  }
  const verifier = new ChainVerifier(id)
  const errors: ChainProblem[] = []
  const hashes: string[] = []
  for (const event of events) {
    const { problems, hash } = verifier.push(event)
    errors.push(...problems)
    hashes.push(hash ?? '')
  }
  return {
    valid: errors.length === 0,
    eventCount: events.length,
    agentId: id.agentId,
    finalAgentId: verifier.agentId,
    headHash: verifier.headHash,
    hashes,
    errors
  }
}

/** As verifyChain, but throws the first problem as a PcpError carrying its index (and hashes for links). */
export function assertChain (events: readonly unknown[], identity: unknown): ChainReport {
  const report = verifyChain(events, identity)
  const first = report.errors[0]
  if (first) {
    const { code, message, ...fields } = first
    throw new PcpError(code, message, fields)
  }
  return report
}

/** Groups events that claim the same predecessor (protocol.md §7): one entry per shared previous_hash. */
export function findForks (events: readonly AissEvent[]): Array<{ previousHash: string, indexes: number[] }> {
  const byPrev = new Map<string, number[]>()
  events.forEach((ev, i) => {
    const prev = ev?.previous_hash
    if (typeof prev !== 'string' || !prev) return // the reference ignores falsy previous_hash
    const list = byPrev.get(prev)
    if (list) list.push(i); else byPrev.set(prev, [i])
  })
  return [...byPrev].filter(([, idx]) => idx.length > 1).map(([previousHash, indexes]) => ({ previousHash, indexes }))
}


/** Every repeat of a nonce by the same agent, first occurrence not reported (the reference's detect_replay_attacks). */
export function findReplays (events: readonly AissEvent[]): Array<{ agentId: string, nonce: string, index: number }> {
  const seen = new Set<string>()
  const out: Array<{ agentId: string, nonce: string, index: number }> = []
  events.forEach((ev, index) => {
    if (!ev?.agent_id || !ev.nonce) return
    const key = `${ev.agent_id}\u0000${ev.nonce}`
    if (seen.has(key)) out.push({ agentId: ev.agent_id, nonce: ev.nonce, index })
    seen.add(key)
  })
  return out
}
