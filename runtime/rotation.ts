// Key rotation (protocol.md §13). The old key signs an attestation naming the new key, and the
// rotation event itself (signed by the old key) carries it, so a chain that continues under the new
// key verifies as one history. The reference's event lacks the attestation, which its own trust score
// then penalises as "unattested" (gaps.md #14); ours embeds it as `rotation_attestation`.
import { canonicalBytes } from './canonical.js'
import { crypto } from './crypto.js'
import { fromBase64Strict, toBase64, equalBytes } from './encoding.js'
import { AISS_VERSION, deriveAgentId, type Identity } from './identity.js'
import type { JsonValue } from './value.js'
import { publicKeyProblem } from './public-key.js'

export const ROTATION_EVENT_TYPE = 'key_rotation'

export interface RotationAttestation {
  version: string
  attestation_type: 'key_rotation'
  previous_agent_id: string
  previous_public_key: string
  new_agent_id: string
  new_public_key: string
  rotation_timestamp: number
  rotation_signature: string
  [k: string]: JsonValue
}

/** The reference's create_rotation_attestation: body signed by the OLD key. */
export function createRotationAttestation (oldIdentity: Identity, newPublicKey: Uint8Array, now = Math.floor(Date.now() / 1000)): RotationAttestation {
  const body = {
    version: AISS_VERSION,
    attestation_type: 'key_rotation' as const,
    previous_agent_id: oldIdentity.agentId,
    previous_public_key: toBase64(oldIdentity.publicKey),
    new_agent_id: deriveAgentId(newPublicKey),
    new_public_key: toBase64(newPublicKey),
    rotation_timestamp: now
  }
  return { ...body, rotation_signature: toBase64(oldIdentity.sign(canonicalBytes(body))) }
}

/** Checks an attestation on its own (the reference has no such check). */
export function verifyRotationAttestation (att: unknown): { ok: true, oldPublicKey: Uint8Array, newPublicKey: Uint8Array } | { ok: false, reason: string } {
  if (!att || typeof att !== 'object') return { ok: false, reason: 'attestation is not an object' }
  const { rotation_signature: sig, ...body } = att as Record<string, unknown>
  const oldKey = typeof body.previous_public_key === 'string' ? fromBase64Strict(body.previous_public_key) : null
  const newKey = typeof body.new_public_key === 'string' ? fromBase64Strict(body.new_public_key) : null
  if (!oldKey || oldKey.length !== 32) return { ok: false, reason: 'previous_public_key is not base64 of 32 bytes' }
  if (!newKey || newKey.length !== 32) return { ok: false, reason: 'new_public_key is not base64 of 32 bytes' }
  const weak = publicKeyProblem(newKey)
  if (weak !== null) return { ok: false, reason: `new_public_key ${weak}` }
  if (body.previous_agent_id !== deriveAgentId(oldKey)) return { ok: false, reason: 'previous_agent_id is not derived from previous_public_key' }
  if (body.new_agent_id !== deriveAgentId(newKey)) return { ok: false, reason: 'new_agent_id is not derived from new_public_key' }
  const signature = typeof sig === 'string' ? fromBase64Strict(sig) : null
  if (!signature) return { ok: false, reason: 'rotation_signature is not standard base64' }
  if (!crypto().verify(signature, canonicalBytes(body), oldKey)) return { ok: false, reason: 'rotation_signature does not verify with the previous key' }
  return { ok: true, oldPublicKey: oldKey, newPublicKey: newKey }
}

/** Payload of the rotation event: the reference's fields plus the attestation. */
export function rotationPayload (att: RotationAttestation): Record<string, JsonValue> {
  const { rotation_signature: _sig, version: _v, ...fields } = att
  return { event_type: ROTATION_EVENT_TYPE, ...fields, rotation_attestation: att }
}

/**
 * Checks a rotation event's payload against the key in force; returns the key that signs from then on.
 * A reference-made rotation event (no embedded attestation) is accepted: its own signature by the old
 * key already attests the new key.
 */
export function checkRotationPayload (payload: Record<string, JsonValue>, current: { agentId: string, publicKey: Uint8Array }):
{ ok: true, newAgentId: string, newPublicKey: Uint8Array } | { ok: false, reason: string } {
  if (payload.previous_agent_id !== current.agentId) return { ok: false, reason: `rotation names previous_agent_id ${String(payload.previous_agent_id)}, but the chain's agent is ${current.agentId}` }
  const prevKey = typeof payload.previous_public_key === 'string' ? fromBase64Strict(payload.previous_public_key) : null
  if (!prevKey || !equalBytes(prevKey, current.publicKey)) return { ok: false, reason: 'rotation previous_public_key is not the key in force' }
  const newKey = typeof payload.new_public_key === 'string' ? fromBase64Strict(payload.new_public_key) : null
  if (!newKey || newKey.length !== 32) return { ok: false, reason: 'rotation new_public_key is not base64 of 32 bytes' }
  // A rotation to a key of small order would let anyone append from then on.
  const weak = publicKeyProblem(newKey)
  if (weak !== null) return { ok: false, reason: `rotation new_public_key ${weak}` }
  const newAgentId = deriveAgentId(newKey)
  if (payload.new_agent_id !== newAgentId) return { ok: false, reason: `rotation new_agent_id ${String(payload.new_agent_id)} is not derived from new_public_key` }
  if (payload.rotation_attestation !== undefined) {
    const att = verifyRotationAttestation(payload.rotation_attestation)
    if (!att.ok) return { ok: false, reason: `rotation_attestation: ${att.reason}` }
    if (!equalBytes(att.newPublicKey, newKey) || !equalBytes(att.oldPublicKey, prevKey)) return { ok: false, reason: 'rotation_attestation names other keys than the event' }
  }
  return { ok: true, newAgentId, newPublicKey: newKey }
}
