// One agent's A2A endpoint: it starts handshakes and interactions towards peers and answers theirs,
// over any A2ATransport. The messages and events are built and checked by the pure modules next to it;
// this file holds the state (pending handshakes, agreed links, nonces) and the order of the steps.
//
// Handshake (three messages, two round trips):
//   A → B  proposal (signed by A, expires_at, addressed to B)       B checks, claims the nonce, answers
//   B → A  response (signed by B, binds the proposal hash)          A checks
//   A      stamps a2a_handshake {proposal, response, confirmation}  (its own chain first: it makes the claim)
//   A → B  confirmation (signed by A, binds the response hash)      B checks, stamps the same record
//   B → A  ack {handshake_hash}
// An interaction: A stamps the event, sends it; B checks it against the handshake's key, stamps the
// `_received` mirror embedding it, answers with the mirror; A checks the mirror's signature.
import { crypto } from '../crypto.js'
import { PcpError } from '../errors.js'
import type { AissEvent, Stamper } from '../types.js'
import type { JsonObject, JsonValue } from '../value.js'
import { A2AErrorCodes as C } from './errors.js'
import {
  createConfirmation, createProposal, createResponse, verifyConfirmation, verifyProposal, verifyResponse, agreeCapabilities,
  DEFAULT_CAPABILITIES, type A2ASigner, type Proposal, type Response
} from './messages.js'
import { NonceRegistry } from './nonces.js'
import { handshakePayload, HANDSHAKE_EVENT_TYPE, type Role } from './handshake-event.js'
import { autoHashPayload, checkInitiatorEvent, checkMirrorEvent, initiatorPayload, interactionContent, mirrorPayload, signedBy, RECEIVED_SUFFIX } from './interaction.js'
import { hashValue } from '../privacy.js'
import type { A2ATransport } from './transport.js'

export interface A2ANodeOptions {
  transport: A2ATransport
  /** Milliseconds since the epoch (injectable; default Date.now). */
  clock?: () => number
  /** What this agent offers; default the reference's ["a2a", "stamp", "verify"]. */
  capabilities?: readonly string[]
  /** Validity of the proposals this node sends (seconds, default 60). */
  ttlSeconds?: number
  /** Longest validity accepted from a peer (default 3600, the guide's expires_in). */
  maxTtlSeconds?: number
  /** Tolerated clock difference between devices (default 30 s). */
  skewSeconds?: number
  timeoutMs?: number
  /** Responder policy: false answers accepted: false. Default: accept. */
  accept?: (proposal: Proposal) => boolean | Promise<boolean>
  /**
   * Called once a peer's interaction is mirrored in this chain (e.g. the Pi executes the command). `clear`
   * is the payload before auto-hashing, sent beside the event (never stored) and checked against its hashes.
   */
  onInteraction?: (mirror: AissEvent, initiatorEvent: AissEvent, clear: JsonObject) => void | Promise<void>
  nonces?: NonceRegistry
}

/** An agreed session with one peer, as recorded in this agent's chain. */
export interface Link {
  peer: string
  sessionId: string
  role: Role
  capabilities: string[]
  peerPublicKey: Uint8Array
  handshakeHash: string
  event: AissEvent
}

const SESSION_ID_SHAPE = /^[A-Za-z0-9_.:-]{1,128}$/

export class A2ANode {
  readonly agent: Stamper
  readonly #signer: A2ASigner
  readonly #o: Required<Omit<A2ANodeOptions, 'accept' | 'onInteraction' | 'nonces'>> & Pick<A2ANodeOptions, 'accept' | 'onInteraction'>
  readonly #nonces: NonceRegistry
  readonly #pending = new Map<string, { proposal: Proposal, response: Response, expiresAt: number, publicKey: Uint8Array }>()
  readonly #links = new Map<string, Link & { mirrored: Map<string, Promise<AissEvent>> }>()
  #stop: (() => Promise<void>) | undefined

  constructor (agent: Stamper, signer: A2ASigner, opts: A2ANodeOptions) {
    if (!agent || typeof agent.stamp !== 'function') throw new TypeError('"agent" expected a Stamper')
    if (!signer || signer.agentId !== agent.agentId) throw new TypeError(`"signer" must hold the key of ${agent.agentId}, got ${signer?.agentId}`)
    if (!opts?.transport) throw new TypeError('"opts.transport" is required')
    this.agent = agent
    this.#signer = signer
    this.#o = {
      transport: opts.transport, clock: opts.clock ?? Date.now, capabilities: opts.capabilities ?? DEFAULT_CAPABILITIES,
      ttlSeconds: opts.ttlSeconds ?? 60, maxTtlSeconds: opts.maxTtlSeconds ?? 3600, skewSeconds: opts.skewSeconds ?? 30,
      timeoutMs: opts.timeoutMs ?? 10_000, accept: opts.accept, onInteraction: opts.onInteraction
    }
    this.#nonces = opts.nonces ?? new NonceRegistry()
  }

  get agentId (): string { return this.agent.agentId }
  #now (): number { return Math.floor(this.#o.clock() / 1000) }

  /** Starts answering peers' requests on the transport. */
  async start (): Promise<this> {
    this.#stop ??= await this.#o.transport.serve(this.agentId, (from, body) => this.#handle(from, body))
    return this
  }

  async close (): Promise<void> { const stop = this.#stop; this.#stop = undefined; await stop?.() }

  /** The agreed link with `peer` (in `sessionId`, or the latest one). */
  link (peer: string, sessionId?: string): Link | undefined {
    if (sessionId !== undefined) return this.#links.get(`${peer}\u0000${sessionId}`)
    let last: Link | undefined
    for (const l of this.#links.values()) if (l.peer === peer) last = l
    return last
  }

  /** Runs the handshake as initiator. Resolves once both chains hold the co-signed record. */
  async handshake (peer: string, opts: { sessionId?: string, metadata?: JsonObject, capabilities?: readonly string[] } = {}): Promise<Link> {
    if (peer === this.agentId) throw new TypeError('"peer" is this agent itself')
    if (opts.sessionId !== undefined && !SESSION_ID_SHAPE.test(opts.sessionId)) throw new TypeError(`"sessionId" expected 1-128 of [A-Za-z0-9_.:-], got ${JSON.stringify(opts.sessionId)}`)
    const metadata: JsonObject = { ...opts.metadata, ...(opts.sessionId ? { session_id: opts.sessionId } : {}) }
    const proposal = createProposal(this.#signer, { now: this.#o.clock(), ttlSeconds: this.#o.ttlSeconds, capabilities: opts.capabilities ?? this.#o.capabilities, metadata, peerAgentId: peer })
    const reply = await this.#request(peer, { kind: 'a2a_proposal', proposal })
    const { response, publicKey } = verifyResponse(reply.response, proposal, { expectedResponder: peer })
    if (!response.accepted) throw new PcpError(C.A2A_REFUSED, `peer ${peer} refused the handshake`, { agent: peer })
    if (opts.sessionId !== undefined && response.session_id !== opts.sessionId) {
      throw new PcpError(C.A2A_BINDING_MISMATCH, `peer ${peer} answered session ${response.session_id}, not ${opts.sessionId}`, { agent: peer, expected: opts.sessionId, actual: response.session_id })
    }
    if (this.#now() > (proposal.expires_at as number) + this.#o.skewSeconds) throw new PcpError(C.A2A_PROPOSAL_EXPIRED, `the response from ${peer} came after the proposal expired`, { agent: peer })
    const confirmation = createConfirmation(this.#signer, response, { now: this.#o.clock() })
    const payload = handshakePayload('initiator', { proposal, response, confirmation })
    const event = await this.agent.stamp(HANDSHAKE_EVENT_TYPE, payload)
    const link = this.#addLink(peer, response.session_id, 'initiator', agreeCapabilities(proposal.capabilities, response.capabilities), publicKey, payload.handshake_hash as string, event)
    const ack = await this.#request(peer, { kind: 'a2a_confirmation', confirmation })
    if (ack.handshake_hash !== link.handshakeHash) {
      throw new PcpError(C.A2A_BINDING_MISMATCH, `peer ${peer} recorded handshake ${String(ack.handshake_hash)}, not ${link.handshakeHash}`, { agent: peer })
    }
    return link
  }

  /**
   * Stamps `eventType` towards `peer` (payload auto-hashed) and has the peer stamp its mirror. Resolves
   * with both signed events once the peer's mirror is checked.
   */
  async interact (peer: string, eventType: string, payload: Record<string, JsonValue> = {}, opts: { sessionId?: string } = {}): Promise<{ event: AissEvent, mirror: AissEvent, interactionHash: string }> {
    if (typeof eventType !== 'string' || eventType.length === 0) throw new TypeError('"eventType" expected a non-empty string')
    if (eventType.endsWith(RECEIVED_SUFFIX) || eventType === HANDSHAKE_EVENT_TYPE) throw new TypeError(`"eventType" ${eventType} is reserved`)
    const link = this.link(peer, opts.sessionId)
    if (!link) throw new PcpError(C.A2A_UNKNOWN_SESSION, `no handshake with ${peer}${opts.sessionId ? ` in session ${opts.sessionId}` : ''}: run handshake() first`, { agent: peer })
    const content = autoHashPayload(payload, { sessionId: link.sessionId })
    const event = await this.agent.stamp(eventType, initiatorPayload({ sessionId: link.sessionId, eventType, initiator: this.agentId, peer, interactionId: crypto().randomUUID(), content }))
    // The clear payload travels beside the signed event so the peer can act on it; chains hold only hashes.
    const reply = await this.#request(peer, { kind: 'a2a_interaction', event: event as unknown as JsonObject, payload: payload as JsonObject })
    const mirror = reply.mirror as unknown as AissEvent
    const problems = checkMirrorEvent(mirror, this.#signer.publicKey)
    if (mirror?.agent_id !== peer) problems.push({ code: C.A2A_AGENT_ID_MISMATCH, message: `mirror stamped by ${String(mirror?.agent_id)}` })
    if (!signedBy(mirror, link.peerPublicKey)) problems.push({ code: C.A2A_SIGNATURE_INVALID, message: 'mirror not signed with the peer\'s handshake key' })
    if (problems.length) throw new PcpError(problems[0]!.code, `peer ${peer}'s mirror: ${problems[0]!.message}`, { agent: peer })
    return { event, mirror, interactionHash: event.payload.interaction_hash as string }
  }

  async #request (peer: string, body: JsonObject): Promise<JsonObject> {
    return this.#o.transport.request(this.agentId, peer, body, { timeoutMs: this.#o.timeoutMs })
  }

  #addLink (peer: string, sessionId: string, role: Role, capabilities: string[], peerPublicKey: Uint8Array, handshakeHash: string, event: AissEvent): Link {
    const link = { peer, sessionId, role, capabilities, peerPublicKey, handshakeHash, event, mirrored: new Map<string, Promise<AissEvent>>() }
    this.#links.set(`${peer}\u0000${sessionId}`, link)
    return link
  }

  async #handle (_from: string, body: JsonObject): Promise<JsonObject> {
    switch (body?.kind) {
      case 'a2a_proposal': return this.#onProposal(body.proposal)
      case 'a2a_confirmation': return this.#onConfirmation(body.confirmation)
      case 'a2a_interaction': return this.#onInteraction(body.event as unknown as AissEvent, body.payload)
      default: throw new PcpError(C.A2A_MESSAGE_MALFORMED, `unknown request kind ${JSON.stringify(body?.kind)}`, { field: 'kind' })
    }
  }

  async #onProposal (p: unknown): Promise<JsonObject> {
    const now = this.#now()
    const w = { now, skewSeconds: this.#o.skewSeconds, maxTtlSeconds: this.#o.maxTtlSeconds, defaultTtlSeconds: Math.min(300, this.#o.maxTtlSeconds), me: this.agentId }
    const { proposal, expiresAt, publicKey } = verifyProposal(p, w)
    // Claimed before answering, for the proposal's whole window: a captured proposal gets no second answer.
    this.#nonces.claim(proposal.agent_id, proposal.session_nonce, expiresAt + this.#o.skewSeconds, now)
    const accepted = this.#o.accept ? await this.#o.accept(proposal) === true : true
    const asked = (proposal.metadata as JsonObject | undefined)?.session_id
    const sessionId = typeof asked === 'string' && SESSION_ID_SHAPE.test(asked) ? asked : crypto().randomUUID()
    const response = createResponse(this.#signer, proposal, { now: this.#o.clock(), accepted, sessionId, capabilities: this.#o.capabilities })
    for (const [k, v] of this.#pending) if (v.expiresAt + this.#o.skewSeconds < now) this.#pending.delete(k)
    if (accepted) this.#pending.set(`${proposal.agent_id}\u0000${sessionId}`, { proposal, response, expiresAt, publicKey })
    return { kind: 'a2a_response', response }
  }

  async #onConfirmation (c: unknown): Promise<JsonObject> {
    const conf = c as Record<string, unknown> | null
    const key = `${String(conf?.agent_id)}\u0000${String(conf?.session_id)}`
    const pending = this.#pending.get(key)
    if (!pending) throw new PcpError(C.A2A_UNKNOWN_SESSION, `no pending handshake for session ${String(conf?.session_id)} with ${String(conf?.agent_id)}`)
    const confirmation = verifyConfirmation(c, pending.response, pending.proposal)
    this.#pending.delete(key)
    if (this.#now() > pending.expiresAt + this.#o.skewSeconds) {
      throw new PcpError(C.A2A_PROPOSAL_EXPIRED, `confirmation for session ${pending.response.session_id} came after the proposal expired (${pending.expiresAt})`, { field: 'expires_at' })
    }
    const rec = { proposal: pending.proposal, response: pending.response, confirmation }
    const payload = handshakePayload('responder', rec)
    const event = await this.agent.stamp(HANDSHAKE_EVENT_TYPE, payload)
    this.#addLink(pending.proposal.agent_id, pending.response.session_id, 'responder', payload.capabilities_agreed as string[], pending.publicKey, payload.handshake_hash as string, event)
    return { kind: 'a2a_ack', handshake_hash: payload.handshake_hash as string }
  }

  async #onInteraction (e: AissEvent, clearBody: JsonValue | undefined): Promise<JsonObject> {
    const sessionId = e?.payload?.session_id
    const link = typeof e?.agent_id === 'string' && typeof sessionId === 'string' ? this.#links.get(`${e.agent_id}\u0000${sessionId}`) : undefined
    if (!link) throw new PcpError(C.A2A_UNKNOWN_SESSION, `no handshake with ${String(e?.agent_id)} in session ${String(sessionId)}`)
    const ih = String(e.payload.interaction_hash)
    // At-least-once transports redeliver: the same interaction gets the same mirror, never a second one.
    const done = link.mirrored.get(ih)
    if (done) return { kind: 'a2a_mirror', mirror: await done as unknown as JsonObject }
    const problems = checkInitiatorEvent(e)
    if (e.payload.peer_agent_id !== this.agentId) problems.push({ code: C.A2A_AGENT_ID_MISMATCH, message: `interaction addressed to ${String(e.payload.peer_agent_id)}` })
    if (!signedBy(e, link.peerPublicKey)) problems.push({ code: C.A2A_SIGNATURE_INVALID, message: `interaction not signed with ${e.agent_id}'s handshake key` })
    if (typeof e.payload.event_type !== 'string' || e.payload.event_type.endsWith(RECEIVED_SUFFIX)) problems.push({ code: C.A2A_MESSAGE_MALFORMED, message: 'bad event_type' })
    const clear = (clearBody && typeof clearBody === 'object' && !Array.isArray(clearBody) ? clearBody : {}) as JsonObject
    if (problems.length === 0 && !sameContent(clear, e, sessionId as string)) problems.push({ code: C.A2A_INTERACTION_MISMATCH, message: 'the clear payload sent does not hash to the signed event\'s content' })
    if (problems.length) throw new PcpError(problems[0]!.code, `interaction from ${e.agent_id}: ${problems[0]!.message}`, { agent: e.agent_id })
    const stamping = this.agent.stamp(`${e.payload.event_type as string}${RECEIVED_SUFFIX}`, mirrorPayload(e))
    link.mirrored.set(ih, stamping)
    let mirror: AissEvent
    try { mirror = await stamping } catch (err) { link.mirrored.delete(ih); throw err }
    await this.#o.onInteraction?.(mirror, e, clear)
    return { kind: 'a2a_mirror', mirror: mirror as unknown as JsonObject }
  }
}

function sameContent (clear: JsonObject, e: AissEvent, sessionId: string): boolean {
  try { return hashValue(autoHashPayload(clear, { sessionId })) === hashValue(interactionContent(e.payload)) } catch { return false }
}
