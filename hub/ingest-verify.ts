// Verification of an incoming batch, split in two as the verify pool's contract asks (hub/verify-pool.ts):
// - verifyBatch (runs in a worker): decodes each record, canonicalises, hashes and checks the signature
//   (the CPU-heavy, stateless part), following a key rotation inside the batch.
// - checkEvent (main thread, in chain order): everything that depends on the stored chain — agent_id,
//   link to the head, time order, nonce replay, rotation — runtime/chain-step.ts's chainStep, the one
//   place the chain rules live (ChainVerifier uses it too), fed the worker's signature verdict and hash.
// Forks need no check here: ingest compares an event claiming an already stored position with the
// stored one (hub/ingest.ts), which is the definition of a fork.
import '../runtime/index.js'
// AISS-2 (ML-DSA-65 and the profile rules) in every worker and on the main thread alike.
import '../runtime/aiss2-install.js'
import { profileRules, PROFILE_UPGRADE_EVENT_TYPE, type PqInForce } from '../runtime/profile-rules.js'
import { classicalVerdict } from '../runtime/profile.js'
import type { SigFault } from '../runtime/aiss2-format.js'
import { decodeRecord } from '../runtime/record.js'
import { signingBytes } from '../runtime/event.js'
import { sha256Hex } from '../runtime/crypto.js'
import { toHex } from '../runtime/encoding.js'
import { ROTATION_EVENT_TYPE } from '../runtime/rotation.js'
import { chainStep, copyChainState, type ChainProblem, type ChainState, type SignatureFact, type StepFacts } from '../runtime/chain-step.js'
import type { AissEvent } from '../runtime/types.js'

/** Per-event outcome of the worker's part. */
export const SIG = { OK: 0, UNDECODABLE: 1, NOT_CANONICAL: 2, ENCODING: 3, INVALID: 4 } as const

/** `pq`: the ML-DSA key and profile policy in force (runtime/profile.ts); absent or null for an AISS-1 chain. */
export interface VerifyItem { ids: string[], records: Uint8Array[], agentId: string, publicKey: Uint8Array, pq?: PqInForce | null }
/** `faults[i]`: the signature and profile faults of event i (runtime/profile-rules.ts checkSignedEvent), null when none. */
export interface VerifyResult { sig: number[], hashes: string[], faults: Array<SigFault[] | null> }

const SIG_OF_VERDICT = { ok: 0, encoding: 3, invalid: 4 } as const

/** The pool task. `agentId`/`publicKey`/`pq`: the keys in force before the batch's first event. */
export function verifyBatch (item: VerifyItem): VerifyResult {
  let keys = { agentId: item.agentId, publicKey: item.publicKey, pq: item.pq ?? null }
  const sig: number[] = []
  const hashes: string[] = []
  const faults: Array<SigFault[] | null> = []
  for (const rec of item.records) {
    let ev: AissEvent
    try { ev = decodeRecord(rec, item.ids) } catch { sig.push(SIG.UNDECODABLE); hashes.push(''); faults.push(null); continue }
    let bytes: Uint8Array
    try { bytes = signingBytes(ev) } catch { sig.push(SIG.NOT_CANONICAL); hashes.push(''); faults.push(null); continue }
    hashes.push(sha256Hex(bytes))
    // The one profile rule (both signatures of an AISS-2.0 event, downgrades); `sig` stays the Ed25519
    // verdict, which is what tells the agent's own events from hostile input (hub/hostile.ts).
    const f = profileRules().checkSignedEvent(ev, keys, bytes)
    faults.push(f.length === 0 ? null : f)
    sig.push(SIG_OF_VERDICT[classicalVerdict(f)])
    // From a rotation (or upgrade) the keys in force signed correctly on, the new keys sign. If the main
    // thread refuses it for another reason, it stops the batch there, so later results are never used.
    const type = ev.payload !== null && typeof ev.payload === 'object' ? ev.payload.event_type : undefined
    if (f.length === 0 && (type === ROTATION_EVENT_TYPE || type === PROFILE_UPGRADE_EVENT_TYPE) && ev.agent_id === keys.agentId) {
      const r = profileRules().advanceKeys(ev, keys)
      if (r.ok) keys = r.keys
    }
  }
  return { sig, hashes, faults }
}

/** The chain state checkEvent needs and advances (runtime/chain-step.ts; `seq` is the next position). */
export type CheckState = ChainState

const FACT_OF_SIG: readonly SignatureFact[] = ['ok', 'undecodable', 'not_canonical', 'encoding', 'invalid']
// Reused for every event: the step is synchronous, so one of each serves the whole thread.
const facts: StepFacts = { hash: null, signature: 'ok', canonicalError: undefined, nonceUsed: false, predecessorClaimedBy: undefined }
const EMPTY_KEY = new Uint8Array(0)
const NO_FAULTS: readonly SigFault[] = Object.freeze([])
const scratch: ChainState = { seq: 0, headHash: null, lastTimestamp: null, agentId: '', publicKey: EMPTY_KEY, pq: null }

/**
 * Checks one event at `state.seq` with the chain rules (runtime/chain-step.ts). `sigCode`/`hash` come from
 * verifyBatch; `nonceUsed` says whether the nonce was used before (stored, or earlier in the batch). On
 * success advances `state` (including the key after a rotation) and returns []; on failure leaves `state`
 * as it was. A different event at a held position is ingest's to compare (see the top of the file); a new
 * event chained onto an earlier one is a fork when the caller names the event that claimed it first.
 */
export function checkEvent (state: CheckState, ev: AissEvent | null, sigCode: number, hash: string, nonceUsed: boolean, faults?: readonly SigFault[] | null, predecessorClaimedBy?: number): ChainProblem[] {
  const signature = ev === null ? 'undecodable' : (FACT_OF_SIG[sigCode] ?? 'undecodable')
  facts.signature = signature
  facts.hash = signature === 'undecodable' || signature === 'not_canonical' || hash === '' ? null : hash
  facts.nonceUsed = nonceUsed
  facts.predecessorClaimedBy = predecessorClaimedBy
  // The worker's faults when it ran the profile rule (null: none); undefined for a caller that did not.
  facts.faults = faults === undefined ? undefined : (faults ?? NO_FAULTS)
  const problems = chainStep(state, ev, facts, scratch)
  if (problems.length === 0) copyChainState(scratch, state)
  scratch.publicKey = EMPTY_KEY; scratch.pq = null // hold no agent's key past the call
  return problems
}
