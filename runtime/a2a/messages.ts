// The three A2A handshake messages (a2a_session.md §1), wire-compatible with the reference's a2a.py:
// same fields, `public_key` and `signature` in untruncated Base58, signature = Ed25519 over
// canon(message − signature). A reference peer's verify_identity_proposal accepts our proposals (extra
// fields are signed like any other) and we accept its messages. What we add, and check, is what the
// reference never does (gaps.md #27): an expiry window, an optional addressee, the responder echoing the
// initiator as peer_agent_id, a verifier for the confirmation, and capabilities in a canonical order (#28).
import { canonicalBytes, depthOf } from '../canonical.js'
import { plainCopy } from '../snapshot.js'
import { crypto } from '../crypto.js'
import { toBase58, fromBase58 } from '../encoding.js'
import { hashValue } from '../privacy.js'
import { AISS_VERSION, deriveAgentId, isAgentId } from '../identity.js'
import { PcpError } from '../errors.js'
import { MAX_DEPTH, type JsonObject } from '../value.js'
import { A2AErrorCodes as C } from './errors.js'
import { publicKeyProblem } from '../public-key.js'

/** What signs handshake messages: an Identity (runtime/identity.ts) has exactly this shape. */
export interface A2ASigner {
  readonly agentId: string
  readonly publicKey: Uint8Array
  sign (message: Uint8Array): Uint8Array
}

export const PROPOSAL = 'a2a_identity_proposal'
export const RESPONSE = 'a2a_identity_response'
export const CONFIRMATION = 'a2a_session_confirmation'
/** The reference's default capability list (a2a.py). */
export const DEFAULT_CAPABILITIES = ['a2a', 'stamp', 'verify']
/** Largest canonical message we sign or accept: bounds what an untrusted peer makes us hash and store. */
export const MAX_MESSAGE_BYTES = 16 * 1024
/** Deepest message we accept: room for the event and payload levels it is stamped under, and a margin. */
export const MAX_MESSAGE_DEPTH = MAX_DEPTH - 8

export interface Proposal extends JsonObject {
  version: string; message_type: string; agent_id: string; public_key: string; capabilities: string[]
  session_nonce: string; timestamp: number; signature: string
}
export interface Response extends JsonObject {
  version: string; message_type: string; agent_id: string; public_key: string; capabilities: string[]
  session_id: string; session_nonce: string; proposal_hash: string; accepted: boolean; timestamp: number
  peer_agent_id: string; signature: string
}
export interface Confirmation extends JsonObject {
  version: string; message_type: string; agent_id: string; session_id: string; response_hash: string
  timestamp: number; peer_agent_id: string; signature: string
}

const fail = (code: string, message: string, field?: string, extra: Record<string, unknown> = {}): never => {
  throw new PcpError(code, message, { ...(field ? { field } : {}), ...extra })
}

/** Code point order, the order canonical JSON sorts keys in: reproducible in any language. */
export function compareCodePoints (a: string, b: string): number {
  const x = [...a]; const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!
    if (d !== 0) return d
  }
  return x.length - y.length
}

/** Deduplicated, sorted capabilities: the only form we sign (gaps.md #28). Throws TypeError on bad input. */
export function normalizeCapabilities (list: readonly string[], name = 'capabilities'): string[] {
  if (!Array.isArray(list)) throw new TypeError(`"${name}" expected an array of strings, got ${typeof list}`)
  for (const [i, c] of list.entries()) {
    if (typeof c !== 'string' || c.length === 0 || c.length > 64) throw new TypeError(`"${name}[${i}]" expected a string of 1-64 characters, got ${JSON.stringify(c)}`)
  }
  return [...new Set(list)].sort(compareCodePoints)
}

/** The agreed set: intersection of both signed lists, sorted. Any order a peer signed is accepted. */
export function agreeCapabilities (a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b)
  return [...new Set(a)].filter((c) => other.has(c)).sort(compareCodePoints)
}

/** sha256hex(canon(message − signature)): the reference's proposal_hash / response_hash. */
export function messageHash (message: JsonObject): string {
  const { signature: _s, ...body } = message
  return hashValue(body)
}

function sign<T extends JsonObject> (signer: A2ASigner, content: JsonObject): T {
  // A copy: the caller's metadata changed later must not change a message already signed (../snapshot.ts).
  const body = plainCopy(content)
  const bytes = canonicalBytes(body)
  if (bytes.length > MAX_MESSAGE_BYTES) throw new RangeError(`handshake message is ${bytes.length} bytes, over ${MAX_MESSAGE_BYTES}`)
  return { ...body, signature: toBase58(signer.sign(bytes)) } as unknown as T
}

const seconds = (ms: number): number => Math.floor(ms / 1000)

export function createProposal (signer: A2ASigner, opts: {
  now: number, ttlSeconds: number, capabilities?: readonly string[], metadata?: JsonObject, peerAgentId?: string, nonce?: string
}): Proposal {
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds < 1) throw new RangeError(`"ttlSeconds" expected a positive integer, got ${opts.ttlSeconds}`)
  if (opts.peerAgentId !== undefined && !isAgentId(opts.peerAgentId)) throw new TypeError(`"peerAgentId" expected an agent_id, got ${JSON.stringify(opts.peerAgentId)}`)
  const timestamp = seconds(opts.now)
  const body: JsonObject = {
    version: AISS_VERSION,
    message_type: PROPOSAL,
    agent_id: signer.agentId,
    public_key: toBase58(signer.publicKey),
    capabilities: normalizeCapabilities(opts.capabilities ?? DEFAULT_CAPABILITIES),
    session_nonce: opts.nonce ?? crypto().randomUUID(),
    timestamp,
    expires_at: timestamp + opts.ttlSeconds
  }
  if (opts.peerAgentId) body.peer_agent_id = opts.peerAgentId
  if (opts.metadata && Object.keys(opts.metadata).length) body.metadata = opts.metadata // the reference omits an empty one
  return sign<Proposal>(signer, body)
}

export function createResponse (signer: A2ASigner, proposal: Proposal, opts: {
  now: number, accepted: boolean, sessionId: string, capabilities?: readonly string[]
}): Response {
  return sign<Response>(signer, {
    version: AISS_VERSION,
    message_type: RESPONSE,
    agent_id: signer.agentId,
    public_key: toBase58(signer.publicKey),
    capabilities: normalizeCapabilities(opts.capabilities ?? DEFAULT_CAPABILITIES),
    session_id: opts.sessionId,
    session_nonce: proposal.session_nonce,
    proposal_hash: messageHash(proposal),
    accepted: opts.accepted,
    timestamp: seconds(opts.now),
    peer_agent_id: proposal.agent_id
  })
}

export function createConfirmation (signer: A2ASigner, response: Response, opts: { now: number }): Confirmation {
  return sign<Confirmation>(signer, {
    version: AISS_VERSION,
    message_type: CONFIRMATION,
    agent_id: signer.agentId,
    session_id: response.session_id,
    response_hash: messageHash(response),
    timestamp: seconds(opts.now),
    peer_agent_id: response.agent_id
  })
}

function field (m: Record<string, unknown>, name: string, type: 'string' | 'int' | 'boolean', what: string): void {
  const v = m[name]
  const ok = type === 'string' ? typeof v === 'string' && v.length > 0 : type === 'int' ? Number.isSafeInteger(v) : typeof v === 'boolean'
  if (!ok) fail(C.A2A_MESSAGE_MALFORMED, `${what}: "${name}" is missing or not a ${type === 'int' ? 'whole number' : type}`, name)
}

function decode58 (text: string, length: number, what: string, name: string): Uint8Array {
  let bytes: Uint8Array | undefined
  try { bytes = fromBase58(text) } catch { /* reported below */ }
  if (!bytes || bytes.length !== length) fail(C.A2A_MESSAGE_MALFORMED, `${what}: "${name}" is not the Base58 of ${length} bytes`, name)
  if (name === 'public_key') {
    const weak = publicKeyProblem(bytes!)
    if (weak !== null) fail(C.A2A_MESSAGE_MALFORMED, `${what}: "public_key" ${weak}`, name)
  }
  return bytes!
}

/** Structure, size and Base58 signature of one message, against `publicKey` (its own unless given). */
function checkSigned (m: unknown, type: string, fields: Array<[string, 'string' | 'int' | 'boolean']>, publicKey?: Uint8Array): { msg: Record<string, unknown>, publicKey: Uint8Array } {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail(C.A2A_MESSAGE_MALFORMED, `${type}: not a JSON object`)
  const msg = m as Record<string, unknown>
  if (msg.message_type !== type) fail(C.A2A_MESSAGE_MALFORMED, `expected message_type ${type}, got ${JSON.stringify(msg.message_type)}`, 'message_type')
  for (const [name, t] of [['version', 'string'], ['agent_id', 'string'], ['signature', 'string'], ['timestamp', 'int'], ...fields] as Array<[string, 'string' | 'int' | 'boolean']>) field(msg, name, t, type)
  // A message is stamped inside a handshake event (event > payload > message): refused here if that
  // event would nest deeper than canonical JSON allows, rather than when it is stamped.
  if (depthOf(msg, MAX_MESSAGE_DEPTH) > MAX_MESSAGE_DEPTH) fail(C.A2A_MESSAGE_MALFORMED, `${type}: nests deeper than ${MAX_MESSAGE_DEPTH} levels`)
  let bytes: Uint8Array
  try {
    const { signature: _s, ...body } = msg
    bytes = canonicalBytes(body)
  } catch (err) {
    return fail(C.A2A_MESSAGE_MALFORMED, `${type}: cannot be canonicalised: ${(err as Error).message}`)
  }
  if (bytes.length > MAX_MESSAGE_BYTES) fail(C.A2A_MESSAGE_MALFORMED, `${type}: ${bytes.length} bytes, over ${MAX_MESSAGE_BYTES}`)
  let key = publicKey
  if (!key) {
    key = decode58(msg.public_key as string, 32, type, 'public_key')
    const derived = deriveAgentId(key)
    if (derived !== msg.agent_id) fail(C.A2A_AGENT_ID_MISMATCH, `${type}: agent_id ${String(msg.agent_id)} is not derived from public_key (expected ${derived})`, 'agent_id', { expected: derived, actual: msg.agent_id })
  }
  const sig = decode58(msg.signature as string, 64, type, 'signature')
  if (!crypto().verify(sig, bytes, key)) fail(C.A2A_SIGNATURE_INVALID, `${type} from ${String(msg.agent_id)}: signature does not verify`, 'signature')
  return { msg, publicKey: key }
}

function checkCapabilities (msg: Record<string, unknown>, type: string): void {
  const caps = msg.capabilities
  if (!Array.isArray(caps) || caps.length > 256 || caps.some((c) => typeof c !== 'string')) fail(C.A2A_MESSAGE_MALFORMED, `${type}: "capabilities" is not a list of strings`, 'capabilities')
}

export interface WindowOptions {
  /** Unix seconds now (from the injected clock). */
  now: number
  /** Allowed clock difference between the two devices. */
  skewSeconds: number
  /** Longest validity a proposal may ask for. */
  maxTtlSeconds: number
  /** Validity of a reference proposal, which carries no expires_at. */
  defaultTtlSeconds: number
}

/** The proposal's expiry: its own expires_at, or timestamp + defaultTtl for a reference proposal. */
export function proposalExpiry (p: Proposal, w: Pick<WindowOptions, 'defaultTtlSeconds'>): number {
  return typeof p.expires_at === 'number' ? p.expires_at : p.timestamp + w.defaultTtlSeconds
}

/** Structure, agent_id binding and signature of a proposal; no clock involved (for recorded proposals). */
export function verifyProposalSignature (p: unknown): { proposal: Proposal, publicKey: Uint8Array } {
  const { msg, publicKey } = checkSigned(p, PROPOSAL, [['public_key', 'string'], ['session_nonce', 'string']])
  checkCapabilities(msg, PROPOSAL)
  if (msg.expires_at !== undefined) field(msg, 'expires_at', 'int', PROPOSAL)
  return { proposal: msg as Proposal, publicKey }
}

/** Verifies a proposal addressed to `me`: signature, agent_id binding, freshness. Returns the initiator's key. */
export function verifyProposal (p: unknown, opts: WindowOptions & { me?: string }): { proposal: Proposal, publicKey: Uint8Array, expiresAt: number } {
  const { proposal, publicKey } = verifyProposalSignature(p)
  if (opts.me !== undefined && proposal.peer_agent_id !== undefined && proposal.peer_agent_id !== opts.me) {
    fail(C.A2A_AGENT_ID_MISMATCH, `proposal is addressed to ${String(proposal.peer_agent_id)}, not ${opts.me}`, 'peer_agent_id', { expected: opts.me, actual: proposal.peer_agent_id })
  }
  const expiresAt = proposalExpiry(proposal, opts)
  if (proposal.timestamp > opts.now + opts.skewSeconds) {
    fail(C.A2A_PROPOSAL_NOT_YET_VALID, `proposal is dated ${proposal.timestamp}, ahead of this clock (${opts.now}) by more than ${opts.skewSeconds} s`, 'timestamp', { expected: `<= ${opts.now + opts.skewSeconds}`, actual: proposal.timestamp })
  }
  if (expiresAt - proposal.timestamp > opts.maxTtlSeconds || expiresAt <= proposal.timestamp) {
    fail(C.A2A_PROPOSAL_NOT_YET_VALID, `proposal asks for a ${expiresAt - proposal.timestamp} s window; allowed 1..${opts.maxTtlSeconds}`, 'expires_at')
  }
  if (opts.now > expiresAt + opts.skewSeconds) {
    fail(C.A2A_PROPOSAL_EXPIRED, `proposal expired at ${expiresAt} (now ${opts.now})`, 'expires_at', { expected: `>= ${opts.now - opts.skewSeconds}`, actual: expiresAt })
  }
  return { proposal, publicKey, expiresAt }
}

/** Verifies a response to `proposal`: signature, binding (nonce echo, proposal_hash, addressee), responder. */
export function verifyResponse (r: unknown, proposal: Proposal, opts: { expectedResponder?: string } = {}): { response: Response, publicKey: Uint8Array } {
  const { msg, publicKey } = checkSigned(r, RESPONSE, [['public_key', 'string'], ['session_id', 'string'], ['session_nonce', 'string'], ['proposal_hash', 'string'], ['accepted', 'boolean'], ['peer_agent_id', 'string']])
  checkCapabilities(msg, RESPONSE)
  const response = msg as Response
  if (response.session_nonce !== proposal.session_nonce) fail(C.A2A_BINDING_MISMATCH, 'response: session nonce mismatch (a replayed or misrouted response)', 'session_nonce', { expected: proposal.session_nonce, actual: response.session_nonce })
  const ph = messageHash(proposal)
  if (response.proposal_hash !== ph) fail(C.A2A_BINDING_MISMATCH, 'response: proposal_hash does not match the proposal', 'proposal_hash', { expected: ph, actual: response.proposal_hash })
  if (response.peer_agent_id !== proposal.agent_id) fail(C.A2A_AGENT_ID_MISMATCH, `response answers ${response.peer_agent_id}, not the proposer ${proposal.agent_id}`, 'peer_agent_id', { expected: proposal.agent_id, actual: response.peer_agent_id })
  if (opts.expectedResponder !== undefined && response.agent_id !== opts.expectedResponder) {
    fail(C.A2A_AGENT_ID_MISMATCH, `response comes from ${response.agent_id}, not the addressed peer ${opts.expectedResponder}`, 'agent_id', { expected: opts.expectedResponder, actual: response.agent_id })
  }
  if (proposal.peer_agent_id !== undefined && response.agent_id !== proposal.peer_agent_id) {
    fail(C.A2A_AGENT_ID_MISMATCH, `response comes from ${response.agent_id}, but the proposal was addressed to ${String(proposal.peer_agent_id)}`, 'agent_id')
  }
  return { response, publicKey }
}

/** Verifies the initiator's confirmation of `response` with the key its proposal carried. */
export function verifyConfirmation (c: unknown, response: Response, proposal: Proposal): Confirmation {
  const initiatorKey = decode58(proposal.public_key, 32, PROPOSAL, 'public_key')
  const { msg } = checkSigned(c, CONFIRMATION, [['session_id', 'string'], ['response_hash', 'string'], ['peer_agent_id', 'string']], initiatorKey)
  const conf = msg as Confirmation
  if (conf.agent_id !== proposal.agent_id) fail(C.A2A_AGENT_ID_MISMATCH, `confirmation comes from ${conf.agent_id}, not the proposer ${proposal.agent_id}`, 'agent_id')
  if (conf.peer_agent_id !== response.agent_id) fail(C.A2A_AGENT_ID_MISMATCH, `confirmation addresses ${conf.peer_agent_id}, not the responder ${response.agent_id}`, 'peer_agent_id')
  if (conf.session_id !== response.session_id) fail(C.A2A_BINDING_MISMATCH, 'confirmation: session_id mismatch', 'session_id', { expected: response.session_id, actual: conf.session_id })
  const rh = messageHash(response)
  if (conf.response_hash !== rh) fail(C.A2A_BINDING_MISMATCH, 'confirmation: response_hash does not match the response', 'response_hash', { expected: rh, actual: conf.response_hash })
  return conf
}

/** Decodes a Base58 public key from a verified message (for callers holding one). */
export function messagePublicKey (m: { public_key: string }): Uint8Array { return fromBase58(m.public_key) }

