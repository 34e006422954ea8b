// AISS-1 events: what is signed and hashed (protocol.md §3.1) and how a new one is stamped.
import { canonicalBytes } from './canonical.js'
import { plainCopy } from './snapshot.js'
import { crypto, sha256Hex } from './crypto.js'
import { toBase64, toHex } from './encoding.js'
import { AISS_VERSION, type Identity } from './identity.js'
import { AISS2_VERSION, aiss2SigningBytes, aiss2Fields, hybridSignatures } from './aiss2-format.js'
import { Float, type JsonValue } from './value.js'
import type { AissEvent, UnsignedEvent } from './types.js'

/**
 * The one timestamp rule, shared by the verifier, the hub and the browser bundle: `timestamp` is a JSON
 * number, an int (what the reference writes: int(time.time())) or a float, integral or not — a caller
 * of the reference may pass time.time(), and json.load reads `1700000004.0` as a float. Its value is
 * what monotonicity compares (as a double). Anything else (text, null, true) is EVENT_MALFORMED. Returns
 * the value, or null when the field breaks the rule. The signature covers the exact spelling anyway.
 */
export function timestampSeconds (v: unknown): number | null {
  const n = v instanceof Float ? v.value : typeof v === 'bigint' ? Number(v) : v
  return typeof n === 'number' && Number.isFinite(n) ? n : null
}

/**
 * Every top-level field except `signature`, canonicalised: the bytes that are signed AND hashed. For an
 * AISS-2.0 event, every field except `signatures`, with the trusted_timestamp placeholder (aiss2-event.ts).
 * Dispatched on `version`, so one function serves the store, sync, the hub and every verifier.
 */
export function signingBytes (event: UnsignedEvent | AissEvent): Uint8Array {
  if (event.version === AISS2_VERSION) return aiss2SigningBytes(event)
  if (!('signature' in event)) return canonicalBytes(event)
  const { signature: _signature, ...unsigned } = event
  return canonicalBytes(unsigned)
}

/** SHA-256 hex of signingBytes: the value the next event's previous_hash must carry. */
export function eventHash (event: UnsignedEvent | AissEvent): string {
  return sha256Hex(signingBytes(event))
}

/**
 * Chain integrity hash of an export (protocol.md §4): SHA-256 over the concatenated lowercase hex
 * event hashes, no separator. Empty chain → SHA-256 of the empty string.
 */
export function chainIntegrityHash (eventHashes: Iterable<string>): string {
  let text = ''
  for (const h of eventHashes) text += h
  return toHex(crypto().sha256(new TextEncoder().encode(text)))
}

export interface StampOptions {
  previousHash: string | null
  /** Unix seconds; integer (the reference writes int(time.time())). Defaults to now. */
  timestamp?: number
  /** Defaults to a random UUIDv4. */
  nonce?: string
  /** Extra top-level fields; they are signed too (protocol.md §3). */
  extra?: Record<string, JsonValue>
  /** 'AISS-2.0': a hybrid event (runtime/aiss2-event.ts), signed by Ed25519 and ML-DSA-65. Default AISS-1.0. */
  profile?: 'AISS-1.0' | 'AISS-2.0'
}

/** A payload is a JSON object: refused before anything spreads it ({ ...[1, 2] } is {"0":1,"1":2}). */
export function checkPayload (payload: unknown): void {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TypeError(`"payload" expected a plain object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`)
  }
}

export interface PreparedEvent { unsigned: UnsignedEvent, bytes: Uint8Array, hash: string }

/**
 * Builds the unsigned event, its signing bytes and its hash. The hash covers the unsigned bytes only, so
 * the next event can be chained before this one is signed: signing can then happen elsewhere (a worker).
 */
export function prepareEvent (agentId: string, payload: Record<string, JsonValue>, opts: StampOptions): PreparedEvent {
  checkPayload(payload)
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000)
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`"timestamp" expected whole Unix seconds, got ${timestamp}`)
  const nonce = opts.nonce ?? crypto().randomUUID()
  if (typeof nonce !== 'string' || nonce.length === 0) throw new TypeError('"nonce" expected a non-empty string')
  const unsigned: UnsignedEvent = {
    ...opts.extra,
    ...(opts.profile === AISS2_VERSION ? aiss2Fields() : {}),
    version: opts.profile === AISS2_VERSION ? AISS2_VERSION : AISS_VERSION,
    agent_id: agentId,
    timestamp,
    nonce,
    // Copied, not referenced: the record is encoded after signing (runtime/snapshot.ts).
    payload: plainCopy(payload, '$.payload', 1),
    previous_hash: opts.previousHash
  }
  const bytes = canonicalBytes(unsigned)
  return { unsigned, bytes, hash: sha256Hex(bytes) }
}

/** What signs one prepared event: a 64-byte Ed25519 signature, or both halves of an AISS-2.0 one. */
export type EventSignature = Uint8Array | { classical: Uint8Array, postQuantum: Uint8Array }

/**
 * Attaches the signature(s) over prepared.bytes: AISS-1 as standard base64 in `signature`; AISS-2.0 in
 * `signatures` (Base58 Ed25519, base64 ML-DSA-65, aiss2.md §3).
 * The AISS-2.0 value is typed AissEvent, as every event is here; it has `signatures` and no `signature`.
 */
export function finishEvent (unsigned: UnsignedEvent, signature: EventSignature): AissEvent {
  if (signature instanceof Uint8Array) return { ...unsigned, signature: toBase64(signature) }
  if (unsigned.version !== AISS2_VERSION) throw new TypeError('a hybrid signature belongs to an AISS-2.0 event')
  return { ...unsigned, signatures: hybridSignatures(signature.classical, signature.postQuantum) as unknown as JsonValue } as unknown as AissEvent
}

/** Signs prepared bytes as the event's version needs. */
export function signPrepared (identity: Identity, unsigned: UnsignedEvent, bytes: Uint8Array): EventSignature {
  return unsigned.version === AISS2_VERSION ? { classical: identity.sign(bytes), postQuantum: identity.signPq(bytes) } : identity.sign(bytes)
}

/** Signs a new event. Returns it together with its hash so callers never hash twice. */
export function stampEvent (identity: Identity, payload: Record<string, JsonValue>, opts: StampOptions): { event: AissEvent, hash: string } {
  const { unsigned, bytes, hash } = prepareEvent(identity.agentId, payload, opts)
  return { event: finishEvent(unsigned, signPrepared(identity, unsigned, bytes)), hash }
}
