// What one group commit of the device store writes (runtime/store.ts has the key layout): the puts of an
// append — each event's record, the repair report it records, the meta slots that go with it — and, for
// all the appends the queue merges into one LevelDB batch, one index key per prefix and the head. Pure:
// items in, operations out; the store owns the queue, the database and the failure state.
import { encodeRecord, encodeValue } from './record.js'
import { seqKey, hex16, reportKey, REPAIR_EVENT_TYPE, type RepairReport } from './store-repair.js'
import { indexPrefixes } from './store-search.js'
import type { RawOp } from './level-open.js'
import type { AissEvent } from './types.js'

export interface Head { seq: number, hash: string, timestamp: number, agentIndex: number }

export interface AppendItem {
  event: AissEvent
  hash: string
  agentIndex: number
  /** The raw signature `event.signature` encodes, when the caller has it (spares the record a base64 round trip). */
  signature?: Uint8Array
}

export type Put = { type: 'put', key: string, value: Uint8Array }
/** One queued write: an append (with its index entries and head) or a single key (identity, meta). */
export interface Write { ops: Put[], index?: Map<string, number[]>, head?: Head, sync?: boolean, resolve: () => void, reject: (e: unknown) => void }

/** The puts of one append after `head` (null: an empty chain), and what it leaves behind. */
export function appendOps (items: AppendItem[], head: Head | null, repairs: readonly RepairReport[], meta: Record<string, unknown> = {}):
{ ops: Put[], index: Map<string, number[]>, head: Head | null, recorded: Array<[RepairReport, number]>, bytes: number } {
  const ops: Put[] = []
  const index = new Map<string, number[]>()
  const recorded: Array<[RepairReport, number]> = []
  let seq = head ? head.seq : -1
  let bytes = 0
  for (const { event, hash, agentIndex, signature } of items) {
    seq++
    // The event that records a repair marks its report, atomically with it.
    if (event.payload.event_type === REPAIR_EVENT_TYPE && repairs.length) {
      const r = repairs.find((r) => r.recordedAt === null && r.n === event.payload.repair)
      if (r) { recorded.push([r, seq]); ops.push({ type: 'put', key: reportKey(r.n), value: encodeValue({ ...r, recordedAt: seq }) }) }
    }
    const record = encodeRecord(event, agentIndex, signature)
    bytes += record.length
    ops.push({ type: 'put', key: seqKey(seq), value: record })
    for (const prefix of indexPrefixes(event)) {
      const list = index.get(prefix)
      if (list) list.push(seq); else index.set(prefix, [seq])
    }
    head = { seq, hash, timestamp: event.timestamp, agentIndex }
  }
  // Meta slots written with the events, atomically (an import and its record: runtime/reference-history.ts).
  for (const [name, value] of Object.entries(meta)) ops.push({ type: 'put', key: 'm!' + name, value: encodeValue(value) })
  return { ops, index, head, recorded, bytes }
}

/**
 * The queued writes as one LevelDB batch: their puts, one index key per prefix for all of them (each
 * key in a batch costs ~10 µs here), and the newest head with `durable`, what a COMPLETED fsync covered
 * (this batch's own fsync may be cut half done).
 */
export function groupOps (batch: readonly Write[], durable: number): { ops: RawOp[], head: Head | undefined } {
  const ops: RawOp[] = []
  for (const b of batch) for (const op of b.ops) ops.push(op)
  const index = new Map<string, number[]>()
  let head: Head | undefined
  for (const b of batch) {
    if (b.head) head = b.head
    for (const [prefix, seqs] of b.index ?? []) {
      const list = index.get(prefix)
      if (list) list.push(...seqs); else index.set(prefix, seqs)
    }
  }
  for (const [prefix, seqs] of index) ops.push({ type: 'put', key: prefix + hex16(seqs[0]!), value: encodeValue(seqs) })
  if (head) ops.push({ type: 'put', key: 'h', value: encodeValue({ ...head, durable }) })
  return { ops, head }
}
