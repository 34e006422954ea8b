// Interactions: one agent acts towards a peer; the act is stamped in the sender's chain and its
// `<type>_received` mirror in the peer's (a2a_session.md §6.2), both carrying the same interaction_hash.
//
// interaction_hash (gaps.md #34: the reference hashes `f"{a}:{b}:{time.time()}"`, a Python float that no
// verifier can recompute). Ours is recomputable from either event by anyone with SHA-256 and canonical
// JSON (protocol.md §6), and commits to the content, so two sides recording different things disagree:
//   payload_hash     = sha256hex(canon(content))
//   interaction_hash = sha256hex(canon({ event_type, initiator, interaction_id, payload_hash, responder, session_id }))
// where content = the event payload minus the envelope keys below (so: the auto-hashed caller fields),
// event_type is the initiator's (no `_received`), interaction_id is a UUIDv4 chosen by the initiator.
// No clock value enters the hash. Auto-hashing (same section) hashes each value's canonical JSON
// (runtime/privacy.ts hashValue), not Python's str(), which only Python can reproduce.
import { eventHash } from '../event.js'
import { checkEventSignature } from '../verify.js'
import { hashValue } from '../privacy.js'
import type { AissEvent } from '../types.js'
import type { JsonObject, JsonValue } from '../value.js'
import { A2AErrorCodes as C } from './errors.js'

export const RECEIVED_SUFFIX = '_received'
export const AISS_PROFILE = 'AISS-1'
/** Keys the session writes around the caller's content; a caller may not supply them. */
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set([
  'event_type', 'session_id', 'aiss_profile', 'interaction_hash', 'interaction_id', 'payload_hash',
  'my_role', 'peer_agent_id', 'peer_signature', 'peer_event'
])

/**
 * The auto-hash rule: a top-level key ending in `_hash` or `_id` (session_id included) keeps its value;
 * any other key `k` becomes `k_hash` = hashValue(value). Throws TypeError when two keys would collide
 * or a reserved envelope key is supplied (the reference silently overwrote them).
 */
export function autoHashPayload (payload: Record<string, JsonValue>, opts: { sessionId?: string } = {}): JsonObject {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new TypeError(`"payload" expected a plain object, got ${Array.isArray(payload) ? 'an array' : typeof payload}`)
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue
    if (key === 'session_id') {
      if (opts.sessionId !== undefined && value !== opts.sessionId) throw new TypeError(`"payload.session_id" is ${JSON.stringify(value)}, not this session's ${opts.sessionId}`)
      continue
    }
    if (ENVELOPE_KEYS.has(key)) throw new TypeError(`"payload.${key}" is reserved for the session envelope`)
    const raw = key.endsWith('_hash') || key.endsWith('_id')
    const name = raw ? key : key + '_hash'
    if (name in out) throw new TypeError(`"payload.${key}" collides with "${name}" after auto-hashing`)
    out[name] = raw ? value : hashValue(value)
  }
  return out
}

/** The caller's (already auto-hashed) fields of an interaction event: payload minus the envelope. */
export function interactionContent (payload: Record<string, JsonValue>): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(payload)) if (!ENVELOPE_KEYS.has(k)) out[k] = v
  return out
}

export interface InteractionKey {
  sessionId: string
  eventType: string
  initiator: string
  responder: string
  interactionId: string
  payloadHash: string
}

export function interactionHash (k: InteractionKey): string {
  return hashValue({ event_type: k.eventType, initiator: k.initiator, interaction_id: k.interactionId, payload_hash: k.payloadHash, responder: k.responder, session_id: k.sessionId })
}

/** The initiator's payload (Agent.stamp adds event_type). */
export function initiatorPayload (opts: { sessionId: string, eventType: string, initiator: string, peer: string, interactionId: string, content: JsonObject }): JsonObject {
  const payloadHash = hashValue(opts.content)
  return {
    ...opts.content,
    session_id: opts.sessionId,
    aiss_profile: AISS_PROFILE,
    interaction_id: opts.interactionId,
    payload_hash: payloadHash,
    interaction_hash: interactionHash({ ...opts, responder: opts.peer, payloadHash }),
    my_role: 'initiator',
    peer_agent_id: opts.peer
  }
}

/**
 * The peer's mirror payload. It embeds the initiator's whole signed event, so the peer's chain alone
 * proves what the initiator signed (check it with the initiator's key from the handshake in the same
 * chain); peer_signature is kept for the reference's readers.
 */
export function mirrorPayload (initiatorEvent: AissEvent): JsonObject {
  const p = initiatorEvent.payload
  return {
    ...interactionContent(p),
    session_id: p.session_id!,
    aiss_profile: AISS_PROFILE,
    interaction_id: p.interaction_id!,
    payload_hash: p.payload_hash!,
    interaction_hash: p.interaction_hash!,
    my_role: 'responder',
    peer_agent_id: initiatorEvent.agent_id,
    peer_signature: initiatorEvent.signature,
    peer_event: initiatorEvent as unknown as JsonObject
  }
}

export interface InteractionProblem { code: string, message: string, field?: string }

/** Recomputes payload_hash and interaction_hash of an initiator event from its own fields. */
export function checkInitiatorEvent (e: AissEvent): InteractionProblem[] {
  const out: InteractionProblem[] = []
  const p = e?.payload as Record<string, JsonValue> | undefined
  if (!p || p.my_role !== 'initiator') return [{ code: C.A2A_MESSAGE_MALFORMED, message: 'not an initiator interaction event', field: 'my_role' }]
  for (const k of ['session_id', 'interaction_id', 'payload_hash', 'interaction_hash', 'peer_agent_id', 'event_type']) {
    if (typeof p[k] !== 'string') out.push({ code: C.A2A_MESSAGE_MALFORMED, message: `${k} is missing or not a string`, field: k })
  }
  if (out.length) return out
  const payloadHash = hashValue(interactionContent(p))
  if (payloadHash !== p.payload_hash) out.push({ code: C.A2A_INTERACTION_MISMATCH, message: `payload_hash ${String(p.payload_hash)} does not match the recorded content (${payloadHash})`, field: 'payload_hash' })
  const ih = interactionHash({ sessionId: p.session_id as string, eventType: p.event_type as string, initiator: e.agent_id, responder: p.peer_agent_id as string, interactionId: p.interaction_id as string, payloadHash })
  if (ih !== p.interaction_hash) out.push({ code: C.A2A_INTERACTION_MISMATCH, message: `interaction_hash ${String(p.interaction_hash)} is not the recipe's ${ih}`, field: 'interaction_hash' })
  return out
}

/**
 * Checks a `<type>_received` mirror against the initiator event it embeds: the embedded event's
 * signature (with `initiatorKey`), its hashes, and that the mirror records the same interaction.
 */
export function checkMirrorEvent (r: AissEvent, initiatorKey: Uint8Array | null): InteractionProblem[] {
  const p = r?.payload as Record<string, JsonValue> | undefined
  const e = p?.peer_event as unknown as AissEvent | undefined
  if (!p || p.my_role !== 'responder' || !e || typeof e !== 'object' || !e.payload) {
    return [{ code: C.A2A_MESSAGE_MALFORMED, message: 'mirror without the embedded initiator event (peer_event)', field: 'peer_event' }]
  }
  const out = checkInitiatorEvent(e)
  if (initiatorKey) {
    if (!signedBy(e, initiatorKey)) out.push({ code: C.A2A_SIGNATURE_INVALID, message: `the embedded initiator event is not signed by ${e.agent_id}'s handshake key`, field: 'peer_event.signature' })
  } else {
    out.push({ code: C.A2A_UNKNOWN_SESSION, message: `no handshake with ${e.agent_id} in this chain: the initiator's key is unknown`, field: 'peer_event' })
  }
  const expected = mirrorPayload(e)
  if (p.event_type !== `${String(e.payload.event_type)}${RECEIVED_SUFFIX}`) out.push({ code: C.A2A_INTERACTION_MISMATCH, message: `mirror type ${String(p.event_type)} for ${String(e.payload.event_type)}`, field: 'event_type' })
  if (e.payload.peer_agent_id !== r.agent_id) out.push({ code: C.A2A_INTERACTION_MISMATCH, message: `the initiator addressed ${String(e.payload.peer_agent_id)}, not ${r.agent_id}`, field: 'peer_event.payload.peer_agent_id' })
  for (const k of Object.keys({ ...expected, ...p })) {
    if (k === 'peer_event' || k === 'event_type') continue
    if (hashValue(p[k] ?? null) !== hashValue(expected[k] ?? null)) out.push({ code: C.A2A_INTERACTION_MISMATCH, message: `mirror records ${k} differently from the initiator event`, field: k })
  }
  if (typeof r.timestamp === 'number' && typeof e.timestamp === 'number' && r.timestamp < e.timestamp) {
    out.push({ code: C.A2A_INTERACTION_MISMATCH, message: `mirror (${r.timestamp}) is older than the event it mirrors (${e.timestamp})`, field: 'timestamp' })
  }
  return out
}

/** An AISS event's base64 signature checked against a raw key; false for anything malformed. */
export function signedBy (e: AissEvent | undefined, publicKey: Uint8Array): boolean {
  return e !== null && typeof e === 'object' && checkEventSignature(e, publicKey) === 'ok'
}

/** The hash of the initiator event a mirror embeds (to pair it with the event in the initiator's chain). */
export function mirroredEventHash (r: AissEvent): string | null {
  const e = r?.payload?.peer_event as unknown as AissEvent | undefined
  try { return e ? eventHash(e) : null } catch { return null }
}
