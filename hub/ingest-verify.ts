// Verification of an incoming batch, split in two as the verify pool's contract asks (hub/verify-pool.ts):
// - verifyBatch (runs in a worker): decodes each record, canonicalises, hashes and checks the signature
//   (the CPU-heavy, stateless part), following a key rotation inside the batch.
// - checkEvent (main thread, in chain order): everything that depends on the stored chain — agent_id,
//   link to the head, time order, nonce replay, rotation — runtime/chain-step.ts's chainStep, the one
//   place the chain rules live (ChainVerifier uses it too), fed the worker's signature verdict and hash.
// Forks need no check here: ingest compares an event claiming an already stored position with the
// stored one (hub/ingest.ts), which is the definition of a fork.
import '../runtime/index.js'
import { decodeRecord } from '../runtime/record.js'
import { signingBytes } from '../runtime/event.js'
import { sha256Hex } from '../runtime/crypto.js'
import { toHex } from '../runtime/encoding.js'
import { checkEventSignature } from '../runtime/verify.js'
import { checkRotationPayload, ROTATION_EVENT_TYPE } from '../runtime/rotation.js'
import { chainStep, copyChainState, type ChainProblem, type ChainState, type SignatureFact, type StepFacts } from '../runtime/chain-step.js'
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
    hashes.push(sha256Hex(bytes))
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

/** The chain state checkEvent needs and advances (runtime/chain-step.ts; `seq` is the next position). */
export type CheckState = ChainState

const FACT_OF_SIG: readonly SignatureFact[] = ['ok', 'undecodable', 'not_canonical', 'encoding', 'invalid']
// Reused for every event: the step is synchronous, so one of each serves the whole thread.
const facts: StepFacts = { hash: null, signature: 'ok', canonicalError: undefined, nonceUsed: false, predecessorClaimedBy: undefined }
const EMPTY_KEY = new Uint8Array(0)
const scratch: ChainState = { seq: 0, headHash: null, lastTimestamp: null, agentId: '', publicKey: EMPTY_KEY }

/**
 * Checks one event at `state.seq` with the chain rules (runtime/chain-step.ts). `sigCode`/`hash` come from
 * verifyBatch; `nonceUsed` says whether the nonce was used before (stored, or earlier in the batch). On
 * success advances `state` (including the key after a rotation) and returns []; on failure leaves `state`
 * as it was. Forks are not the step's here: ingest compares positions instead (see the top of the file).
 */
export function checkEvent (state: CheckState, ev: AissEvent | null, sigCode: number, hash: string, nonceUsed: boolean): ChainProblem[] {
  const signature = ev === null ? 'undecodable' : (FACT_OF_SIG[sigCode] ?? 'undecodable')
  facts.signature = signature
  facts.hash = signature === 'undecodable' || signature === 'not_canonical' || hash === '' ? null : hash
  facts.nonceUsed = nonceUsed
  const problems = chainStep(state, ev, facts, scratch)
  if (problems.length === 0) copyChainState(scratch, state)
  scratch.publicKey = EMPTY_KEY // hold no agent's key past the call
  return problems
}
