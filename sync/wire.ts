// The sync protocol's envelopes: what a device's sync agent and the hub say to each other on an agent's
// `up` and `down` topics (sync/topics.ts). Pure: objects in, bytes out, and a verdict for untrusted bytes.
//
// up (device → hub), each with `corr` (8–16 random bytes) echoed by the answer:
//   identity  { identity, name? }      first contact of a session: the chain's FIRST identity document
//                                      (its agent_id is the topic's); answered by `head`.
//   head?     {}                       "what do you hold of my chain"; answered by `head`.
//   events    { from, ids, records }   consecutive events from chain position `from`. Each record is
//                                      runtime/record.ts's compact CBOR of one event, its identity index
//                                      pointing into `ids` (the agent_ids that signed in this batch:
//                                      after a key rotation, more than one). Answered by `ack` or `nack`.
// down (hub → device), echoing the request's `corr`:
//   head      { state, head }          the registry state and the hub's stored head ({ seq, hash } | null)
//   ack       { head, stored, duplicates }   the batch is verified AND durable on the hub
//   nack      { code, message, head, retry } nothing at or after the first refused event was stored
// Each of the three (and TrustGate's `gate_error`) carries `sig`: the hub's key over syncAnswerStatement() (runtime/statement.ts, purpose
// SYNC_ANSWER_STATEMENT). On a broker without the ACL of docs/brokers.md anyone reads the `up` topic, so
// knows every `corr`, and may publish on `down`: a device that pins the hub key (SyncOptions.hub) acts
// only on signed answers, so a forged ack or head cannot mark as synced what no hub stored, and a forged
// nack or "revoked" cannot stop it. `hello` is unsigned: all it can cause is a handshake.
//
// Why records and not JSON events: a record is ~40% of the JSON size and round-trips to the same
// canonical bytes (test/record.test.ts), so signatures still verify; the hub keeps the record bytes of a
// refused event as evidence. Why `from`: it makes a resend idempotent (the hub compares seq + hash with
// what it holds) and a fork visible (a different event at a position the hub already has).
import { encodeCbor, decodeCbor, CBOR_NEST } from '../runtime/cbor.js'
import { encodeRecord, decodeRecord } from '../runtime/record.js'
import { isAgentIdShape } from './topics.js'
import { scanCbor, type ScanLimits } from './cbor-scan.js'
import type { AissEvent, IdentityDocument } from '../runtime/types.js'
import type { JsonObject } from '../runtime/value.js'
import { toHex } from '../runtime/encoding.js'

export const WIRE_VERSION = 1

export const SYNC_KINDS = {
  identity: 'identity',
  headQuery: 'head?',
  events: 'events',
  head: 'head',
  ack: 'ack',
  nack: 'nack'
} as const

/** Registry state of an agent as the hub tells it (hub/registry.ts). */
export type AgentState = 'allowed' | 'pending' | 'revoked' | 'unknown'

export interface WireHead { seq: number, hash: string }

export interface IdentityEnvelope { v: 1, kind: 'identity', corr: Uint8Array, identity: IdentityDocument, name?: string }
export interface HeadQueryEnvelope { v: 1, kind: 'head?', corr: Uint8Array }
export interface EventsEnvelope { v: 1, kind: 'events', corr: Uint8Array, from: number, ids: string[], records: Uint8Array[] }
export interface HeadEnvelope { v: 1, kind: 'head', corr: Uint8Array, state: AgentState, head: WireHead | null }
export interface AckEnvelope { v: 1, kind: 'ack', corr: Uint8Array, head: WireHead, stored: number, duplicates: number }
export interface NackEnvelope { v: 1, kind: 'nack', corr: Uint8Array, code: string, message: string, head: WireHead | null, retry: boolean }
/** The hub (re)subscribed: a device waiting on a handshake or an ack asks again now, not at its next timeout. */
export interface HelloEnvelope { v: 1, kind: 'hello', corr: Uint8Array }
export type DownEnvelope = HeadEnvelope | AckEnvelope | NackEnvelope | HelloEnvelope

/**
 * Nack codes and what the device does. `retry: true` codes are transient; the others stop forwarding
 * that agent until an operator looks (its chain and the hub's disagree, or the hub refuses it).
 */
export const NACK_CODES = {
  GAP: 'GAP', // `from` is past the hub's head: resend from the head in the nack
  AGENT_UNKNOWN: 'AGENT_UNKNOWN', // the hub has no identity for this topic: send `identity` first
  AGENT_PENDING: 'AGENT_PENDING', // waiting for `pcp hub approve`
  AGENT_REVOKED: 'AGENT_REVOKED',
  HUB_BUSY: 'HUB_BUSY', // the hub's queue is full or its store cannot write (disk full, I/O error): retry later, after a pause
  REJECTED: 'REJECTED', // an event failed verification; `message` names the code and index
  /** A validly signed event past the per-event limits below: final, it can only leave the device in an export. */
  EVENT_TOO_LARGE: 'EVENT_TOO_LARGE'
} as const

/** The nack a batch of an agent that is not allowed gets: pending and unknown may come back, revoked not. */
export function notAllowedNack (state: Exclude<AgentState, 'allowed'>): { code: string, retry: boolean } {
  const code = state === 'pending' ? NACK_CODES.AGENT_PENDING : state === 'revoked' ? NACK_CODES.AGENT_REVOKED : NACK_CODES.AGENT_UNKNOWN
  return { code, retry: state !== 'revoked' }
}

// What one sync message may cost the hub, checked before it decodes anything (sync/cbor-scan.ts), so no
// single message can hold its event loop (issue 14 #4). The sync agent splits batches to stay inside
// them (sync/outbox.ts) and stops with SYNC_EVENT_TOO_LARGE on one event it cannot fit; the bytes limit
// is MAX_PAYLOAD_BYTES (sync/topics.ts).
/** Records in one `events` message (the sync agent's batchSize may not be larger). */
export const MAX_BATCH_RECORDS = 1024
/** CBOR values in one message, its records' contents included; one event may use all of them. */
export const MAX_MESSAGE_VALUES = 262_144
/** Byte strings in one message: record wrappers and their packed hashes, nonces and signatures (payloads are JSON, they have none). */
export const MAX_MESSAGE_BYTE_STRINGS = 8 * MAX_BATCH_RECORDS
/**
 * CBOR nesting of a message or a record: runtime/cbor.ts writes a subtree at CBOR_NEST levels as JSON
 * text (tag 60002, whose depth parseJson bounds), so what it writes stays within CBOR_NEST + 1 levels.
 */
export const MAX_CBOR_DEPTH = CBOR_NEST + 2

// The store's codec (runtime/cbor.ts): lossless for floats, "__proto__" keys and deep payloads.
export function encodeEnvelope (env: object): Uint8Array { return encodeCbor(env) }

export type Decoded = { ok: true, env: Record<string, unknown> & { v: 1, kind: string } } | { ok: false, reason: 'PAYLOAD_NOT_CBOR' | 'ENVELOPE_INVALID', message: string }

/** Decodes untrusted bytes into a v1 envelope (any kind); a verdict, never a throw. */
export function decodeEnvelope (bytes: Uint8Array): Decoded {
  let v: unknown
  try { v = decodeCbor(bytes) } catch (err) { return { ok: false, reason: 'PAYLOAD_NOT_CBOR', message: (err as Error).message.slice(0, 200) } }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return { ok: false, reason: 'ENVELOPE_INVALID', message: 'not a CBOR map' }
  const e = v as Record<string, unknown>
  if (e.v !== WIRE_VERSION) return { ok: false, reason: 'ENVELOPE_INVALID', message: `unsupported envelope version ${String(e.v).slice(0, 20)}` }
  if (typeof e.kind !== 'string' || e.kind.length === 0 || e.kind.length > 64) return { ok: false, reason: 'ENVELOPE_INVALID', message: '"kind" is not a short string' }
  return { ok: true, env: e as Record<string, unknown> & { v: 1, kind: string } }
}

export function isCorr (c: unknown): c is Uint8Array {
  return c instanceof Uint8Array && c.length >= 8 && c.length <= 16
}

/** Checks an `events` envelope's shape (not its events: the hub verifies those). Null when fine. */
export function eventsShapeProblem (e: Record<string, unknown>): string | null {
  if (!isCorr(e.corr)) return '"corr" must be 8-16 bytes'
  if (!Number.isSafeInteger(e.from) || (e.from as number) < 0) return '"from" must be a chain position'
  if (!Array.isArray(e.ids) || e.ids.length === 0 || e.ids.length > 16 || !e.ids.every(isAgentIdShape)) return '"ids" must list 1-16 agent_ids'
  if (!Array.isArray(e.records) || e.records.length === 0) return '"records" must be a non-empty array'
  if (e.records.length > MAX_BATCH_RECORDS) return `"records" holds ${e.records.length} records; a batch carries at most ${MAX_BATCH_RECORDS}`
  if (!e.records.every((r) => r instanceof Uint8Array)) return '"records" must hold byte strings'
  return null
}

/** The pre-decode scan of a whole message (the hub's first look at any `up` payload). */
export const MESSAGE_SCAN: ScanLimits = { maxValues: MAX_MESSAGE_VALUES, maxDepth: MAX_CBOR_DEPTH, maxByteStrings: MAX_MESSAGE_BYTE_STRINGS }

/**
 * Scans an `events` message's records before any is decoded: `values` per record, as far as scanned.
 * `refused`: together they pass the message's value limit (the sender should have split the batch).
 * `overLimit`: the first record that alone passes a per-event limit, or is not CBOR; nothing after it
 * is scanned.
 */
export function recordCosts (records: readonly Uint8Array[]): { values: number[], overLimit?: { index: number, message: string }, refused?: 'CBOR_TOO_MANY_VALUES' } {
  const values: number[] = []
  let total = 0
  for (let i = 0; i < records.length; i++) {
    const v = scanCbor(records[i]!, { maxValues: MAX_MESSAGE_VALUES, maxDepth: MAX_CBOR_DEPTH })
    if (!v.ok) {
      // The batch ends here either way: what follows is never scanned, so never decoded. (A record that
      // is not CBOR cannot carry a signature: the worker finds it undecodable, and it is hostile input.)
      const why = v.reason === 'CBOR_TOO_DEEP' ? `its record is nested deeper than ${MAX_CBOR_DEPTH} CBOR levels` : v.reason === 'CBOR_MALFORMED' ? 'its record is not CBOR' : `its record holds more than ${MAX_MESSAGE_VALUES} CBOR values`
      return { values, overLimit: { index: i, message: why } }
    }
    total += v.values
    values.push(v.values)
    if (total > MAX_MESSAGE_VALUES) return { values, refused: 'CBOR_TOO_MANY_VALUES' }
  }
  return { values }
}

export function isWireHead (h: unknown): h is WireHead {
  return h !== null && typeof h === 'object' && Number.isSafeInteger((h as WireHead).seq) && typeof (h as WireHead).hash === 'string'
}

/** Builds an `events` envelope; events must be consecutive chain positions starting at `from`. */
export function eventsEnvelope (corr: Uint8Array, from: number, events: readonly AissEvent[]): EventsEnvelope {
  const ids: string[] = []
  const records = events.map((ev) => {
    let i = ids.indexOf(ev.agent_id)
    if (i < 0) { i = ids.length; ids.push(ev.agent_id) }
    return encodeRecord(ev, i)
  })
  return { v: 1, kind: 'events', corr, from, ids, records }
}

/**
 * Builds an `events` envelope from stored records (EventStore.recordsRange), whose identity index refers
 * to the store's identity list `identities`. That list becomes `ids` and the records travel as stored;
 * only when it is longer than an envelope may carry (more than 16 key rotations) are the records decoded
 * and re-encoded against the agent_ids this batch uses (eventsEnvelope).
 */
export function rawEventsEnvelope (corr: Uint8Array, from: number, identities: readonly string[], records: Uint8Array[]): EventsEnvelope {
  if (identities.length > 0 && identities.length <= 16) return { v: 1, kind: 'events', corr, from, ids: [...identities], records }
  return eventsEnvelope(corr, from, records.map((r) => decodeRecord(r, identities)))
}

/** Purpose of the hub's signature on a `head`, `ack` or `nack` (never valid as a login or gate request). */
export const SYNC_ANSWER_STATEMENT = 'pcp.sync-answer'

/**
 * What the hub signs of a sync answer to `agentId`: every field the device acts on, normalised as
 * parseDown() reads them, and the agent (so an answer to one device is no answer to another). Null for
 * any other kind.
 */
export function syncAnswerStatement (agentId: string, env: Record<string, unknown>): JsonObject | null {
  const corr = env.corr
  if (!isCorr(corr)) return null
  const head = (h: unknown): JsonObject | null => isWireHead(h) ? { seq: h.seq, hash: h.hash } : null
  const base: JsonObject = { agent: agentId, kind: String(env.kind), corr: toHex(corr) }
  if (env.kind === 'head') return { ...base, state: String(env.state), head: head(env.head) }
  if (env.kind === 'ack') return { ...base, head: head(env.head), stored: Number(env.stored ?? 0), duplicates: Number(env.duplicates ?? 0) }
  if (env.kind === 'nack') return { ...base, code: String(env.code), message: String(env.message ?? ''), head: head(env.head), retry: env.retry === true }
  // A gate refusal (sync/gate-wire.ts) proves nothing else: signed, so a forged one (REQUEST_STALE with a
  // wrong hub_time, any error) cannot pre-empt the hub's real answer to a device that checks.
  if (env.kind === 'gate_error') return { ...base, code: String(env.code), message: String(env.message ?? ''), hub_time: Number.isSafeInteger(env.hub_time) ? env.hub_time as number : null }
  return null
}

/** Reads a `down` envelope addressed to a device; null for anything it should ignore. */
export function parseDown (bytes: Uint8Array): DownEnvelope | null {
  const d = decodeEnvelope(bytes)
  if (!d.ok || !isCorr(d.env.corr)) return null
  const e = d.env
  if (e.kind === 'head' && typeof e.state === 'string' && (e.head === null || isWireHead(e.head))) return e as unknown as HeadEnvelope
  if (e.kind === 'ack' && isWireHead(e.head)) return e as unknown as AckEnvelope
  if (e.kind === 'hello') return e as unknown as HelloEnvelope
  if (e.kind === 'nack' && typeof e.code === 'string' && (e.head === null || e.head === undefined || isWireHead(e.head))) {
    return { ...(e as unknown as NackEnvelope), head: (e.head ?? null) as WireHead | null, message: String(e.message ?? ''), retry: e.retry === true }
  }
  return null
}
