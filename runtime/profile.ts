// Which profile each event of a chain must meet, and the one signature rule every verifier applies
// (runtime/verify.ts's ChainVerifier, the hub's ingest worker and main thread, hence `pcp verify`, the
// browser verifier and Vigil, which counts the hub's codes). Pure. Reached through runtime/profile-rules.ts's
// slot (runtime/aiss2-install.ts fills it), so the core bundle does not carry it.
//
// The chain records its profile itself: a `profile_upgrade` event, AISS-2.0 and so signed by the Ed25519
// key in force AND by the ML-DSA key it names, binds that key to the chain (agent_id cannot commit to
// it, aiss2.md §2.2) and states the per-event-type policy. From then on:
//   - an event whose type the policy puts under AISS-2.0 and that arrives as AISS-1.0 is PROFILE_DOWNGRADE;
//   - key_rotation and profile_upgrade are always AISS-2.0 (else a key that only Ed25519 protects could
//     rotate the PQ key away), and no policy can say otherwise;
//   - there is no way back to a chain without the ML-DSA key: a later upgrade may change the policy
//     (signed by both keys) but not drop or replace the key (that is a rotation's job).
// An AISS-2.0 identity document binds the ML-DSA key from event 0; until a profile_upgrade states a
// policy, every event must then be AISS-2.0.
import { AISS2_VERSION, checkHybridSignatures, PQ_SIGNATURE_FIELD, type SigFault } from './aiss2-event.js'
import { fromBase64Strict, equalBytes, toBase64 } from './encoding.js'
import { ErrorCodes } from './errors.js'
import { AISS_VERSION } from './identity.js'
import { ML_DSA_65_SIZES } from './pq.js'
import { checkRotationPayload, ROTATION_EVENT_TYPE } from './rotation.js'
import {
  PROFILE_UPGRADE_EVENT_TYPE, ALL_AISS2, classicalFaults, wearsAiss2Signatures, eventTypeOf,
  type Profile, type ProfilePolicy, type PqInForce, type ChainKeys, type AdvanceResult, type ProfileRules
} from './profile-rules.js'
import type { JsonValue } from './value.js'

export { PROFILE_UPGRADE_EVENT_TYPE, ALL_AISS2, type Profile, type ProfilePolicy, type PqInForce, type ChainKeys, type AdvanceResult } from './profile-rules.js'
/** Event types that are AISS-2.0 whenever the chain has an ML-DSA key, whatever the policy says. */
export const ALWAYS_AISS2 = Object.freeze([ROTATION_EVENT_TYPE, PROFILE_UPGRADE_EVENT_TYPE])

function isProfile (v: unknown): v is Profile { return v === AISS_VERSION || v === AISS2_VERSION }

/** Checks a policy value (from a payload or a caller); returns it normalised, or the reason it is refused. */
export function parseProfilePolicy (v: unknown): ProfilePolicy | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'event_profiles is not an object'
  const o = v as Record<string, unknown>
  if (!isProfile(o.default)) return `event_profiles.default is ${JSON.stringify(o.default)}, not "AISS-1.0" or "AISS-2.0"`
  const types = o.event_types ?? {}
  if (types === null || typeof types !== 'object' || Array.isArray(types)) return 'event_profiles.event_types is not an object'
  const out: Record<string, Profile> = Object.create(null)
  for (const [t, p] of Object.entries(types)) {
    if (!isProfile(p)) return `event_profiles.event_types[${JSON.stringify(t)}] is ${JSON.stringify(p)}, not "AISS-1.0" or "AISS-2.0"`
    if (p === AISS_VERSION && ALWAYS_AISS2.includes(t)) return `event_profiles cannot put ${t} under AISS-1.0: it is always AISS-2.0`
    out[t] = p
  }
  for (const k of Object.keys(o)) if (k !== 'default' && k !== 'event_types') return `event_profiles has an unknown field ${JSON.stringify(k)}`
  return { default: o.default, event_types: out }
}

/** The profile an event of `eventType` must meet under `pq` (AISS-1.0 when the chain has no ML-DSA key). */
export function requiredProfile (pq: PqInForce | null, eventType: unknown): Profile {
  if (pq === null) return AISS_VERSION
  if (typeof eventType === 'string') {
    if (ALWAYS_AISS2.includes(eventType)) return AISS2_VERSION
    const p = Object.prototype.hasOwnProperty.call(pq.policy.event_types, eventType) ? pq.policy.event_types[eventType] : undefined
    if (p !== undefined) return p
  }
  return pq.policy.default
}

/** The payload of a profile_upgrade event. */
export function profileUpgradePayload (publicKeyPq: Uint8Array, policy: ProfilePolicy): Record<string, JsonValue> {
  const checked = parseProfilePolicy(policy)
  if (typeof checked === 'string') throw new TypeError(`"policy": ${checked}`)
  return { event_type: PROFILE_UPGRADE_EVENT_TYPE, profile: AISS2_VERSION, public_key_pq: toBase64(publicKeyPq), event_profiles: { default: checked.default, event_types: { ...checked.event_types } } }
}

export function parseUpgradePayload (payload: unknown): { ok: true, publicKey: Uint8Array, policy: ProfilePolicy } | { ok: false, reason: string } {
  const p = payload as Record<string, unknown> | null
  if (p === null || typeof p !== 'object') return { ok: false, reason: 'payload is not an object' }
  if (p.profile !== AISS2_VERSION) return { ok: false, reason: `profile is ${JSON.stringify(p.profile)}: a chain upgrades to "AISS-2.0" only, never back` }
  const key = typeof p.public_key_pq === 'string' ? fromBase64Strict(p.public_key_pq) : null
  if (key?.length !== ML_DSA_65_SIZES.publicKey) return { ok: false, reason: `public_key_pq is not the standard base64 of a ${ML_DSA_65_SIZES.publicKey}-byte ML-DSA-65 public key` }
  const policy = parseProfilePolicy(p.event_profiles)
  if (typeof policy === 'string') return { ok: false, reason: policy }
  return { ok: true, publicKey: key, policy }
}

/**
 * The signature and profile rule, dispatched on `version` and never on which fields happen to be there
 * (aiss2.md §6.1 rule 1). `bytes` are the event's signing bytes (runtime/event.ts signingBytes). Returns
 * every fault; empty when the event is validly signed for its position in the chain.
 */
export function checkSignedEvent (ev: Record<string, unknown>, keys: ChainKeys, bytes: Uint8Array): SigFault[] {
  const type = eventTypeOf(ev)
  const version = ev.version
  if (version === AISS2_VERSION) {
    let pqKey = keys.pq?.publicKey ?? null
    if (pqKey === null && type === PROFILE_UPGRADE_EVENT_TYPE) {
      // The upgrade proves possession of the key it binds: its own PQ signature is checked with it.
      const up = parseUpgradePayload(ev.payload)
      if (!up.ok) {
        // No key to check the PQ half with: the payload is the fault, said as such.
        const faults = checkHybridSignatures(ev, keys.publicKey, null, bytes).filter((f) => !(f.code === ErrorCodes.PROFILE_MISMATCH && f.field === PQ_SIGNATURE_FIELD))
        return [...faults, { code: ErrorCodes.PROFILE_UPGRADE_INVALID, field: 'payload', message: `profile_upgrade: ${up.reason}` }]
      }
      pqKey = up.publicKey
    }
    return checkHybridSignatures(ev, keys.publicKey, pqKey, bytes)
  }
  if (typeof version === 'string' && version.startsWith('AISS-2')) {
    return [{ code: ErrorCodes.PROFILE_MISMATCH, field: 'version', message: `version ${JSON.stringify(version)} is no profile this verifier knows; only "AISS-2.0" is` }]
  }
  // AISS-1.0 (and the reference's other AISS-1 spellings, judged as before).
  const worn = wearsAiss2Signatures(ev)
  if (worn) return [worn]
  const faults = classicalFaults(ev, keys, bytes)
  if (requiredProfile(keys.pq, type) === AISS2_VERSION) {
    faults.push({ code: ErrorCodes.PROFILE_DOWNGRADE, field: 'version', message: `a ${JSON.stringify(type ?? null)} event must be AISS-2.0 in this chain (its profile was recorded at a profile_upgrade or by its AISS-2.0 identity), got ${JSON.stringify(version)}` })
  } else if (type === PROFILE_UPGRADE_EVENT_TYPE) {
    faults.push({ code: ErrorCodes.PROFILE_UPGRADE_INVALID, field: 'version', message: 'a profile_upgrade event must itself be AISS-2.0, signed by both keys' })
  }
  return faults
}

/** The fault saying the key in force's Ed25519 signature is not on the event; null when it is. */
export function classicalFault (faults: readonly SigFault[]): SigFault | null {
  for (const f of faults) {
    if (f.code === ErrorCodes.PROFILE_MISMATCH && f.field === 'version') return f // no signature was even looked at
    const classicalField = f.field === 'signature' || f.field === 'signatures' || f.field === 'signatures.classical.signature'
    if (!classicalField) continue
    if (f.code === ErrorCodes.SIGNATURE_INVALID || f.code === ErrorCodes.SIGNATURE_ENCODING || (f.code === ErrorCodes.PROFILE_MISMATCH && f.field !== 'signature')) return f
  }
  return null
}

/** Whether the key in force's Ed25519 signature is on the event (the hub's line between evidence and hostile input). */
export function classicalVerdict (faults: readonly SigFault[]): 'ok' | 'encoding' | 'invalid' {
  const f = classicalFault(faults)
  return f === null ? 'ok' : f.code === ErrorCodes.SIGNATURE_INVALID ? 'invalid' : 'encoding'
}

/**
 * The keys in force after an event that passed every other check: a rotation replaces both keys, an
 * upgrade binds the ML-DSA key and the policy. Returns the same object when nothing changes.
 */
export function advanceKeys (ev: Record<string, unknown>, keys: ChainKeys): AdvanceResult {
  const type = eventTypeOf(ev)
  const payload = ev.payload as Record<string, JsonValue>
  if (type === ROTATION_EVENT_TYPE) {
    const r = checkRotationPayload(payload, { agentId: keys.agentId, publicKey: keys.publicKey, publicKeyPq: keys.pq?.publicKey ?? null })
    if (!r.ok) return { ok: false, code: ErrorCodes.ROTATION_INVALID, reason: r.reason }
    return { ok: true, keys: { agentId: r.newAgentId, publicKey: r.newPublicKey, pq: keys.pq && r.newPublicKeyPq ? { publicKey: r.newPublicKeyPq, policy: keys.pq.policy } : null } }
  }
  if (type === PROFILE_UPGRADE_EVENT_TYPE && ev.version === AISS2_VERSION) {
    const up = parseUpgradePayload(payload)
    if (!up.ok) return { ok: false, code: ErrorCodes.PROFILE_UPGRADE_INVALID, reason: `profile_upgrade: ${up.reason}` }
    if (keys.pq !== null && !equalBytes(keys.pq.publicKey, up.publicKey)) {
      return { ok: false, code: ErrorCodes.PROFILE_UPGRADE_INVALID, reason: 'profile_upgrade names another ML-DSA key than the one in force: the key changes only at a key_rotation signed by both old keys' }
    }
    return { ok: true, keys: { ...keys, pq: { publicKey: up.publicKey, policy: up.policy } } }
  }
  return { ok: true, keys }
}

/** Plain-data form of the PQ state (the hub keeps it in its agent record). */
export interface PqInForceJSON { public_key_pq: string, policy: ProfilePolicy }
export function pqToJSON (pq: PqInForce | null): PqInForceJSON | null {
  return pq === null ? null : { public_key_pq: toBase64(pq.publicKey), policy: { default: pq.policy.default, event_types: { ...pq.policy.event_types } } }
}
export function pqFromJSON (j: PqInForceJSON | null | undefined): PqInForce | null {
  if (!j) return null
  const key = fromBase64Strict(j.public_key_pq)
  const policy = parseProfilePolicy(j.policy)
  if (!key || typeof policy === 'string') throw new TypeError(`stored profile state is damaged: ${typeof policy === 'string' ? policy : 'public_key_pq'}`)
  return { publicKey: key, policy }
}

/** What runtime/aiss2-install.ts puts in the slot. */
export const aiss2Rules: ProfileRules = { name: 'AISS-2.0', checkSignedEvent, advanceKeys, requiredProfile, parseUpgradePayload, profileUpgradePayload }
