// Hostile input: what reaches the hub claiming to be an agent's and is not provably so. The MQTT topic is
// never identity (anyone the broker lets publish can use any agent's topic), so every claim is either
// signed by the key it names or it is counted here, under a reason, and changes nothing about anyone:
// it is not stored as the agent's history or evidence, it does not reach Vigil (so it cannot move a VRS),
// and it gets no answer that the real device could mistake for the hub's verdict on its own batch.
//
// Evidence, by contrast, is what the agent's own key signed and the chain rules refuse (a fork, a broken
// link, a reused nonce, time going backwards): that is charged to the agent (hub/ingest.ts).
import { ErrorCodes, type ErrorCode } from '../runtime/errors.js'
import { faultProblem, type ChainProblem } from '../runtime/chain-step.js'
import { classicalFault } from '../runtime/profile.js'
import type { SigFault } from '../runtime/aiss2-format.js'
import { SIG } from './ingest-verify.js'

/** Reasons under which hostile input is counted (hub.rejections(), pcp_messages_rejected_total{reason}). */
export const HOSTILE = {
  /** The record does not decode or canonicalise: nobody's signature can be on it. */
  FORGED_EVENT_MALFORMED: 'FORGED_EVENT_MALFORMED',
  /** The signature is not the padded base64 of 64 bytes. */
  FORGED_SIGNATURE_ENCODING: 'FORGED_SIGNATURE_ENCODING',
  /** The signature does not verify with the key in force at that position. */
  FORGED_SIGNATURE_INVALID: 'FORGED_SIGNATURE_INVALID',
  /** The agent's own event, already held, sent again at another position (a copy, not a new act). */
  REPLAYED_EVENT: 'REPLAYED_EVENT'
} as const
export type HostileReason = typeof HOSTILE[keyof typeof HOSTILE]

/** The hostile reason for a verify-pool signature verdict, or null when the key in force signed it. */
export function unsignedReason (sigCode: number): HostileReason | null {
  switch (sigCode) {
    case SIG.OK: return null
    case SIG.ENCODING: return HOSTILE.FORGED_SIGNATURE_ENCODING
    case SIG.INVALID: return HOSTILE.FORGED_SIGNATURE_INVALID
    default: return HOSTILE.FORGED_EVENT_MALFORMED
  }
}

/**
 * The verifier's problem for the signature the key in force did not give the event at `index`, from the
 * worker's faults (hub/ingest-verify.ts): under AISS-2 the code depends on what is missing (no
 * `signatures` at all is PROFILE_MISMATCH, not SIGNATURE_ENCODING), so the reason alone cannot say it.
 * Undefined when the worker had no faults (a record that is no event): HOSTILE_PROBLEM_CODE then.
 */
export function unsignedProblem (index: number, faults: readonly SigFault[] | null | undefined): ChainProblem | undefined {
  const f = faults ? classicalFault(faults) : null
  return f === null ? undefined : faultProblem(index, f)
}

/** The verifier code a hostile reason corresponds to, for callers that report a ChainProblem (the HTTP API) without unsignedProblem's. */
export const HOSTILE_PROBLEM_CODE = {
  FORGED_EVENT_MALFORMED: ErrorCodes.EVENT_MALFORMED,
  FORGED_SIGNATURE_ENCODING: ErrorCodes.SIGNATURE_ENCODING,
  FORGED_SIGNATURE_INVALID: ErrorCodes.SIGNATURE_INVALID,
  REPLAYED_EVENT: ErrorCodes.NONCE_REPLAYED
} as const satisfies Record<HostileReason, ErrorCode>
