// A2A handshake, interactions and AgentSession: what runtime/index.ts re-exports (Node entry).
export { A2AErrorCodes, type A2AErrorCode } from './errors.js'
export {
  createProposal, createResponse, createConfirmation, verifyProposal, verifyProposalSignature, verifyResponse, verifyConfirmation,
  normalizeCapabilities, agreeCapabilities, messageHash, DEFAULT_CAPABILITIES,
  type A2ASigner, type Proposal, type Response, type Confirmation
} from './messages.js'
export { NonceRegistry } from './nonces.js'
export { verifyHandshakeEvent, handshakeHash, HANDSHAKE_EVENT_TYPE, type HandshakeFacts } from './handshake-event.js'
export { autoHashPayload, interactionHash, interactionContent, checkInitiatorEvent, checkMirrorEvent, RECEIVED_SUFFIX } from './interaction.js'
export { InProcessTransport, type A2ATransport, type A2AHandler } from './transport.js'
export { A2ANode, type A2ANodeOptions, type Link } from './node.js'
export { AgentSession, SESSION_CAPABILITIES, type AgentSessionOptions, type SessionMemberSpec } from './session.js'
export { buildSessionExport, SESSION_SPEC, type SessionExport, type SessionRecord } from './session-export.js'
export { verifySessionExport, type SessionReport, type SessionProblem } from './session-verify.js'
export { loadAgentSigner } from './signer.js'
