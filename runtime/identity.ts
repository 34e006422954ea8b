// Ed25519 identities, agent_id derivation (protocol.md §2) and the identity document (§10).
import { crypto, checkBytes, type SigningKey } from './crypto.js'
import { toBase58, toBase64, fromBase64Strict, toHex } from './encoding.js'
import { PcpError, ErrorCodes } from './errors.js'
import { publicKeyProblem } from './public-key.js'
import type { IdentityDocument } from './types.js'

export const AISS_VERSION = 'AISS-1.0'
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
  #key: SigningKey

  private constructor (key: SigningKey, createdAt: number, metadata?: Record<string, string>) {
    this.#key = key
    this.publicKey = key.publicKey
    this.agentId = deriveAgentId(key.publicKey)
    this.createdAt = createdAt
    if (metadata) this.metadata = metadata
  }

  /** A new random identity. `now` is injectable for reproducible tests. */
  static generate (opts: { now?: number, metadata?: Record<string, string> } = {}): Identity {
    return Identity.fromSeed(crypto().randomBytes(32), opts)
  }

  /** Takes ownership of the 32-byte seed and zeroes it. */
  static fromSeed (seed: Uint8Array, opts: { now?: number, createdAt?: number, metadata?: Record<string, string> } = {}): Identity {
    checkBytes(seed, 32, 'seed')
    const createdAt = opts.createdAt ?? opts.now ?? Math.floor(Date.now() / 1000)
    return new Identity(crypto().signingKey(seed), createdAt, opts.metadata)
  }

  sign (message: Uint8Array): Uint8Array { return this.#key.sign(message) }

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

  /** SHA-256 hex of the public key: the genesis previous_hash the reference's stamp_genesis_event emits. */
  genesisHash (): string { return toHex(crypto().sha256(this.publicKey)) }

  destroy (): void { this.#key.destroy() }
}

/**
 * Reads an identity document (ours or the reference's) and checks what the reference never does
 * (gaps.md #8): that agent_id really is derived from public_key.
 */
export function parseIdentityDocument (doc: unknown, source = 'identity'): { doc: IdentityDocument, publicKey: Uint8Array } {
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
  return { doc: d as unknown as IdentityDocument, publicKey: publicKey! }
}
