// Ingest stores each event's record as it arrived and was verified (issue 18: decode once, no re-encoding
// for storage), with only its identity index set to the store's: the stored bytes are the received ones,
// they read back as the same event (same canonical bytes, same hash), and a record of another shape is
// encoded afresh. Real LevelDB on a temp dir, the real verifyBatch; the raw values are read with level.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Level } from 'level'
import { Identity, stampEvent, eventHash, signingBytes, type AissEvent } from '../runtime/index.js'
import { encodeRecord, decodeRecord, withAgentIndex } from '../runtime/record.js'
import { encodeCbor } from '../runtime/cbor.js'
import { AISS_VERSION } from '../runtime/identity.js'
import { LevelHubStore } from '../hub/store/level.js'
import { Ingest, type BatchOutcome } from '../hub/ingest.js'
import { verifyBatch } from '../hub/ingest-verify.js'
import { newRecord } from '../hub/registry.js'
import { tmpDir } from './helpers.js'

const S = suite('ingest stores the record it verified')

function chain (id: Identity, n: number): AissEvent[] {
  let prev: string | null = null
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i, v: 0.5 }, { previousHash: prev, timestamp: 1_700_000_000 + i }); prev = r.hash; return r.event })
}

/** Every field as text where encodeRecord packs bytes, and the version spelled out: a valid record encodeRecord never writes. */
function spelledOut (ev: AissEvent, index: number): Uint8Array {
  return encodeCbor([index, ev.timestamp, ev.nonce, ev.payload, ev.previous_hash, ev.signature, ev.version])
}

/** Ingests `records` (ids as given) into a fresh store; returns the outcome, the events read back and the raw stored values. */
async function ingestRaw (a: Identity, ids: string[], records: Uint8Array[]): Promise<{ out: BatchOutcome, read: AissEvent[], raw: Uint8Array[] }> {
  const dir = tmpDir()
  try {
    const store = await LevelHubStore.open(dir.path)
    let out: BatchOutcome
    const read: AissEvent[] = []
    try {
      await store.putAgent({ ...newRecord(a.agentId, 'dev', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] })
      const ingest = new Ingest({ store, pool: { submit: async (_k, item) => verifyBatch(item) }, now: () => 1_700_001_000 })
      out = await ingest.submit(a.agentId, { from: 0, ids, records, topic: 't' })
      for await (const { event } of store.events(a.agentId)) read.push(event)
    } finally { await store.close() }
    const db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
    const raw: Uint8Array[] = []
    try {
      for await (const [, v] of db.iterator({ gte: `e!${a.agentId}!`, lt: `e!${a.agentId}"` })) raw.push(Uint8Array.from(v))
    } finally { await db.close() }
    return { out: out!, read, raw }
  } finally { dir.cleanup() }
}

S('a record spelled differently from encodeRecord is stored byte for byte, and reads back as the event that was verified', async () => {
  const a = Identity.generate()
  const events = chain(a, 3)
  const records = events.map((e) => spelledOut(e, 0))
  assert.ok(records.every((r, i) => !Buffer.from(r).equals(Buffer.from(encodeRecord(events[i]!, 0)))), 'the test records are not what encodeRecord writes')
  const { out, read, raw } = await ingestRaw(a, [a.agentId], records)
  assert.ok('ack' in out, JSON.stringify(out))
  assert.equal(raw.map((r) => Buffer.from(r).toString('hex')), records.map((r) => Buffer.from(r).toString('hex')), 'stored as received (before: encoded again)')
  assert.equal(read.map((e) => Buffer.from(signingBytes(e)).toString('hex')), events.map((e) => Buffer.from(signingBytes(e)).toString('hex')))
  assert.equal(read.map(eventHash), events.map(eventHash))
  assert.equal(read, events)
})

S('a record that names its identity by another index of the message is stored under the store\'s index', async () => {
  const a = Identity.generate()
  const other = Identity.generate()
  const events = chain(a, 2)
  // The message lists another identity first: its records say 1 where the store's keys say 0.
  const records = events.map((e) => encodeRecord(e, 1))
  const { out, read, raw } = await ingestRaw(a, [other.agentId, a.agentId], records)
  assert.ok('ack' in out, JSON.stringify(out))
  assert.equal(raw.map((r) => Buffer.from(r).toString('hex')), events.map((e) => Buffer.from(encodeRecord(e, 0)).toString('hex')))
  assert.equal(read, events)
})

S('a record whose index is not a one-byte integer is encoded afresh, and reads back the same', async () => {
  const a = Identity.generate()
  const events = chain(a, 2)
  // 0 as a two-byte unsigned integer (0x18 0x00): valid CBOR, decodes to 0, not the shape withAgentIndex edits.
  const records = events.map((e) => { const r = encodeRecord(e, 0); return Uint8Array.from([r[0]!, 0x18, 0x00, ...r.subarray(2)]) })
  assert.equal(decodeRecord(records[0]!, [a.agentId]), events[0])
  assert.is(withAgentIndex(records[0]!, 0), null)
  const { out, read, raw } = await ingestRaw(a, [a.agentId], records)
  assert.ok('ack' in out, JSON.stringify(out))
  assert.equal(raw.map((r) => Buffer.from(r).toString('hex')), events.map((e) => Buffer.from(encodeRecord(e, 0)).toString('hex')))
  assert.equal(read, events)
})

S('withAgentIndex: the same bytes when the index is right, a copy with it set otherwise, null for other shapes', () => {
  const a = Identity.generate()
  const [ev] = chain(a, 1)
  const r = encodeRecord(ev!, 0)
  assert.is(withAgentIndex(r, 0), r)
  const moved = withAgentIndex(r, 5)!
  assert.is.not(moved, r)
  assert.is(r[1], 0, 'the input is left as it was')
  assert.equal(decodeRecord(moved, ['x', 'x', 'x', 'x', 'x', a.agentId]), ev)
  assert.is(withAgentIndex(r, 24), null, 'an index past one byte')
  assert.is(withAgentIndex(r, -1), null)
  assert.is(withAgentIndex(new Uint8Array([0x85, 0, 0, 0, 0, 0]), 0), null, 'five items: not a record')
  assert.is(withAgentIndex(new Uint8Array([0x9f, 0]), 0), null, 'indefinite length')
  assert.is(withAgentIndex(Uint8Array.from([0x89, ...r.subarray(1), 0]), 0), null, 'a ninth item, which decodeRecord ignores')
  assert.is(withAgentIndex(new Uint8Array([]), 0), null)
  assert.is(AISS_VERSION, ev!.version)
})

S.run()
