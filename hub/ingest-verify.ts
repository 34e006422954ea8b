// Verification of an incoming batch, split in two as the verify pool's contract asks (hub/verify-pool.ts):
// - verifyBatch (runs in a worker): decodes each record, canonicalises, hashes and checks the signature
//   (the CPU-heavy, stateless part), following a key rotation inside the batch.
// - checkEvent (main thread, in chain order): everything that depends on the stored chain — agent_id,
//   link to the head, time order, nonce replay, rotation — the same checks as runtime/verify.ts's
//   ChainVerifier, which cannot be used as is because it would verify every signature a second time.
// Forks need no check here: ingest compares an event claiming an already stored position with the
// stored one (hub/ingest.ts), which is the definition of a fork.
import '../runtime/index.js'
import { decodeRecord } from '../runtime/record.js'
import { signingBytes, timestampSeconds } from '../runtime/event.js'
import { crypto } from '../runtime/crypto.js'
import { toHex } from '../runtime/encoding.js'
import { checkEventSignature } from '../runtime/verify.js'
import { checkRotationPayload, ROTATION_EVENT_TYPE } from '../runtime/rotation.js'
import { ErrorCodes, type ErrorCode } from '../runtime/errors.js'
import type { ChainProblem } from '../runtime/verify.js'
import type { AissEvent } from '../runtime/types.js'

/** Per-event outcome of the worker's part. */
export const SIG = { OK: 0, UNDECODABLE: 1, NOT_CANONICAL: 2, ENCODING: 3, INVALID: 4 } as const

export interface VerifyItem { ids: string[], records: Uint8Array[], agentId: string, publicKey: Uint8Array }
export interface VerifyResult { sig: number[], hashes: string[] }

/** The pool task. `agentId`/`publicKey`: the key in force before the batch's first event. */
export function verifyBatch (item: VerifyItem): VerifyResult {
  let agentId = item.agentId
  let publicKey = item.publicKey
  const sig: number[] = []
  const hashes: string[] = []
  for (const rec of item.records) {
    let ev: AissEvent
    try { ev = decodeRecord(rec, item.ids) } catch { sig.push(SIG.UNDECODABLE); hashes.push(''); continue }
    let bytes: Uint8Array
    try { bytes = signingBytes(ev) } catch { sig.push(SIG.NOT_CANONICAL); hashes.push(''); continue }
    hashes.push(toHex(crypto().sha256(bytes)))
    const verdict = checkEventSignature(ev, publicKey, bytes)
    if (verdict === 'encoding') { sig.push(SIG.ENCODING); continue }
    const ok = verdict === 'ok'
    sig.push(ok ? SIG.OK : SIG.INVALID)
    // From a rotation the old key signed correctly on, the new key signs. If the main thread refuses
    // the rotation for another reason, it stops the batch there, so later results are never used.
    if (ok && ev.payload !== null && typeof ev.payload === 'object' && ev.payload.event_type === ROTATION_EVENT_TYPE && ev.agent_id === agentId) {
      const r = checkRotationPayload(ev.payload, { agentId, publicKey })
      if (r.ok) { agentId = r.newAgentId; publicKey = r.newPublicKey }
    }
  }
  return { sig, hashes }
}

/** The chain state checkEvent needs and advances (the caller copies it before a batch). */
export interface CheckState {
  /** Position the next event must have. */
  seq: number
  headHash: string | null
  lastTimestamp: number | null
  agentId: string
  publicKey: Uint8Array
}

const ZERO_HASH = '0'.repeat(64)
const HEX64 = /^[0-9a-f]{64}$/

/**
 * Checks one event at `state.seq`. `sigCode`/`hash` come from verifyBatch; `nonceUsed` says whether the
 * nonce was used before (stored, or earlier in the batch). On success advances `state` (including the
 * key after a rotation) and returns []; on failure leaves `state` as it was.
 */
export function checkEvent (state: CheckState, ev: AissEvent | null, sigCode: number, hash: string, nonceUsed: boolean): ChainProblem[] {
  const index = state.seq
  const problems: ChainProblem[] = []
  const add = (code: ErrorCode, message: string, extra: Partial<ChainProblem> = {}): void => { problems.push({ code, index, message: `event ${index}: ${message}`, ...extra }) }
  if (ev === null || sigCode === SIG.UNDECODABLE) { add(ErrorCodes.EVENT_MALFORMED, 'is not an event record'); return problems }
  if (typeof ev.payload !== 'object' || ev.payload === null || Array.isArray(ev.payload)) add(ErrorCodes.EVENT_MALFORMED, 'payload is not an object', { field: 'payload' })
  // The verifier's rule (runtime/event.ts timestampSeconds): an int or a float, compared by value.
  const ts = timestampSeconds(ev.timestamp)
  if (ts === null) add(ErrorCodes.EVENT_MALFORMED, 'timestamp is not a number', { field: 'timestamp' })
  if (sigCode === SIG.NOT_CANONICAL) { add(ErrorCodes.EVENT_MALFORMED, 'cannot be canonicalised'); return problems }
  if (sigCode === SIG.ENCODING) add(ErrorCodes.SIGNATURE_ENCODING, 'signature is not the standard padded base64 of 64 bytes', { field: 'signature' })
  if (sigCode === SIG.INVALID) add(ErrorCodes.SIGNATURE_INVALID, `signature does not verify with the public key of ${state.agentId}`, { field: 'signature' })
  if (ev.agent_id !== state.agentId) add(ErrorCodes.AGENT_ID_MISMATCH, `agent_id ${String(ev.agent_id)} is not the chain's agent ${state.agentId}`, { field: 'agent_id', expected: state.agentId, actual: String(ev.agent_id) })
  const prev = ev.previous_hash
  if (state.headHash === null) {
    const ok = prev === null || prev === 'genesis' || prev === ZERO_HASH || (typeof prev === 'string' && HEX64.test(prev))
    if (!ok) add(ErrorCodes.EVENT_MALFORMED, `genesis previous_hash ${JSON.stringify(prev)} is none of the accepted forms`, { field: 'previous_hash' })
  } else if (prev !== state.headHash) {
    add(ErrorCodes.CHAIN_LINK_BROKEN, `previous_hash does not match the hash of event ${index - 1}`, { field: 'previous_hash', expected: state.headHash, actual: String(prev) })
  }
  if (ts !== null && state.lastTimestamp !== null && ts < state.lastTimestamp) {
    add(ErrorCodes.TIMESTAMP_BACKWARDS, `timestamp ${ts} is earlier than the previous event's ${state.lastTimestamp}`, { field: 'timestamp' })
  }
  if (typeof ev.nonce !== 'string' || ev.nonce.length === 0) add(ErrorCodes.EVENT_MALFORMED, 'nonce is empty or not a string', { field: 'nonce' })
  else if (nonceUsed) add(ErrorCodes.NONCE_REPLAYED, `nonce ${ev.nonce} was already used by this agent`, { field: 'nonce', actual: ev.nonce })
  if (problems.length > 0) return problems
  if (ev.payload.event_type === ROTATION_EVENT_TYPE) {
    const r = checkRotationPayload(ev.payload, { agentId: state.agentId, publicKey: state.publicKey })
    if (!r.ok) { add(ErrorCodes.ROTATION_INVALID, r.reason, { field: 'payload' }); return problems }
    state.agentId = r.newAgentId
    state.publicKey = r.newPublicKey
  }
  state.seq++
  state.headHash = hash
  state.lastTimestamp = Math.max(state.lastTimestamp ?? ts!, ts!)
  return problems
}
