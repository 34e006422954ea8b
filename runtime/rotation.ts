// Key rotation (protocol.md §13). The old key signs an attestation naming the new key, and the
// rotation event itself (signed by the old key) carries it, so a chain that continues under the new
// key verifies as one history. The reference's event lacks the attestation, which its own trust score
// then penalises as "unattested" (gaps.md #14); ours embeds it as `rotation_attestation`.
// AISS-2 (README "AISS-2"): when the chain has an ML-DSA key in force, the attestation also names the old
// and new ML-DSA keys and carries `rotation_signature_pq`, the old ML-DSA key's signature over the same
// body; the rotation event itself is AISS-2.0 (runtime/profile.ts), so both old keys sign both new keys.
import { canonicalBytes } from './canonical.js'
import { crypto } from './crypto.js'
import { fromBase64Strict, toBase64, equalBytes } from './encoding.js'
import { AISS_VERSION, deriveAgentId, type Identity } from './identity.js'
import type { JsonValue } from './value.js'
import { publicKeyProblem } from './public-key.js'
import { pqBackend, ML_DSA_65_SIZES } from './pq.js'

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
  previous_public_key_pq?: string
  new_public_key_pq?: string
  rotation_signature_pq?: string
  [k: string]: JsonValue | undefined
}

/** The reference's create_rotation_attestation: body signed by the OLD key. */
export function createRotationAttestation (oldIdentity: Identity, newPublicKey: Uint8Array, now = Math.floor(Date.now() / 1000), newPublicKeyPq?: Uint8Array): RotationAttestation {
  const body: Record<string, JsonValue> = {
    version: AISS_VERSION,
    attestation_type: 'key_rotation' as const,
    previous_agent_id: oldIdentity.agentId,
    previous_public_key: toBase64(oldIdentity.publicKey),
    new_agent_id: deriveAgentId(newPublicKey),
    new_public_key: toBase64(newPublicKey),
    rotation_timestamp: now
  }
  if (oldIdentity.publicKeyPq !== null) {
    if (newPublicKeyPq?.length !== ML_DSA_65_SIZES.publicKey) throw new TypeError(`"newPublicKeyPq" expected ${ML_DSA_65_SIZES.publicKey} bytes: an identity with an ML-DSA key rotates both keys`)
    body.previous_public_key_pq = toBase64(oldIdentity.publicKeyPq)
    body.new_public_key_pq = toBase64(newPublicKeyPq)
  }
  const bytes = canonicalBytes(body)
  const att = { ...body, rotation_signature: toBase64(oldIdentity.sign(bytes)) } as RotationAttestation
  if (oldIdentity.publicKeyPq !== null) att.rotation_signature_pq = toBase64(oldIdentity.signPq(bytes))
  return att
}

/** Checks an attestation on its own (the reference has no such check). */
export function verifyRotationAttestation (att: unknown): { ok: true, oldPublicKey: Uint8Array, newPublicKey: Uint8Array, oldPublicKeyPq: Uint8Array | null, newPublicKeyPq: Uint8Array | null } | { ok: false, reason: string } {
  if (!att || typeof att !== 'object') return { ok: false, reason: 'attestation is not an object' }
  const { rotation_signature: sig, rotation_signature_pq: sigPq, ...body } = att as Record<string, unknown>
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
  const bytes = canonicalBytes(body as Record<string, JsonValue>)
  if (!crypto().verify(signature, bytes, oldKey)) return { ok: false, reason: 'rotation_signature does not verify with the previous key' }
  if (body.previous_public_key_pq === undefined && body.new_public_key_pq === undefined && sigPq === undefined) {
    return { ok: true, oldPublicKey: oldKey, newPublicKey: newKey, oldPublicKeyPq: null, newPublicKeyPq: null }
  }
  const oldPq = typeof body.previous_public_key_pq === 'string' ? fromBase64Strict(body.previous_public_key_pq) : null
  const newPq = typeof body.new_public_key_pq === 'string' ? fromBase64Strict(body.new_public_key_pq) : null
  if (oldPq?.length !== ML_DSA_65_SIZES.publicKey) return { ok: false, reason: `previous_public_key_pq is not base64 of ${ML_DSA_65_SIZES.publicKey} bytes` }
  if (newPq?.length !== ML_DSA_65_SIZES.publicKey) return { ok: false, reason: `new_public_key_pq is not base64 of ${ML_DSA_65_SIZES.publicKey} bytes` }
  const signaturePq = typeof sigPq === 'string' ? fromBase64Strict(sigPq) : null
  if (!signaturePq) return { ok: false, reason: 'rotation_signature_pq is missing or not standard base64' }
  const backend = pqBackend()
  if (!backend) return { ok: false, reason: 'no ML-DSA-65 backend in this process to check rotation_signature_pq' }
  if (!backend.verify(signaturePq, bytes, oldPq)) return { ok: false, reason: 'rotation_signature_pq does not verify with the previous ML-DSA-65 key' }
  return { ok: true, oldPublicKey: oldKey, newPublicKey: newKey, oldPublicKeyPq: oldPq, newPublicKeyPq: newPq }
}

/** Payload of the rotation event: the reference's fields plus the attestation. */
export function rotationPayload (att: RotationAttestation): Record<string, JsonValue> {
  const { rotation_signature: _sig, rotation_signature_pq: _sigPq, version: _v, ...fields } = att
  return { event_type: ROTATION_EVENT_TYPE, ...fields, rotation_attestation: att } as Record<string, JsonValue>
}

/**
 * Checks a rotation event's payload against the key in force; returns the key that signs from then on.
 * A reference-made rotation event (no embedded attestation) is accepted: its own signature by the old
 * key already attests the new key.
 */
export function checkRotationPayload (payload: Record<string, JsonValue>, current: { agentId: string, publicKey: Uint8Array, publicKeyPq?: Uint8Array | null }):
{ ok: true, newAgentId: string, newPublicKey: Uint8Array, newPublicKeyPq: Uint8Array | null } | { ok: false, reason: string } {
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
  const currentPq = current.publicKeyPq ?? null
  if (currentPq === null && (payload.new_public_key_pq !== undefined || payload.previous_public_key_pq !== undefined)) {
    return { ok: false, reason: 'rotation names ML-DSA keys, but the chain has no ML-DSA key in force (a profile_upgrade comes first)' }
  }
  if (currentPq !== null && payload.rotation_attestation === undefined) return { ok: false, reason: 'a rotation under an ML-DSA key must carry rotation_attestation signed by both old keys' }
  let newKeyPq: Uint8Array | null = null
  if (payload.rotation_attestation !== undefined) {
    const att = verifyRotationAttestation(payload.rotation_attestation)
    if (!att.ok) return { ok: false, reason: `rotation_attestation: ${att.reason}` }
    if (!equalBytes(att.newPublicKey, newKey) || !equalBytes(att.oldPublicKey, prevKey)) return { ok: false, reason: 'rotation_attestation names other keys than the event' }
    if (currentPq !== null) {
      // Both keys rotate together: the old ML-DSA key attests the new one, as the old Ed25519 key does.
      if (att.oldPublicKeyPq === null || att.newPublicKeyPq === null) return { ok: false, reason: 'rotation_attestation does not attest the ML-DSA keys' }
      if (!equalBytes(att.oldPublicKeyPq, currentPq)) return { ok: false, reason: 'rotation_attestation previous_public_key_pq is not the ML-DSA key in force' }
      if (payload.new_public_key_pq !== toBase64(att.newPublicKeyPq) || payload.previous_public_key_pq !== toBase64(att.oldPublicKeyPq)) return { ok: false, reason: 'rotation_attestation names other ML-DSA keys than the event' }
      newKeyPq = att.newPublicKeyPq
    } else if (att.newPublicKeyPq !== null) {
      return { ok: false, reason: 'rotation_attestation names ML-DSA keys, but the chain has no ML-DSA key in force' }
    }
  }
  return { ok: true, newAgentId, newPublicKey: newKey, newPublicKeyPq: newKeyPq }
}
