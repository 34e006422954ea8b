// Ed25519 identities, agent_id derivation (protocol.md §2) and the identity document (§10).
import { crypto, checkBytes, type SigningKey } from './crypto.js'
import { toBase58, toBase64, fromBase64Strict, toHex } from './encoding.js'
import { PcpError, ErrorCodes } from './errors.js'
import { publicKeyProblem } from './public-key.js'
import { pq, ML_DSA_65, ML_DSA_65_SIZES, type PqSigningKey } from './pq.js'
import type { IdentityDocument } from './types.js'

export const AISS_VERSION = 'AISS-1.0'
/** The identity document of an agent that holds both keys (aiss2.md §2.2); its events may be AISS-2.0. */
export const AISS2_IDENTITY_VERSION = 'AISS-2.0'
const AGENT_ID_SHAPE = /^[1-9A-HJ-NP-Za-km-z]{32}$/

/**
 * agent_id = first 32 chars of Base58(SHA-256(publicKey)), one leading '1' per leading zero byte of the
 * digest (the usual Base58 rule, which @scure/base applies). Truncation keeps the most significant digits.
 */
export function deriveAgentId (publicKey: Uint8Array): string {
  checkBytes(publicKey, 32, 'publicKey')
  return toBase58(crypto().sha256(publicKey)).slice(0, 32)
}

export function isAgentId (text: unknown): text is string {
  return typeof text === 'string' && AGENT_ID_SHAPE.test(text)
}

/**
 * A live identity: the signing key plus what others need to check it. The secret seed is handed to the
 * crypto backend and zeroed; call destroy() when done so the backend drops its key too.
 */
export class Identity {
  readonly agentId: string
  readonly publicKey: Uint8Array
  readonly createdAt: number
  readonly metadata?: Record<string, string>
  /** The ML-DSA-65 public key, when this identity holds one (AISS-2); agent_id never depends on it. */
  readonly publicKeyPq: Uint8Array | null
  #key: SigningKey
  #pq: PqSigningKey | null

  private constructor (key: SigningKey, createdAt: number, metadata?: Record<string, string>, pqKey?: PqSigningKey) {
    this.#key = key
    this.#pq = pqKey ?? null
    this.publicKeyPq = pqKey?.publicKey ?? null
    this.publicKey = key.publicKey
    this.agentId = deriveAgentId(key.publicKey)
    this.createdAt = createdAt
    if (metadata) this.metadata = metadata
  }

  /** A new random identity. `now` is injectable for reproducible tests. */
  static generate (opts: { now?: number, metadata?: Record<string, string>, pq?: boolean } = {}): Identity {
    const { pq: withPq, ...rest } = opts
    return Identity.fromSeed(crypto().randomBytes(32), { ...rest, ...(withPq ? { pqSeed: crypto().randomBytes(32) } : {}) })
  }

  /**
   * Takes ownership of the 32-byte Ed25519 seed (and of `pqSeed`, the 32-byte FIPS 204 seed ξ of the
   * ML-DSA-65 key) and zeroes them. An ML-DSA key needs the backend of runtime/pq.ts installed.
   */
  static fromSeed (seed: Uint8Array, opts: { now?: number, createdAt?: number, metadata?: Record<string, string>, pqSeed?: Uint8Array } = {}): Identity {
    checkBytes(seed, 32, 'seed')
    if (opts.pqSeed !== undefined) checkBytes(opts.pqSeed, ML_DSA_65_SIZES.seed, 'pqSeed')
    const createdAt = opts.createdAt ?? opts.now ?? Math.floor(Date.now() / 1000)
    const pqKey = opts.pqSeed === undefined ? undefined : pq().signingKey(opts.pqSeed)
    return new Identity(crypto().signingKey(seed), createdAt, opts.metadata, pqKey)
  }

  sign (message: Uint8Array): Uint8Array { return this.#key.sign(message) }

  /** ML-DSA-65 signature (3309 bytes) over `message`; throws when this identity has no ML-DSA key. */
  signPq (message: Uint8Array): Uint8Array {
    if (this.#pq === null) throw new Error(`identity ${this.agentId} holds no ML-DSA-65 key`)
    return this.#pq.sign(message)
  }

  /** The backend's transferable key (a node KeyObject), for signing on a worker thread; else undefined. */
  get signingHandle (): unknown { return this.#key.handle }

  /** The unsigned identity document the reference writes as identity.json. */
  document (): IdentityDocument {
    const doc: IdentityDocument = {
      version: AISS_VERSION,
      agent_id: this.agentId,
      public_key: toBase64(this.publicKey),
      algorithm: 'Ed25519',
      created_at: this.createdAt
    }
    if (this.metadata && Object.keys(this.metadata).length) doc.metadata = { ...this.metadata }
    return doc
  }

  /**
   * The AISS-2.0 identity document: the AISS-1 fields (so AISS-1 tools still read the Ed25519 key) plus
   * `public_key_pq` (plain base64, aiss2.md §2.2) and `algorithms`. The RFC's `public_key_classical` and
   * "base64:" prefixes are not used: no reference code produces or reads them.
   */
  documentAiss2 (): IdentityDocument {
    if (this.publicKeyPq === null) throw new Error(`identity ${this.agentId} holds no ML-DSA-65 key`)
    return { ...this.document(), version: AISS2_IDENTITY_VERSION, public_key_pq: toBase64(this.publicKeyPq), algorithms: ['Ed25519', ML_DSA_65] }
  }

  /** SHA-256 hex of the public key: the genesis previous_hash the reference's stamp_genesis_event emits. */
  genesisHash (): string { return toHex(crypto().sha256(this.publicKey)) }

  destroy (): void { this.#key.destroy(); this.#pq?.destroy() }
}

/**
 * Reads an identity document (ours or the reference's) and checks what the reference never does
 * (gaps.md #8): that agent_id really is derived from public_key.
 */
export function parseIdentityDocument (doc: unknown, source = 'identity'): { doc: IdentityDocument, publicKey: Uint8Array, publicKeyPq: Uint8Array | null } {
  const fail = (field: string, why: string): never => {
    throw new PcpError(ErrorCodes.IDENTITY_INVALID, `${source}: ${field} ${why}`, { field, file: source })
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('(document)', 'is not a JSON object')
  const d = doc as Record<string, unknown>
  if (typeof d.public_key !== 'string') fail('public_key', 'is missing or not a string')
  const publicKey = fromBase64Strict(d.public_key as string)
  if (!publicKey || publicKey.length !== 32) fail('public_key', 'is not the standard base64 of 32 bytes')
  const weak = publicKeyProblem(publicKey!)
  if (weak !== null) fail('public_key', weak)
  if (typeof d.agent_id !== 'string') fail('agent_id', 'is missing or not a string')
  const derived = deriveAgentId(publicKey!)
  if (d.agent_id !== derived) {
    throw new PcpError(ErrorCodes.AGENT_ID_MISMATCH, `${source}: agent_id ${d.agent_id} is not derived from public_key (expected ${derived})`,
      { field: 'agent_id', file: source, expected: derived, actual: d.agent_id })
  }
  if (d.algorithm !== undefined && d.algorithm !== 'Ed25519') fail('algorithm', `is ${JSON.stringify(d.algorithm)}, only Ed25519 is supported`)
  let publicKeyPq: Uint8Array | null = null
  if (d.version === AISS2_IDENTITY_VERSION) {
    const pqKey = typeof d.public_key_pq === 'string' ? fromBase64Strict(d.public_key_pq) : null
    if (!pqKey || pqKey.length !== ML_DSA_65_SIZES.publicKey) fail('public_key_pq', `is not the standard base64 of a ${ML_DSA_65_SIZES.publicKey}-byte ML-DSA-65 public key`)
    const algs = d.algorithms
    if (!Array.isArray(algs) || algs.length !== 2 || algs[0] !== 'Ed25519' || algs[1] !== ML_DSA_65) fail('algorithms', 'of an AISS-2.0 identity must be ["Ed25519","ML-DSA-65"]')
    publicKeyPq = pqKey
  } else if (d.public_key_pq !== undefined) {
    // A PQ key in a document that does not say AISS-2.0 would be half a claim: refuse it rather than guess.
    fail('public_key_pq', `is present but version is ${JSON.stringify(d.version)}, not "AISS-2.0"`)
  }
  return { doc: d as unknown as IdentityDocument, publicKey: publicKey!, publicKeyPq }
}
