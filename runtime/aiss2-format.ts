// AISS-2.0 events (aiss2.md §3): the reference's layout, Ed25519 and ML-DSA-65 over the same canonical
// bytes. This module is the format only (what the core needs to stamp, hash and store them); checking
// them is runtime/aiss2-event.ts, outside the core bundle. Departures from the reference (README "AISS-2"):
// - the algorithm names are signed: a top-level `signature_algorithms` object, inside the signing bytes,
//   must equal the labels in `signatures` (the reference leaves them unsigned, §3.1);
// - the PQ half is FIPS 204 ML-DSA-65 (pure, empty context), not round-3 Dilithium3 (§1.2, §6.2);
// - the event hash is SHA-256 of the signing bytes (§5's TS recommendation), as AISS-1's is: it covers
//   neither signature, so it is known before signing, and stays put if a TSA object is attached.
import { canonicalBytes } from './canonical.js'
import { toBase58, toBase64 } from './encoding.js'
import type { ErrorCode } from './errors.js'
import { ML_DSA_65 } from './pq.js'
import type { JsonValue } from './value.js'

export const AISS2_VERSION = 'AISS-2.0'
export const CLASSICAL_ALGORITHM = 'Ed25519'

/** What the reference signs in place of a TSA token (§3); the signing bytes always carry it. */
export const TRUSTED_TIMESTAMP_PLACEHOLDER = Object.freeze({ status: 'pending', rfc3161_token: null, tsa_id: null, timestamp: null })

/** The signed copy of the labels in `signatures` (our addition: the reference's labels are unsigned). */
export const SIGNATURE_ALGORITHMS = Object.freeze({ classical: CLASSICAL_ALGORITHM, post_quantum: ML_DSA_65 })

export interface HybridSignatures {
  classical: { algorithm: string, signature: string }
  post_quantum: { algorithm: string, signature: string }
}

/**
 * The bytes both signatures cover and the event hash is taken of: canonical(event minus `signatures`,
 * `trusted_timestamp` set to the placeholder) — byte-identical to what the reference signs (§6.1 rule 4).
 */
export function aiss2SigningBytes (event: Record<string, unknown>): Uint8Array {
  const { signatures: _s, ...unsigned } = event
  if ('trusted_timestamp' in unsigned) unsigned.trusted_timestamp = { ...TRUSTED_TIMESTAMP_PLACEHOLDER }
  return canonicalBytes(unsigned as Record<string, JsonValue>)
}

/** The fields an AISS-2 event adds to the AISS-1 ones before signing. */
export function aiss2Fields (): { trusted_timestamp: JsonValue, signature_algorithms: JsonValue } {
  return { trusted_timestamp: { ...TRUSTED_TIMESTAMP_PLACEHOLDER }, signature_algorithms: { ...SIGNATURE_ALGORITHMS } }
}

/** The `signatures` object: Ed25519 in Base58 and ML-DSA in padded base64, as the reference encodes them (§1). */
export function hybridSignatures (classical: Uint8Array, postQuantum: Uint8Array): HybridSignatures {
  return {
    classical: { algorithm: CLASSICAL_ALGORITHM, signature: toBase58(classical) },
    post_quantum: { algorithm: ML_DSA_65, signature: toBase64(postQuantum) }
  }
}

export const PQ_SIGNATURE_FIELD = 'signatures.post_quantum.signature'

export interface SigFault { code: ErrorCode, field: string, message: string }

