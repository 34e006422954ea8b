// Chain verification. Unlike the reference (protocol.md §4.1, gaps.md #8, #9) it never stops at the
// first fault and it checks what the reference skips: agent_id ↔ public key binding, strict base64,
// forks inside a linear list. Untrusted input gives a report, never a crash; assertChain() throws.
import { crypto } from './crypto.js'
import { fromBase64Strict, toHex } from './encoding.js'
import { PcpError, ErrorCodes, type ErrorCode } from './errors.js'
import { signingBytes, timestampSeconds } from './event.js'
import { deriveAgentId, parseIdentityDocument } from './identity.js'
import { checkRotationPayload, ROTATION_EVENT_TYPE } from './rotation.js'
import type { AissEvent } from './types.js'

export interface ChainProblem {
  code: ErrorCode
  /** Index of the event at fault; -1 for the identity document itself. */
  index: number
  message: string
  field?: string
  expected?: string
  actual?: string
}

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

const REQUIRED = ['version', 'agent_id', 'timestamp', 'nonce', 'payload', 'previous_hash', 'signature'] as const
const ZERO_HASH = '0'.repeat(64)
const HEX64 = /^[0-9a-f]{64}$/

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
 * Checks events one at a time, keeping only what the next check needs, so the hub can verify a chain
 * as it arrives. verifyChain() is a loop over it.
 */
export class ChainVerifier {
  agentId: string
  publicKey: Uint8Array
  headHash: string | null
  lastTimestamp: number | null = null
  count = 0
  readonly #nonces: SeenIndex
  readonly #successorOf: SeenIndex // previous_hash → index of the event that used it

  constructor (identity: { agentId: string, publicKey: Uint8Array }, resume?: { headHash: string, lastTimestamp: number, count: number },
    seen: { nonces?: SeenIndex, successors?: SeenIndex } = {}) {
    this.#nonces = seen.nonces ?? new MapSeenIndex()
    this.#successorOf = seen.successors ?? new MapSeenIndex()
    this.agentId = identity.agentId
    this.publicKey = identity.publicKey
    this.headHash = resume?.headHash ?? null
    if (resume) { this.lastTimestamp = resume.lastTimestamp; this.count = resume.count }
  }

  /** Checks the next event; returns its problems (empty when it is good) and its hash. */
  push (event: unknown): { problems: ChainProblem[], hash: string | null } {
    const index = this.count++
    const problems: ChainProblem[] = []
    const add = (code: ErrorCode, message: string, extra: Partial<ChainProblem> = {}): void => {
      problems.push({ code, index, message: `event ${index}: ${message}`, ...extra })
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      add(ErrorCodes.EVENT_MALFORMED, 'is not a JSON object')
      return { problems, hash: null }
    }
    const ev = event as AissEvent
    for (const field of REQUIRED) {
      if (!(field in ev)) add(ErrorCodes.EVENT_MALFORMED, `missing field "${field}"`, { field })
    }
    if (problems.length) return { problems, hash: null }
    if (typeof ev.payload !== 'object' || ev.payload === null || Array.isArray(ev.payload)) add(ErrorCodes.EVENT_MALFORMED, 'payload is not an object', { field: 'payload' })
    const ts = timestampSeconds(ev.timestamp)
    if (ts === null) add(ErrorCodes.EVENT_MALFORMED, 'timestamp is not a number', { field: 'timestamp' })
    let bytes: Uint8Array
    try {
      bytes = signingBytes(ev)
    } catch (err) {
      add(ErrorCodes.EVENT_MALFORMED, `cannot be canonicalised: ${(err as Error).message}`)
      return { problems, hash: null }
    }
    const hash = toHex(crypto().sha256(bytes))

    // Signature, against the key in force at this point of the chain (it changes at a rotation).
    const verdict = checkEventSignature(ev, this.publicKey, bytes)
    if (verdict === 'encoding') {
      add(ErrorCodes.SIGNATURE_ENCODING, 'signature is not the standard padded base64 of 64 bytes', { field: 'signature' })
    } else if (verdict === 'invalid') {
      add(ErrorCodes.SIGNATURE_INVALID, `signature does not verify with the public key of ${this.agentId}`, { field: 'signature' })
    }
    if (ev.agent_id !== this.agentId) {
      add(ErrorCodes.AGENT_ID_MISMATCH, `agent_id ${String(ev.agent_id)} is not the chain's agent ${this.agentId}`, { field: 'agent_id', expected: this.agentId, actual: String(ev.agent_id) })
    }

    this.#checkLink(ev, index, add)
    if (ts !== null && this.lastTimestamp !== null && ts < this.lastTimestamp) {
      add(ErrorCodes.TIMESTAMP_BACKWARDS, `timestamp ${ts} is earlier than the previous event's ${this.lastTimestamp}`,
        { field: 'timestamp', expected: `>= ${this.lastTimestamp}`, actual: String(ev.timestamp) })
    }
    if (typeof ev.nonce !== 'string' || ev.nonce.length === 0) {
      add(ErrorCodes.EVENT_MALFORMED, 'nonce is empty or not a string', { field: 'nonce' })
    } else {
      // Scoped per agent, as the reference's NonceStore; a rotation starts a new agent_id.
      if (this.#nonces.claim(nonceKey(ev), index) !== undefined) add(ErrorCodes.NONCE_REPLAYED, `nonce ${ev.nonce} was already used by this agent`, { field: 'nonce', actual: ev.nonce })
    }

    if (ev.payload?.event_type === ROTATION_EVENT_TYPE && problems.length === 0) this.#applyRotation(ev, add)

    if (ts !== null) this.lastTimestamp = Math.max(this.lastTimestamp ?? ts, ts)
    this.headHash = hash
    return { problems, hash }
  }

  #checkLink (ev: AissEvent, index: number, add: (code: ErrorCode, message: string, extra?: Partial<ChainProblem>) => void): void {
    const prev = ev.previous_hash
    // Recorded for every event (the first user of a previous_hash keeps it), consulted on a broken link.
    const earlier = typeof prev === 'string' && prev ? this.#successorOf.claim(prev, index) : undefined
    if (this.headHash === null) {
      // Genesis: every form the reference emits is accepted (protocol.md §5). No verifier there checks it.
      const ok = prev === null || prev === 'genesis' || prev === ZERO_HASH || (typeof prev === 'string' && HEX64.test(prev))
      if (!ok) add(ErrorCodes.EVENT_MALFORMED, `genesis previous_hash ${JSON.stringify(prev)} is none of the accepted forms`, { field: 'previous_hash' })
    } else if (prev !== this.headHash) {
      if (earlier !== undefined) {
        add(ErrorCodes.FORK_DETECTED, `claims the same predecessor ${prev} as event ${earlier}`,
          { field: 'previous_hash', expected: this.headHash, actual: String(prev) })
      } else {
        add(ErrorCodes.CHAIN_LINK_BROKEN, `previous_hash does not match the hash of event ${index - 1}`,
          { field: 'previous_hash', expected: this.headHash, actual: String(prev) })
      }
    }
  }

  #applyRotation (ev: AissEvent, add: (code: ErrorCode, message: string, extra?: Partial<ChainProblem>) => void): void {
    const result = checkRotationPayload(ev.payload, { agentId: this.agentId, publicKey: this.publicKey })
    if (!result.ok) {
      add(ErrorCodes.ROTATION_INVALID, result.reason, { field: 'payload' })
      return
    }
    // From the next event on, the new key signs and the new agent_id is expected.
    this.agentId = result.newAgentId
    this.publicKey = result.newPublicKey
  }
}

/** The replay check's key: nonces are scoped per agent, as the reference's NonceStore. */
export function nonceKey (ev: { agent_id?: unknown, nonce?: unknown }): string {
  return `${String(ev.agent_id)}\u0000${String(ev.nonce)}`
}

/** The identity an export or a chain is checked against: a document (checked) or a raw key. */
export function identityFrom (identity: unknown): { agentId: string, publicKey: Uint8Array } {
  if (identity instanceof Uint8Array) return { agentId: deriveAgentId(identity), publicKey: identity }
  if (identity && typeof identity === 'object' && 'publicKey' in identity && (identity as { publicKey: unknown }).publicKey instanceof Uint8Array) {
    const pk = (identity as { publicKey: Uint8Array }).publicKey
    return { agentId: deriveAgentId(pk), publicKey: pk }
  }
  const { doc, publicKey } = parseIdentityDocument(identity)
  return { agentId: doc.agent_id, publicKey }
}

/** Verifies a whole chain and lists every problem found, each with its event index and a stable code. */
export function verifyChain (events: readonly unknown[], identity: unknown): ChainReport {
  let id: { agentId: string, publicKey: Uint8Array }
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
