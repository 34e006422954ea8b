// The slot for the AISS-2 chain rules (runtime/profile.ts), like runtime/pq.ts's ML-DSA slot, so the core
// bundle carries neither. What the core does without them is the safe half of the rule: every AISS-2
// event is refused (PQ_UNAVAILABLE), an AISS-1.0 event wearing AISS-2 `signatures` is PROFILE_MISMATCH,
// so a process without `pcp-edge/aiss2` can never call a chain with AISS-2 events valid — and since an
// upgrade is itself an AISS-2.0 event, no downgrade can follow one unseen.
import { fromBase64Strict } from './encoding.js'
import { crypto } from './crypto.js'
import { ErrorCodes, type ErrorCode } from './errors.js'
import { AISS2_VERSION, type SigFault } from './aiss2-format.js'
import { checkRotationPayload, ROTATION_EVENT_TYPE } from './rotation.js'
import type { JsonValue } from './value.js'

export const PROFILE_UPGRADE_EVENT_TYPE = 'profile_upgrade'
export type Profile = 'AISS-1.0' | 'AISS-2.0'
/** `default` for every event type not named in `event_types`. */
export interface ProfilePolicy { default: Profile, event_types: Record<string, Profile> }
export const ALL_AISS2: ProfilePolicy = Object.freeze({ default: AISS2_VERSION, event_types: Object.freeze({}) }) as ProfilePolicy
/** The ML-DSA key bound to the chain and the policy in force. */
export interface PqInForce { publicKey: Uint8Array, policy: ProfilePolicy }
/** The keys a chain's next event is checked against. */
export interface ChainKeys { agentId: string, publicKey: Uint8Array, pq: PqInForce | null }
export type AdvanceResult = { ok: true, keys: ChainKeys } | { ok: false, code: ErrorCode, reason: string }
export type UpgradeParse = { ok: true, publicKey: Uint8Array, policy: ProfilePolicy } | { ok: false, reason: string }

export interface ProfileRules {
  readonly name: string
  checkSignedEvent (ev: Record<string, unknown>, keys: ChainKeys, bytes: Uint8Array): SigFault[]
  advanceKeys (ev: Record<string, unknown>, keys: ChainKeys): AdvanceResult
  requiredProfile (pq: PqInForce | null, eventType: unknown): Profile
  parseUpgradePayload (payload: unknown): UpgradeParse
  profileUpgradePayload (publicKeyPq: Uint8Array, policy: ProfilePolicy): Record<string, JsonValue>
}

export function eventTypeOf (ev: Record<string, unknown>): unknown {
  const p = ev.payload
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>).event_type : undefined
}

/** The AISS-1 signature check, with the messages callers and tests relied on before AISS-2. */
export function classicalFaults (ev: Record<string, unknown>, keys: ChainKeys, bytes: Uint8Array): SigFault[] {
  const signature = typeof ev.signature === 'string' ? fromBase64Strict(ev.signature) : null
  if (!signature || signature.length !== 64) return [{ code: ErrorCodes.SIGNATURE_ENCODING, field: 'signature', message: 'signature is not the standard padded base64 of 64 bytes' }]
  let ok = false
  try { ok = crypto().verify(signature, bytes, keys.publicKey) } catch {}
  return ok ? [] : [{ code: ErrorCodes.SIGNATURE_INVALID, field: 'signature', message: `signature does not verify with the public key of ${keys.agentId}` }]
}

/** AISS-1.0 with `signatures` and no `signature` (aiss2.md §6.1 rule 5): the same answer with or without AISS-2 support. */
export function wearsAiss2Signatures (ev: Record<string, unknown>): SigFault | null {
  return 'signatures' in ev && !('signature' in ev)
    ? { code: ErrorCodes.PROFILE_MISMATCH, field: 'signatures', message: `a ${JSON.stringify(ev.version)} event carries AISS-2 "signatures" and no "signature": its version is not covered by what it claims` }
    : null
}

const unavailable = (): never => { throw new Error('AISS-2 is not installed in this process: import "pcp-edge/aiss2"') }

/** What the core does alone (see the top of this file). */
export const coreRules: ProfileRules = {
  name: 'AISS-1 only',
  checkSignedEvent (ev, keys, bytes) {
    if (typeof ev.version === 'string' && ev.version.startsWith('AISS-2')) {
      return [{ code: ErrorCodes.PQ_UNAVAILABLE, field: 'version', message: `a ${JSON.stringify(ev.version)} event, and this process has no AISS-2 support (import "pcp-edge/aiss2"): refused, not checked as AISS-1` }]
    }
    const worn = wearsAiss2Signatures(ev)
    return worn ? [worn] : classicalFaults(ev, keys, bytes)
  },
  advanceKeys (ev, keys) {
    if (eventTypeOf(ev) !== ROTATION_EVENT_TYPE) return { ok: true, keys }
    const r = checkRotationPayload(ev.payload as Record<string, JsonValue>, { agentId: keys.agentId, publicKey: keys.publicKey, publicKeyPq: null })
    return r.ok ? { ok: true, keys: { agentId: r.newAgentId, publicKey: r.newPublicKey, pq: null } } : { ok: false, code: ErrorCodes.ROTATION_INVALID, reason: r.reason }
  },
  requiredProfile: () => 'AISS-1.0',
  parseUpgradePayload: () => ({ ok: false, reason: 'AISS-2 is not installed in this process' }),
  profileUpgradePayload: unavailable
}

let rules: ProfileRules = coreRules

export function setProfileRules (r: ProfileRules): void { rules = r }
export function profileRules (): ProfileRules { return rules }
