// Stable codes of the A2A handshake, interactions and AgentSession (a documented contract, like
// runtime/errors.ts ErrorCodes, where the lead merges them). Each is thrown as a PcpError carrying the
// offending field and values; verifiers return them in reports instead of throwing.
export const A2AErrorCodes = {
  /** A handshake message or event payload lacks a field or has the wrong type. */
  A2A_MESSAGE_MALFORMED: 'A2A_MESSAGE_MALFORMED',
  /** A Base58 signature does not verify over the message's canonical bytes. */
  A2A_SIGNATURE_INVALID: 'A2A_SIGNATURE_INVALID',
  /** A message's agent_id is not derived from its public_key, or names someone other than expected. */
  A2A_AGENT_ID_MISMATCH: 'A2A_AGENT_ID_MISMATCH',
  /** The proposal's validity window is over (or its confirmation came too late). */
  A2A_PROPOSAL_EXPIRED: 'A2A_PROPOSAL_EXPIRED',
  /** The proposal is dated in the future beyond the allowed clock skew, or asks for too long a window. */
  A2A_PROPOSAL_NOT_YET_VALID: 'A2A_PROPOSAL_NOT_YET_VALID',
  /** This proposal's session_nonce was already answered. */
  A2A_PROPOSAL_REPLAYED: 'A2A_PROPOSAL_REPLAYED',
  /** A response or confirmation does not bind the message it answers (nonce echo or hash). */
  A2A_BINDING_MISMATCH: 'A2A_BINDING_MISMATCH',
  /** The peer answered accepted: false. */
  A2A_REFUSED: 'A2A_REFUSED',
  /** A confirmation or interaction for a session this node does not hold (never agreed, or expired). */
  A2A_UNKNOWN_SESSION: 'A2A_UNKNOWN_SESSION',
  /** The recorded capabilities_agreed differ from the intersection of the signed lists. */
  A2A_CAPABILITIES_MISMATCH: 'A2A_CAPABILITIES_MISMATCH',
  /** The two sides of an interaction do not record the same thing (hash, content, roles). */
  A2A_INTERACTION_MISMATCH: 'A2A_INTERACTION_MISMATCH',
  /** The peer did not answer in time. */
  A2A_TIMEOUT: 'A2A_TIMEOUT',
  /** The transport is closed, or has no route to the peer. */
  A2A_UNREACHABLE: 'A2A_UNREACHABLE',
  /** The peer failed while handling the request (its error had no A2A code). */
  A2A_PEER_FAILED: 'A2A_PEER_FAILED',
  /** AgentSession used out of order (stamp before start, start twice, after end). */
  SESSION_STATE: 'SESSION_STATE',
  /** A session export that is not one, or a session record inconsistent with its chains. */
  SESSION_EXPORT_MALFORMED: 'SESSION_EXPORT_MALFORMED'
} as const

export type A2AErrorCode = typeof A2AErrorCodes[keyof typeof A2AErrorCodes]
