// TrustGate's error codes. Same contract as runtime/errors.ts ErrorCodes (stable, documented, listed by a
// test); kept here until the lead merges them into that table. The policy engine's own codes live with it
// (policy/errors.ts, device code raises them too) and are part of this table.
import { PolicyErrorCodes } from '../../policy/errors.js'

export const TrustGateErrorCodes = {
  ...PolicyErrorCodes,
  POLICY_VERSION_NOT_FOUND: 'POLICY_VERSION_NOT_FOUND',
  POLICY_STORE_CORRUPTED: 'POLICY_STORE_CORRUPTED', // activation log unreadable or names a missing version
  DECISION_NOT_FOUND: 'DECISION_NOT_FOUND',
  DECISION_EXISTS: 'DECISION_EXISTS',
  DECISION_RESOLVED: 'DECISION_RESOLVED', // already approved, rejected or timed out
  DECISION_TIMED_OUT: 'DECISION_TIMED_OUT',
  PRINCIPAL_UNKNOWN: 'PRINCIPAL_UNKNOWN',
  PRINCIPAL_INACTIVE: 'PRINCIPAL_INACTIVE',
  PRINCIPAL_NOT_ALLOWED: 'PRINCIPAL_NOT_ALLOWED', // insufficient clearance, or not in the policy's principals
  JUSTIFICATION_REQUIRED: 'JUSTIFICATION_REQUIRED'
} as const

export type TrustGateErrorCode = typeof TrustGateErrorCodes[keyof typeof TrustGateErrorCodes]

/** The service's own failures (requests, credentials, the hub chain), next to the core's table. */
export const ServiceErrorCodes = {
  NO_ACTIVE_POLICY: 'NO_ACTIVE_POLICY',
  PRINCIPAL_AUTH_REQUIRED: 'PRINCIPAL_AUTH_REQUIRED', // approve/reject/activate without principal credentials
  PRINCIPAL_AUTH_FAILED: 'PRINCIPAL_AUTH_FAILED',
  REQUEST_INVALID: 'REQUEST_INVALID',
  JOURNAL_UNAVAILABLE: 'JOURNAL_UNAVAILABLE', // the hub chain cannot be read back (audit, export)
  JOURNAL_CONFLICT: 'JOURNAL_CONFLICT', // another hub appended to the shared journal first (retried; surfaces only after many in a row)
  TRUSTGATE_IDENTITY_MISMATCH: 'TRUSTGATE_IDENTITY_MISMATCH', // a hub whose key is not the one that signs the shared journal
  SIMULATE_BUSY: 'SIMULATE_BUSY', // too many /api/policy/simulate requests waiting for the simulation worker
  VIGIL_PUSH_REFUSED: 'VIGIL_PUSH_REFUSED' // POST /api/vigil/agent-state on a hub whose own Vigil feeds TrustGate
} as const
