// Cutting a relaxed store back to its gapless prefix after a power cut. A relaxed store fsyncs only
// now and then; a disk that writes unsynced pages back out of order can lose a block of LevelDB's log
// and keep later ones, and LevelDB's recovery then skips the damaged block: event #128 missing, #256 on
// disk. Only positions after the last completed fsync can be affected (the head records that seq as
// `durable`), so open scans just those keys. A hole is repaired, never hidden: the events after it
// move, verbatim, to a quarantine keyspace (signed by the agent's key, they may have been seen), the
// head goes back to the last gapless event, and a report is kept that the Agent records in the chain
// as its next event (REPAIR_EVENT_TYPE), so the chain itself says which positions were lost.
// Keys:  r!<n:8 hex>                  report of repair #n (RepairReport)
//        x!<n:8 hex>!<seq:16 hex>     a set-aside event record, as it was stored at e!<seq>
import type { Level } from 'level'
import { decodeCbor } from './cbor.js'
import { decodeRecord, encodeValue, decodeValue } from './record.js'
import { eventHash } from './event.js'
import { crypto } from './crypto.js'
import { toHex } from './encoding.js'
import type { AissEvent } from './types.js'
import type { JsonObject } from './value.js'

export const REPAIR_EVENT_TYPE = 'store_hole_repaired'
/** Set-aside hashes listed in the recording event; beyond that the digest commits to all of them. */
export const LISTED_HASHES = 256

export interface RepairReport {
  /** Repair number: its set-aside records are under x!<n>. */
  n: number
  /** First position lost; the recording event takes it. */
  lostFrom: number
  /** The stored head before the repair. */
  previousHead: { seq: number, hash: string }
  /** Positions in lostFrom..previousHead.seq that were not on disk at all, as [from, to] ranges. */
  missing: Array<[number, number]>
  /** The set-aside events' seqs and hashes, in chain order. */
  setAside: Array<{ seq: number, hash: string }>
  /** SHA-256 of the set-aside hashes (32 raw bytes each, in chain order). */
  digest: string
  /** Seq of the chain event that records this repair; null until it is stamped. */
  recordedAt: number | null
}

export type Db = Level<string, Uint8Array>
type Op = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

export const hex16 = (seq: number): string => seq.toString(16).padStart(16, '0')
export const seqKey = (seq: number): string => 'e!' + hex16(seq)
export const reportKey = (n: number): string => 'r!' + n.toString(16).padStart(8, '0')
const asideKey = (n: number, seq: number): string => 'x!' + n.toString(16).padStart(8, '0') + '!' + hex16(seq)

/**
 * The first position from `from` on that has no event while a later one does (or any event beyond
 * the head), with the missing ranges; null when the keys from `from` to the head are gapless.
 */
export async function findHole (db: Db, from: number, headSeq: number): Promise<{ lostFrom: number, missing: Array<[number, number]> } | null> {
  let expected = from
  let lostFrom: number | null = null
  const missing: Array<[number, number]> = []
  for await (const key of db.keys({ gte: seqKey(from), lt: 'e"' })) {
    const seq = parseInt(key.slice(2), 16)
    if (seq !== expected) { lostFrom ??= expected; missing.push([expected, seq - 1]) }
    if (seq > headSeq) lostFrom ??= headSeq + 1
    expected = seq + 1
  }
  return lostFrom === null ? null : { lostFrom, missing }
}

/** The chain slot a report is recorded with: the payload of the REPAIR_EVENT_TYPE event. */
export function repairPayload (r: RepairReport): JsonObject {
  return {
    repair: r.n,
    lost_from: r.lostFrom,
    lost_to: r.previousHead.seq,
    previous_head_hash: r.previousHead.hash,
    missing: r.missing.slice(0, 64).map(([a, b]) => [a, b]),
    set_aside_count: r.setAside.length,
    set_aside_hashes: r.setAside.slice(0, LISTED_HASHES).map((e) => e.hash),
    set_aside_digest: r.digest
  }
}

/**
 * Moves every event from `lostFrom` on into quarantine #n, deletes the index keys of those positions,
 * sets the head to event lostFrom-1 (or none) and stores the report: one synced, atomic batch.
 * Returns the report and the new head.
 */
export async function setAside (db: Db, o: { n: number, lostFrom: number, missing: Array<[number, number]>, previousHead: { seq: number, hash: string }, agentIds: readonly string[], durable: number }):
Promise<{ report: RepairReport, head: { seq: number, hash: string, timestamp: number, agentIndex: number } | null }> {
  const ops: Op[] = []
  const setAsideList: Array<{ seq: number, hash: string }> = []
  for await (const [key, value] of db.iterator({ gte: seqKey(o.lostFrom), lt: 'e"' })) {
    const seq = parseInt(key.slice(2), 16)
    setAsideList.push({ seq, hash: hashOf(value, o.agentIds) })
    ops.push({ type: 'put', key: asideKey(o.n, seq), value }, { type: 'del', key })
  }
  // Index keys are named by their batch's first seq. A lost log block takes whole batches, but a key
  // lost otherwise leaves its batch's list naming it: lists of batches after the last fsync are trimmed.
  for (const range of [{ gte: 't!', lt: 't"' }, { gte: 'S!', lt: 'S"' }, { gte: 'p!', lt: 'p"' }]) {
    for await (const key of db.keys(range)) {
      const first = parseInt(key.slice(-16), 16)
      if (first >= o.lostFrom) { ops.push({ type: 'del', key }); continue }
      if (first <= o.durable) continue
      const seqs = decodeValue<number[]>((await db.get(key))!)
      if (seqs.some((s) => s >= o.lostFrom)) ops.push({ type: 'put', key, value: encodeValue(seqs.filter((s) => s < o.lostFrom)) })
    }
  }
  let head: { seq: number, hash: string, timestamp: number, agentIndex: number } | null = null
  if (o.lostFrom > 0) {
    const raw = await db.get(seqKey(o.lostFrom - 1))
    if (raw === undefined) throw new Error(`event #${o.lostFrom - 1} before the hole is missing`)
    const event = decodeRecord(raw, o.agentIds)
    head = { seq: o.lostFrom - 1, hash: eventHash(event), timestamp: event.timestamp, agentIndex: (decodeCbor<unknown[]>(raw)[0] as number) }
  }
  const all = new Uint8Array(32 * setAsideList.length)
  setAsideList.forEach((e, i) => all.set(Buffer.from(e.hash, 'hex'), 32 * i))
  const report: RepairReport = { n: o.n, lostFrom: o.lostFrom, previousHead: o.previousHead, missing: o.missing, setAside: setAsideList, digest: toHex(crypto().sha256(all)), recordedAt: null }
  ops.push({ type: 'put', key: reportKey(o.n), value: encodeValue(report) })
  if (head) ops.push({ type: 'put', key: 'h', value: encodeValue({ ...head, durable: Math.min(o.durable, head.seq) }) })
  else ops.push({ type: 'del', key: 'h' })
  await db.batch(ops, { sync: true })
  return { report, head }
}

function hashOf (record: Uint8Array, agentIds: readonly string[]): string {
  try { return eventHash(decodeRecord(record, agentIds)) } catch { return '' }
}

/** The events of quarantine #n, in chain order. */
export async function * setAsideEvents (db: Db, n: number, agentIds: readonly string[]): AsyncGenerator<{ seq: number, event: AissEvent, hash: string }> {
  const prefix = 'x!' + n.toString(16).padStart(8, '0') + '!'
  for await (const [key, value] of db.iterator({ gte: prefix, lt: prefix.slice(0, -1) + '"' })) {
    const event = decodeRecord(value, agentIds)
    yield { seq: parseInt(key.slice(-16), 16), event, hash: eventHash(event) }
  }
}
