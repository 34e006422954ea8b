// The slot through which the protocol core reaches ML-DSA-65 (FIPS 204), like crypto.ts's Ed25519 slot.
// Why a slot and not an import: @noble/post-quantum's ML-DSA is ~24 KB minified, and the core bundle
// (runtime/index.ts → pcp-core.node.mjs) has a budget (scripts/bundles.mjs) that AISS-1 devices should not
// pay for. `pcp-edge/aiss2` (runtime/aiss2-entry.ts), the browser verifier, the CLI and the hub install
// runtime/mldsa.ts; a process that did not sees AISS-2 events refused with PQ_UNAVAILABLE, never accepted.
import { checkBytes } from './crypto.js'

export const ML_DSA_65 = 'ML-DSA-65'
/** FIPS 204 Table 2 sizes for ML-DSA-65; a round-3 Dilithium3 signature is 3293 bytes (aiss2.md §1.2). */
export const ML_DSA_65_SIZES = { publicKey: 1952, secretKey: 4032, signature: 3309, seed: 32 } as const
export const DILITHIUM3_ROUND3_SIGNATURE_BYTES = 3293

export interface PqSigningKey {
  readonly publicKey: Uint8Array
  sign (message: Uint8Array): Uint8Array
  /** Zero our copy of the expanded secret key. */
  destroy (): void
}

export interface PqBackend {
  readonly name: string
  /** Derives the key pair from the 32-byte FIPS 204 seed ξ (Algorithm 6 ML-DSA.KeyGen_internal). Zeroes `seed`. */
  signingKey (seed: Uint8Array): PqSigningKey
  /** Pure ML-DSA-65, empty context (aiss2.md §6.2). Never throws: false for any malformed input. */
  verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

let backend: PqBackend | undefined

export function setPqBackend (b: PqBackend): void { backend = b }

/** The installed backend, or undefined (a verifier then refuses AISS-2 events with PQ_UNAVAILABLE). */
export function pqBackend (): PqBackend | undefined { return backend }

export function pq (): PqBackend {
  if (!backend) throw new Error('no ML-DSA backend installed: import "pcp-edge/aiss2" (runtime/aiss2-entry.ts) before using AISS-2')
  return backend
}

export function checkPqPublicKey (value: unknown, name = 'publicKeyPq'): Uint8Array {
  return checkBytes(value, ML_DSA_65_SIZES.publicKey, name)
}
