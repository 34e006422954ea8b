// runtime/cbor.ts: decoding is a function of the bytes alone. cbor-x's Encoder, used to decode too, kept
// the record structures that a definition (tag 0xdfff) in one message declared, so a later message's
// tag 0xe000 read differently depending on what was decoded before it in that thread. Since the hub
// stores a record as received, an agent could get a record verified under one reading and stored under
// another: in another thread, or after a restart, the stored event no longer verifies. Both tests failed
// on the old code.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Identity, stampEvent, canonicalize, type AissEvent } from '../runtime/index.js'
import { decodeCbor, encodeCbor } from '../runtime/cbor.js'
import { LevelHubStore } from '../hub/store/level.js'
import { Ingest } from '../hub/ingest.js'
import { VerifyPool } from '../hub/verify-pool.js'
import { newRecord } from '../hub/registry.js'
import { tmpDir, ROOT } from './helpers.js'

const C = suite('cbor')
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))

// [ {p:1, q:2} ] with an inline record definition of structure 0xe000 = ["p", "q"], and [ 0xe000(3, 4) ].
const DEFINES = hex('81d9dfff8419e00082617061710102')
const REFERS = hex('81d9e000820304')

C('a record definition in one message does not change how another message reads', () => {
  const before = JSON.stringify(decodeCbor(REFERS))
  assert.equal(decodeCbor(DEFINES), [{ p: 1, q: 2 }])
  assert.is(JSON.stringify(decodeCbor(REFERS)), before, 'the same bytes read the same after a definition was seen')
  // Within one message a definition still applies (what cbor-x writes with useRecords stays readable).
  assert.equal(decodeCbor(hex('82d9dfff8419e00082617061710102d9e000820304')), [{ p: 1, q: 2 }, { p: 3, q: 4 }])
})

/** The record [index, timestamp, nonce, payload, previous_hash, signature, version] with the payload as `payloadBytes`. */
function recordWith (ev: AissEvent, payloadBytes: Uint8Array): Uint8Array {
  const items = [0, ev.timestamp, ev.nonce, null, ev.previous_hash, ev.signature, ev.version].map((v, i) => i === 3 ? payloadBytes : encodeCbor(v))
  return cat(new Uint8Array([0x87]), ...items)
}

/** A map {event_type, i} written as cbor-x records: with its definition, or as a bare reference to it. */
function payloadAsRecord (p: { event_type: string, i: number }, define: boolean): Uint8Array {
  const values = cat(encodeCbor(p.event_type), encodeCbor(p.i))
  return define ? cat(hex('d9dfff84'), hex('19e000'), encodeCbor(['event_type', 'i']), values) : cat(hex('d9e00082'), values)
}

C('the hub never stores a record that reads back as another event than the one it verified', async () => {
  const a = Identity.generate()
  const e0 = stampEvent(a, { event_type: 'tick', i: 0 }, { previousHash: null, timestamp: 1_700_000_000 })
  const e1 = stampEvent(a, { event_type: 'tick', i: 1 }, { previousHash: e0.hash, timestamp: 1_700_000_001 })
  const dir = tmpDir()
  const store = await LevelHubStore.open(join(dir.path, 'store'))
  // The hub's verify worker (one, so both batches meet the same decoder): a worker only decodes, so
  // nothing there ever reset cbor-x's structures between two batches.
  const pool = await VerifyPool.open({ module: new URL('../hub/ingest-verify.ts', import.meta.url), exportName: 'verifyBatch', workers: 1 })
  try {
    await store.putAgent({ ...newRecord(a.agentId, 'dev', 'allowed', 1), identity: a.document(), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] })
    const ingest = new Ingest({ store, pool: pool as never, now: () => 1_700_001_000 })
    const submit = (from: number, record: Uint8Array): ReturnType<Ingest['submit']> => ingest.submit(a.agentId, { from, ids: [a.agentId], records: [record], topic: 't' })
    const first = await submit(0, recordWith(e0.event, payloadAsRecord(e0.event.payload as never, true)))
    assert.ok('ack' in first, JSON.stringify(first))
    // The second batch only refers to the structure the first one defined.
    await submit(1, recordWith(e1.event, payloadAsRecord(e1.event.payload as never, false)))
    const stored: AissEvent[] = []
    for await (const { event } of store.events(a.agentId)) stored.push(event)
    const signed = [e0.event, e1.event].slice(0, stored.length).map((e) => canonicalize(e))
    assert.equal(stored.map((e) => canonicalize(e)), signed, 'every stored event reads back as the event that was verified')
    await store.close()
    // A restart: another process reads the event at the head (as the hub does to answer `head?`) with a
    // decoder that has seen nothing before. (pcp hub verify-store reads from #0 in order, so it saw the
    // definition first and passed on the old code.)
    const read = `import { LevelHubStore } from ${JSON.stringify(join(ROOT, 'hub/store/level.ts'))}
      import { canonicalize } from ${JSON.stringify(join(ROOT, 'runtime/index.ts'))}
      const s = await LevelHubStore.open(${JSON.stringify(join(dir.path, 'store'))})
      for await (const { event } of s.events(${JSON.stringify(a.agentId)}, 1)) process.stdout.write(canonicalize(event))
      await s.close()`
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', read], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 0, r.stderr)
    assert.is(r.stdout, signed[1] ?? '', 'event #1 read after a restart is the event that was verified')
  } finally { await pool.close(); await store.close().catch(() => {}); dir.cleanup() }
})

C.run()
