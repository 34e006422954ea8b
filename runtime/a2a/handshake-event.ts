// The co-signed a2a_handshake event each side stamps into its own chain. The reference's event embeds
// only the peer's signature over a message it does not store, so nothing can be checked from the chain
// (gaps.md #29), and AgentSession rewrote the payload after signing (#32). Ours is an ordinary AISS-1
// event (base64 signature, verified by the normal chain verifier) whose payload stores the three signed
// handshake messages themselves: from either chain alone, anyone can check that the initiator signed the
// proposal and the confirmation, the responder signed the response, each binds the previous one, and
// capabilities_agreed is exactly the intersection of the two signed lists. Both chains hold the same
// messages, hence the same handshake_hash.
import { hashValue } from '../privacy.js'
import { PcpError } from '../errors.js'
import type { AissEvent } from '../types.js'
import type { JsonObject } from '../value.js'
import { A2AErrorCodes as C } from './errors.js'
import {
  agreeCapabilities, proposalExpiry, verifyConfirmation, verifyProposalSignature, verifyResponse, messagePublicKey,
  type Confirmation, type Proposal, type Response
} from './messages.js'

export const HANDSHAKE_EVENT_TYPE = 'a2a_handshake'
/** Reference proposals carry no expiry; recorded ones are judged with this window (the guide's expires_in). */
export const REFERENCE_PROPOSAL_TTL = 3600
/** Clock difference tolerated between the two devices' message timestamps. */
export const HANDSHAKE_SKEW_SECONDS = 30

export type Role = 'initiator' | 'responder'

export interface HandshakeRecord { proposal: Proposal, response: Response, confirmation: Confirmation }

/** sha256hex(canon({confirmation, proposal, response})), the signed messages as sent: equal in both chains. */
export function handshakeHash (rec: HandshakeRecord): string {
  return hashValue({ proposal: rec.proposal, response: rec.response, confirmation: rec.confirmation })
}

/** The payload one side stamps (Agent.stamp adds event_type). Field names follow the reference where they exist. */
export function handshakePayload (role: Role, rec: HandshakeRecord): JsonObject {
  const me = role === 'initiator' ? rec.proposal.agent_id : rec.response.agent_id
  const peer = role === 'initiator' ? rec.response.agent_id : rec.proposal.agent_id
  return {
    session_id: rec.response.session_id,
    my_role: role,
    peer_agent_id: peer,
    // The reference's field: the peer's signature over its own handshake message (now stored below).
    peer_signature: role === 'initiator' ? rec.response.signature : rec.proposal.signature,
    capabilities_agreed: agreeCapabilities(rec.proposal.capabilities, rec.response.capabilities),
    participants: [me, peer],
    handshake_hash: handshakeHash(rec),
    proposal: rec.proposal,
    response: rec.response,
    confirmation: rec.confirmation
  }
}

export interface HandshakeFacts {
  sessionId: string
  initiator: string
  responder: string
  /** Raw Ed25519 keys the peers signed with, taken from the verified messages. */
  initiatorKey: Uint8Array
  responderKey: Uint8Array
  capabilities: string[]
  handshakeHash: string
  role: Role
  expiresAt: number
}

export interface HandshakeProblem { code: string, message: string, field?: string }

/**
 * Checks the co-signature recorded in one a2a_handshake event (the event's own AISS signature is the
 * chain verifier's job). Returns the facts a session verifier needs, or the problems found.
 */
export function verifyHandshakeEvent (event: AissEvent): { ok: true, facts: HandshakeFacts } | { ok: false, problems: HandshakeProblem[] } {
  const problems: HandshakeProblem[] = []
  const add = (code: string, message: string, fieldName?: string): void => { problems.push({ code, message, ...(fieldName ? { field: fieldName } : {}) }) }
  const p = event?.payload as Record<string, unknown> | undefined
  if (!p || p.event_type !== HANDSHAKE_EVENT_TYPE) return { ok: false, problems: [{ code: C.A2A_MESSAGE_MALFORMED, message: 'not an a2a_handshake event' }] }
  if (!p.proposal || !p.response || !p.confirmation) {
    return { ok: false, problems: [{ code: C.A2A_MESSAGE_MALFORMED, message: 'a2a_handshake without the signed proposal, response and confirmation (a reference-made event: its co-signature cannot be checked, gaps.md #29)', field: 'payload' }] }
  }
  let facts: HandshakeFacts
  try {
    const { proposal, publicKey: initiatorKey } = verifyProposalSignature(p.proposal)
    const { response, publicKey: responderKey } = verifyResponse(p.response, proposal)
    const confirmation = verifyConfirmation(p.confirmation, response, proposal)
    if (!response.accepted) add(C.A2A_REFUSED, 'the recorded response refused the handshake', 'response.accepted')
    if (proposal.agent_id === response.agent_id) add(C.A2A_MESSAGE_MALFORMED, 'an agent cannot handshake with itself', 'response.agent_id')
    const expiresAt = proposalExpiry(proposal, { defaultTtlSeconds: REFERENCE_PROPOSAL_TTL })
    for (const [name, ts] of [['response', response.timestamp], ['confirmation', confirmation.timestamp]] as const) {
      if (ts > expiresAt + HANDSHAKE_SKEW_SECONDS) add(C.A2A_PROPOSAL_EXPIRED, `${name} dated ${ts}, after the proposal expired (${expiresAt})`, `${name}.timestamp`)
    }
    const role: Role = event.agent_id === proposal.agent_id ? 'initiator' : 'responder'
    const me = role === 'initiator' ? proposal.agent_id : response.agent_id
    const peer = role === 'initiator' ? response.agent_id : proposal.agent_id
    if (event.agent_id !== me) add(C.A2A_AGENT_ID_MISMATCH, `event by ${event.agent_id}, who is neither party of the handshake`, 'agent_id')
    const expected = handshakePayload(role, { proposal, response, confirmation })
    for (const k of ['session_id', 'my_role', 'peer_agent_id', 'peer_signature', 'handshake_hash'] as const) {
      if (p[k] !== expected[k]) add(C.A2A_BINDING_MISMATCH, `${k} is ${JSON.stringify(p[k])}, the signed messages give ${JSON.stringify(expected[k])}`, k)
    }
    const parts = p.participants
    if (!Array.isArray(parts) || parts.length !== 2 || parts[0] !== me || parts[1] !== peer) add(C.A2A_BINDING_MISMATCH, 'participants is not [me, peer]', 'participants')
    const caps = expected.capabilities_agreed as string[]
    const rec = p.capabilities_agreed
    // Compared as ordered lists: our order is canonical (sorted), so a reordered or edited list is a change.
    if (!Array.isArray(rec) || rec.length !== caps.length || rec.some((c, i) => c !== caps[i])) {
      add(C.A2A_CAPABILITIES_MISMATCH, `capabilities_agreed ${JSON.stringify(rec)} is not the intersection of the signed lists ${JSON.stringify(caps)}`, 'capabilities_agreed')
    }
    facts = {
      sessionId: response.session_id, initiator: proposal.agent_id, responder: response.agent_id,
      initiatorKey, responderKey: responderKey ?? messagePublicKey(response),
      capabilities: caps, handshakeHash: expected.handshake_hash as string, role, expiresAt
    }
  } catch (err) {
    if (!(err instanceof PcpError)) throw err
    add(err.code, err.message, err.field)
    return { ok: false, problems }
  }
  return problems.length ? { ok: false, problems } : { ok: true, facts }
}
