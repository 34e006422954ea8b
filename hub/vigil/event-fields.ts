// What Vigil reads from an AISS-1 event (vigil.md §2, §4). Payload values come from lossless JSON, so a
// number may be a bigint or a Float wrapper: only strings and truthiness are relied on here.
import type { AissEvent } from '../../runtime/types.js'

/** §2: interaction types counted by the trust score's V_t and D_t. */
export const TS_A2A_TYPES: ReadonlySet<string> = new Set(['a2a_handshake', 'a2a_message', 'a2a_handshake_complete', 'external_interaction'])
/** §4: the A2C detector's wider set. */
export const A2C_A2A_TYPES: ReadonlySet<string> = new Set([...TS_A2A_TYPES, 'a2a_request', 'a2a_response'])
/** §2 F: events that are never expected to carry a timestamp token. */
const UNFINALIZABLE: ReadonlySet<string> = new Set(['key_rotation', 'genesis', 'identity_created'])

export interface EventFacts {
  timestamp: number
  eventType: string | null
  /** Peer named by the event (§2/§4 lookup order), or null when the event names none. */
  peer: string | null
  tsA2a: boolean
  a2cA2a: boolean
  /** §2 V_t: the interaction carries proof from the peer. */
  verified: boolean
  /** §2 F / §4: a timestamp token is present (including `trusted_timestamp`, gaps.md #64). Not verified here. */
  anchored: boolean
  finalizable: boolean
  rotation: boolean
  /** §2 I/R: the rotation is attested (see rotationAttested). */
  rotationAttested: boolean
}

function truthy (v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === 0n) return false
  if (Array.isArray(v)) return v.length > 0
  if (typeof v === 'object' && v.constructor === Object) return Object.keys(v).length > 0
  return true
}

function str (v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null
}

function hasToken (o: unknown): boolean {
  return o !== null && typeof o === 'object' && !Array.isArray(o) && (truthy((o as Record<string, unknown>).rfc3161_token) || truthy((o as Record<string, unknown>).token))
}

/**
 * A rotation is attested when it carries one of the fields the reference looks for, or when it is the
 * reference's own rotation event (new_public_key and new_agent_id): that event reached Vigil only after
 * its signature by the old key verified, and that signature IS the attestation (gaps.md #14: the
 * reference penalised its own official rotations as "unattested").
 */
function rotationAttested (p: Record<string, unknown>): boolean {
  if (truthy(p.rotation_attestation) || truthy(p.attestation) || truthy(p.prev_agent_signature)) return true
  return str(p.new_public_key) !== null && str(p.new_agent_id) !== null
}

export function eventFacts (event: AissEvent): EventFacts {
  const p = (event.payload ?? {}) as Record<string, unknown>
  const top = event as unknown as Record<string, unknown>
  const eventType = str(p.event_type)
  const tsA2a = eventType !== null && TS_A2A_TYPES.has(eventType)
  // ours: AgentSession interactions have any event_type but name their peer (a2a_session.md §6.2); the
  // A2C detector would otherwise miss all session traffic. V_t/D_t keep the spec's strict set.
  const namedPeer = str(p.peer_agent_id) ?? str(p.peer_id) ?? str(top.peer_agent_id)
  const a2cA2a = (eventType !== null && A2C_A2A_TYPES.has(eventType)) || namedPeer !== null
  const anchored = truthy(p.tsa_token) || truthy(p.rfc3161_timestamp) || truthy(p.tsa_timestamp) || truthy(p.rfc3161_token) ||
    truthy(top.tsa_token) || truthy(top.rfc3161_token) || truthy(top.tsa_timestamp) || truthy(top.finalized_at) ||
    hasToken(top.trusted_timestamp) || hasToken(p.trusted_timestamp)
  const rotation = eventType === 'key_rotation'
  const ts = Number(event.timestamp)
  return {
    timestamp: Number.isFinite(ts) ? ts : 0,
    eventType,
    peer: tsA2a || a2cA2a ? (namedPeer ?? 'unknown') : null,
    tsA2a,
    a2cA2a,
    verified: truthy(p.peer_signature) || truthy(p.verified) || truthy(p.handshake_complete),
    anchored,
    finalizable: eventType === null || !UNFINALIZABLE.has(eventType),
    rotation,
    rotationAttested: rotation && rotationAttested(p)
  }
}
