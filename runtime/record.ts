// How one event is laid out in the device store: a CBOR array instead of the reference's ~480 bytes of
// JSON. Hashes, signatures and UUID nonces are stored as raw bytes, but only when turning the bytes back
// into text gives the exact original string; otherwise the text is kept. Reading a record must give back
// an event whose canonical bytes (and so hash and signature) are unchanged: test/record.test.ts proves it
// over random payloads.
import { encodeCbor, decodeCbor } from './cbor.js'
import { fromBase64Strict, toBase64, toHex } from './encoding.js'
import { AISS_VERSION } from './identity.js'
import { setOwnKey } from './value.js'
import type { AissEvent } from './types.js'

// Floats, "__proto__" keys and deep nesting are kept exactly by runtime/cbor.ts.

const HEX64 = /^[0-9a-f]{64}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const FIELDS = new Set(['version', 'agent_id', 'timestamp', 'nonce', 'payload', 'previous_hash', 'signature'])

function packHash (h: string | null): Uint8Array | string | null {
  return typeof h === 'string' && HEX64.test(h) ? Uint8Array.from(Buffer.from(h, 'hex')) : h
}
function unpackHash (v: unknown): string | null {
  return v instanceof Uint8Array ? toHex(v) : (v as string | null)
}
function packNonce (n: string): Uint8Array | string {
  return UUID.test(n) ? Uint8Array.from(Buffer.from(n.replace(/-/g, ''), 'hex')) : n
}
function unpackNonce (v: unknown): string {
  if (!(v instanceof Uint8Array)) return v as string
  const h = toHex(v)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
function packSignature (s: string): Uint8Array | string {
  const bytes = fromBase64Strict(s)
  return bytes && toBase64(bytes) === s ? bytes : s
}

/**
 * [agentIndex, timestamp, nonce, payload, previous_hash, signature, version?, extra?]
 * agentIndex refers to the store's list of identities (several after key rotations).
 */
export function encodeRecord (event: AissEvent, agentIndex: number, signatureBytes?: Uint8Array): Uint8Array {
  // `signatureBytes`: the bytes `event.signature` is the standard base64 of, when the caller made it from
  // them (the Agent has them from the signer): no base64 round trip to find out what packSignature would.
  // An AISS-2.0 event has no `signature` (its `signatures` travel in `extra`): CBOR undefined in that slot
  // (no JSON value is undefined, so it cannot be a malformed signature), and decodeRecord then leaves the
  // field out, so the event reads back with the same canonical bytes.
  const sig = !('signature' in event) ? undefined : signatureBytes !== undefined && signatureBytes.length === 64 ? signatureBytes : packSignature(event.signature)
  const rec: unknown[] = [agentIndex, event.timestamp, packNonce(event.nonce), event.payload, packHash(event.previous_hash), sig]
  let extra: Record<string, unknown> | undefined
  for (const k of Object.keys(event)) if (!FIELDS.has(k)) setOwnKey(extra ??= {}, k, event[k])
  if (event.version !== AISS_VERSION || extra) rec.push(event.version === AISS_VERSION ? 0 : event.version)
  if (extra) rec.push(extra)
  return encodeCbor(rec)
}

/**
 * `bytes` (a record that decodeRecord read) with its identity index set to `agentIndex`, without decoding
 * or encoding anything else, so a hub stores the record exactly as it was received and verified. Only
 * for the shape encodeRecord writes (a definite array of 6–8 items whose first item is a one-byte unsigned
 * integer, 0–23): anything else gives null, and the caller encodes the decoded event instead (so a record
 * with items past the 8th, which decodeRecord ignores, is not kept with them).
 * The same bytes when the index is already right; a copy otherwise (`bytes` may be a view of a message).
 */
export function withAgentIndex (bytes: Uint8Array, agentIndex: number): Uint8Array | null {
  if (!Number.isInteger(agentIndex) || agentIndex < 0 || agentIndex > 23) return null
  const head = bytes[0]
  if (head === undefined || head < 0x86 || head > 0x88 || bytes.length < 2 || bytes[1]! > 0x17) return null
  if (bytes[1] === agentIndex) return bytes
  const out = Uint8Array.from(bytes)
  out[1] = agentIndex
  return out
}

/** What a store keeps for `event`: its received `record` with the index set (withAgentIndex), else a fresh encoding. */
export function storedRecord (event: AissEvent, agentIndex: number, record?: Uint8Array): Uint8Array {
  return (record !== undefined ? withAgentIndex(record, agentIndex) : null) ?? encodeRecord(event, agentIndex)
}

/** Inverse of encodeRecord. Throws on bytes that are not a record; callers name the key. */
export function decodeRecord (bytes: Uint8Array, agentIds: readonly string[]): AissEvent {
  const rec = decodeCbor<unknown[]>(bytes)
  if (!Array.isArray(rec) || rec.length < 6) throw new Error(`not an event record (${Array.isArray(rec) ? `${rec.length} fields` : typeof rec})`)
  const agentId = agentIds[rec[0] as number]
  if (agentId === undefined) throw new Error(`record names identity #${String(rec[0])}, which the store does not know`)
  const version = rec[6] === undefined || rec[6] === 0 ? AISS_VERSION : rec[6] as string
  const sig = rec[5]
  const event: AissEvent = {
    version,
    agent_id: agentId,
    timestamp: rec[1] as number,
    nonce: unpackNonce(rec[2]),
    payload: rec[3] as AissEvent['payload'],
    previous_hash: unpackHash(rec[4]),
    signature: sig instanceof Uint8Array ? toBase64(sig) : sig as string
  }
  if (sig === undefined) delete (event as Partial<AissEvent>).signature
  if (rec[7] !== null && typeof rec[7] === 'object') for (const [k, v] of Object.entries(rec[7])) setOwnKey(event, k, v)
  return event
}

export function encodeValue (v: unknown): Uint8Array { return encodeCbor(v) }
export function decodeValue<T = unknown> (b: Uint8Array): T { return decodeCbor<T>(b) }
