// AISS-1 events: what is signed and hashed (protocol.md §3.1) and how a new one is stamped.
import { canonicalBytes } from './canonical.js'
import { crypto, sha256Hex } from './crypto.js'
import { toBase64, toHex } from './encoding.js'
import { AISS_VERSION, type Identity } from './identity.js'
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

/** Every top-level field except `signature`, canonicalised: the bytes that are signed AND hashed. */
export function signingBytes (event: UnsignedEvent | AissEvent): Uint8Array {
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
}

export interface PreparedEvent { unsigned: UnsignedEvent, bytes: Uint8Array, hash: string }

/**
 * Builds the unsigned event, its signing bytes and its hash. The hash covers the unsigned bytes only, so
 * the next event can be chained before this one is signed: signing can then happen elsewhere (a worker).
 */
export function prepareEvent (agentId: string, payload: Record<string, JsonValue>, opts: StampOptions): PreparedEvent {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TypeError(`"payload" expected a plain object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`)
  }
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000)
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`"timestamp" expected whole Unix seconds, got ${timestamp}`)
  const nonce = opts.nonce ?? crypto().randomUUID()
  if (typeof nonce !== 'string' || nonce.length === 0) throw new TypeError('"nonce" expected a non-empty string')
  const unsigned: UnsignedEvent = {
    ...opts.extra,
    version: AISS_VERSION,
    agent_id: agentId,
    timestamp,
    nonce,
    payload,
    previous_hash: opts.previousHash
  }
  const bytes = canonicalBytes(unsigned)
  return { unsigned, bytes, hash: sha256Hex(bytes) }
}

/** Attaches a 64-byte Ed25519 signature (over prepared.bytes) as standard base64. */
export function finishEvent (unsigned: UnsignedEvent, signature: Uint8Array): AissEvent {
  return { ...unsigned, signature: toBase64(signature) }
}

/** Signs a new event. Returns it together with its hash so callers never hash twice. */
export function stampEvent (identity: Identity, payload: Record<string, JsonValue>, opts: StampOptions): { event: AissEvent, hash: string } {
  const { unsigned, bytes, hash } = prepareEvent(identity.agentId, payload, opts)
  return { event: finishEvent(unsigned, identity.sign(bytes)), hash }
}
