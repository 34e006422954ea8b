// Checking AISS-2.0 events (the format is runtime/aiss2-format.ts): shape, signed labels, placeholder and
// both signatures. Outside the core bundle (runtime/profile-rules.ts): installed by runtime/aiss2-install.ts.
import { canonicalBytes } from './canonical.js'
import { crypto } from './crypto.js'
import { fromBase58, fromBase64Strict, toBase58 } from './encoding.js'
import { ErrorCodes } from './errors.js'
import { pqBackend, ML_DSA_65, ML_DSA_65_SIZES, DILITHIUM3_ROUND3_SIGNATURE_BYTES } from './pq.js'
import { CLASSICAL_ALGORITHM, TRUSTED_TIMESTAMP_PLACEHOLDER, PQ_SIGNATURE_FIELD, type SigFault } from './aiss2-format.js'
import type { JsonValue } from './value.js'

export * from './aiss2-format.js'

const PLACEHOLDER_CANONICAL = new TextDecoder().decode(canonicalBytes({ ...TRUSTED_TIMESTAMP_PLACEHOLDER }))

/** Base58 accepted in its one canonical spelling only (re-encoding gives it back), as base64 is (encoding.ts). */
function fromBase58Strict (text: unknown): Uint8Array | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 100) return null
  try {
    const bytes = fromBase58(text)
    return toBase58(bytes) === text ? bytes : null
  } catch { return null }
}

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * Checks an AISS-2.0 event's shape and both signatures. `pqKey` is the ML-DSA key bound to the chain at
 * this point (runtime/profile.ts decides which); null when none is. Every fault is listed; an empty list
 * means both signatures verify (AND, §6.1 rule 4). Never throws for untrusted input.
 */
export function checkHybridSignatures (ev: Record<string, unknown>, edKey: Uint8Array, pqKey: Uint8Array | null, bytes: Uint8Array): SigFault[] {
  const faults: SigFault[] = []
  const mismatch = (field: string, message: string): void => { faults.push({ code: ErrorCodes.PROFILE_MISMATCH, field, message }) }
  // §6.1 rule 2: no fallback to AISS-1 validation, whatever else the event carries.
  if ('signature' in ev) mismatch('signature', 'an AISS-2.0 event carries an AISS-1 "signature" field; AISS-2.0 is signed in "signatures" only')
  const sigs = ev.signatures
  if (!isObject(sigs) || !isObject(sigs.classical)) {
    mismatch('signatures', 'an AISS-2.0 event needs "signatures" with "classical" and "post_quantum" entries')
    return faults
  }
  // A missing post-quantum half is a fault of that half only: the Ed25519 half is still checked, so the
  // hub can tell the agent's own event with its ML-DSA half stripped from input the agent never signed
  // (profile.ts classicalVerdict), as it does when only the ML-DSA signature inside the entry is gone.
  const classical = sigs.classical; const postQuantum = isObject(sigs.post_quantum) ? sigs.post_quantum : null
  if (classical.algorithm !== CLASSICAL_ALGORITHM) mismatch('signatures.classical.algorithm', `is ${JSON.stringify(classical.algorithm)}, AISS-2.0 requires "Ed25519"`)
  if (postQuantum !== null && postQuantum.algorithm !== ML_DSA_65) mismatch('signatures.post_quantum.algorithm', `is ${JSON.stringify(postQuantum.algorithm)}, AISS-2.0 requires "ML-DSA-65"`)
  const signed = ev.signature_algorithms
  if (!isObject(signed) || signed.classical !== CLASSICAL_ALGORITHM || signed.post_quantum !== ML_DSA_65 || Object.keys(signed).length !== 2) {
    mismatch('signature_algorithms', 'the signed "signature_algorithms" must be {"classical":"Ed25519","post_quantum":"ML-DSA-65"}: without it the labels in "signatures" are not covered by any signature')
  }
  const tt = ev.trusted_timestamp
  let ttCanonical: string | null = null
  try { ttCanonical = isObject(tt) ? new TextDecoder().decode(canonicalBytes(tt as Record<string, JsonValue>)) : null } catch {}
  if (ttCanonical !== PLACEHOLDER_CANONICAL) {
    // The signing bytes replace it, so anything else here would be unsigned content presented as time.
    mismatch('trusted_timestamp', 'must be the pending placeholder {"status":"pending","rfc3161_token":null,"tsa_id":null,"timestamp":null}: per-event tokens are not signed and not verified in this profile (trusted time comes from anchor events)')
  }

  const ed = fromBase58Strict(classical.signature)
  if (!ed || ed.length !== 64) {
    faults.push({ code: ErrorCodes.SIGNATURE_ENCODING, field: 'signatures.classical.signature', message: 'the Ed25519 signature is not the Base58 of 64 bytes' })
  } else {
    let ok = false
    try { ok = crypto().verify(ed, bytes, edKey) } catch {}
    if (!ok) faults.push({ code: ErrorCodes.SIGNATURE_INVALID, field: 'signatures.classical.signature', message: 'the Ed25519 signature does not verify with the agent\'s public key' })
  }

  // Every way the post-quantum half can fail is PROFILE_MISMATCH (the event does not meet the profile it
  // names, and is never judged by its Ed25519 half alone), except round 3, which gets its own code.
  const pqField = PQ_SIGNATURE_FIELD
  const pqSig = typeof postQuantum?.signature === 'string' ? fromBase64Strict(postQuantum.signature) : null
  if (postQuantum === null) {
    mismatch('signatures.post_quantum', 'an AISS-2.0 event needs a "post_quantum" entry in "signatures": it is signed by Ed25519 AND ML-DSA-65, never by one alone')
  } else if (!pqSig) {
    mismatch(pqField, 'the post-quantum signature is missing or not standard padded base64')
  } else if (pqSig.length === DILITHIUM3_ROUND3_SIGNATURE_BYTES) {
    faults.push({
      code: ErrorCodes.PQ_SIGNATURE_ROUND3,
      field: pqField,
      message: `the post-quantum signature is ${DILITHIUM3_ROUND3_SIGNATURE_BYTES} bytes: CRYSTALS-Dilithium round 3 (Dilithium3, what the reference emits under the "ML-DSA-65" label), not FIPS 204 ML-DSA-65 (${ML_DSA_65_SIZES.signature} bytes: 48-byte challenge, 64-byte tr, domain-separated message); round-3 signatures are not accepted`
    })
  } else if (pqSig.length !== ML_DSA_65_SIZES.signature) {
    mismatch(pqField, `the post-quantum signature is ${pqSig.length} bytes, an ML-DSA-65 signature is ${ML_DSA_65_SIZES.signature}`)
  } else if (pqKey === null) {
    mismatch(pqField, 'no ML-DSA-65 key is bound to the chain here: a chain switches to AISS-2 only at a signed profile_upgrade event (or starts with an AISS-2.0 identity document)')
  } else {
    const backend = pqBackend()
    if (!backend) faults.push({ code: ErrorCodes.PQ_UNAVAILABLE, field: pqField, message: 'this process has no ML-DSA-65 backend (import "pcp-edge/aiss2"); the event is not accepted unchecked' })
    else if (!backend.verify(pqSig, bytes, pqKey)) mismatch(pqField, 'the ML-DSA-65 signature does not verify with the chain\'s post-quantum key')
  }
  return faults
}
