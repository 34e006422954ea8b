// The lane's window of recent event hashes (hub/recent-hashes.ts) is bounded to RECENT_HASHES binary
// hashes per agent (issue 18: ≤ 20 KB of hub state per agent; it was a Map of up to 8,192 hex strings,
// ~1 MB per active agent), and what falls out of it is asked of the store with the same answers: a resend
// of events older than the window, or of a batch not yet durable, is a resend; a new event chained onto a
// held event far behind the head is still FORK_DETECTED, after a hub restart too. Real LevelDB, real
// verifyBatch, Ingest driven directly.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { LevelHubStore } from '../hub/store/level.js'
import { Ingest, type BatchOutcome } from '../hub/ingest.js'
import { verifyBatch } from '../hub/ingest-verify.js'
import { newRecord } from '../hub/registry.js'
import { RecentHashes, RECENT_HASHES } from '../hub/recent-hashes.js'
import { tmpDir } from './helpers.js'

const S = suite('ingest: recent hashes, bounded')

const TS = 1_700_000_000
const hex = (n: number): string => n.toString(16).padStart(64, '0')

function chain (id: Identity, n: number): Array<{ event: AissEvent, hash: string }> {
  let prev: string | null = null
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: TS + i }); prev = r.hash; return r })
}

async function withHub (fn: (h: { a: Identity, store: LevelHubStore, ingest: () => Ingest, send: (ing: Ingest, from: number, events: AissEvent[]) => Promise<BatchOutcome> }) => Promise<void>): Promise<void> {
  const dir = tmpDir()
  const store = await LevelHubStore.open(dir.path)
  try {
    const a = Identity.generate()
    await store.putAgent({ ...newRecord(a.agentId, 'dev', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] })
    const ingest = (): Ingest => new Ingest({ store, pool: { submit: async (_k, item) => verifyBatch(item) }, now: () => TS + 100_000 })
    const send = (ing: Ingest, from: number, events: AissEvent[]): Promise<BatchOutcome> => ing.submit(a.agentId, { from, ids: [a.agentId], records: events.map((e) => encodeRecord(e, 0)), topic: 't' })
    await fn({ a, store, ingest, send })
  } finally { await store.close(); dir.cleanup() }
}

const codeOf = (o: BatchOutcome): string => 'ack' in o ? 'ack' : 'nack' in o ? `${o.nack.code}${o.problem ? ':' + o.problem.code : ''}` : `hostile:${o.hostile}`

S('RecentHashes holds the newest RECENT_HASHES positions, 32 bytes each, and starts again on a position that does not follow', () => {
  const r = new RecentHashes()
  assert.is(r.get(0), undefined)
  assert.is(r.oldest, Infinity)
  for (let s = 0; s < 1000; s++) r.set(s, hex(s))
  assert.is(r.oldest, 1000 - RECENT_HASHES)
  assert.is(r.get(999), hex(999))
  assert.is(r.get(1000 - RECENT_HASHES), hex(1000 - RECENT_HASHES))
  assert.is(r.get(999 - RECENT_HASHES), undefined, 'fell out of the window')
  assert.is(r.find(hex(990)), 990)
  assert.is(r.find(hex(5)), undefined)
  assert.is(r.find('not a hash'), undefined)
  r.set(5000, hex(5000))
  assert.equal([r.oldest, r.get(5000), r.get(999)], [5000, hex(5000), undefined])
  r.clear()
  assert.equal([r.oldest, r.get(5000)], [Infinity, undefined])
})

S('a resend of events older than the window is a resend (acknowledged as duplicates), read back from the store', async () => {
  await withHub(async ({ a, ingest, send }) => {
    const ing = ingest()
    const events = chain(a, 600).map((r) => r.event)
    assert.is(codeOf(await send(ing, 0, events.slice(0, 300))), 'ack')
    assert.is(codeOf(await send(ing, 300, events.slice(300))), 'ack')
    const again = await send(ing, 0, events.slice(0, 400))
    assert.ok('ack' in again, JSON.stringify(again))
    assert.equal([again.ack.duplicates, again.ack.stored, again.ack.head.seq], [400, 0, 599])
  })
})

S('a resend of a batch that is not durable yet is a resend, not a fork', async () => {
  await withHub(async ({ a, ingest, send }) => {
    const ing = ingest()
    const events = chain(a, 700).map((r) => r.event)
    // Both submitted at once, as a QoS 1 duplicate arrives while the first copy is being written.
    const [first, dup] = await Promise.all([send(ing, 0, events), send(ing, 0, events)])
    assert.equal([codeOf(first), codeOf(dup)], ['ack', 'ack'])
    assert.is((dup as { ack: { duplicates: number } }).ack.duplicates, 700)
  })
})

S('a new event chained onto a held event far behind the head is FORK_DETECTED, from this lane and after a restart', async () => {
  await withHub(async ({ a, ingest, send }) => {
    const ing = ingest()
    const held = chain(a, 400)
    assert.is(codeOf(await send(ing, 0, held.map((r) => r.event))), 'ack')
    const fork = stampEvent(a, { event_type: 'tick', fork: true }, { previousHash: held[100]!.hash, timestamp: TS + 1000 }).event
    const out = await send(ing, 400, [fork])
    assert.is(codeOf(out), 'REJECTED:FORK_DETECTED')
    // A new hub process on the same store: its lane holds no hashes at all, the store has them.
    const fork2 = stampEvent(a, { event_type: 'tick', fork: 2 }, { previousHash: held[200]!.hash, timestamp: TS + 1001 }).event
    const out2 = await send(ingest(), 400, [fork2])
    assert.is(codeOf(out2), 'REJECTED:FORK_DETECTED', 'before: CHAIN_LINK_BROKEN, the restarted lane knew no hash')
    // A link to nothing the hub holds stays a broken link.
    const broken = stampEvent(a, { event_type: 'tick' }, { previousHash: hex(7), timestamp: TS + 1002 }).event
    assert.is(codeOf(await send(ingest(), 400, [broken])), 'REJECTED:CHAIN_LINK_BROKEN')
  })
})

S('a fork onto an earlier event of the same batch, further back than the window, is FORK_DETECTED', async () => {
  await withHub(async ({ a, ingest, send }) => {
    const held = chain(a, 300)
    const fork = stampEvent(a, { event_type: 'tick', fork: true }, { previousHash: held[10]!.hash, timestamp: TS + 1000 }).event
    const out = await send(ingest(), 0, [...held.map((r) => r.event), fork])
    assert.is(codeOf(out), 'REJECTED:FORK_DETECTED')
  })
})

S('a device that keeps sending far forks does not keep the hub hashing its history (one store scan per lane per 10 s)', async () => {
  await withHub(async ({ a, store, ingest, send }) => {
    const ing = ingest()
    const held = chain(a, 400)
    assert.is(codeOf(await send(ing, 0, held.map((r) => r.event))), 'ack')
    let read = 0
    const events = store.events.bind(store)
    store.events = async function * (...args: Parameters<typeof events>) { for await (const x of events(...args)) { read++; yield x } }
    const forkOnto = (i: number): AissEvent => stampEvent(a, { event_type: 'tick', fork: i }, { previousHash: held[i]!.hash, timestamp: TS + 1000 + i }).event
    const codes: string[] = []
    for (let i = 0; i < 12; i++) codes.push(codeOf(await send(ing, 400, [forkOnto(10 + i)])))
    codes.push(codeOf(await send(ing, 400, [forkOnto(10)]))) // the first link again: answered from the last scan
    assert.is(codes[0], 'REJECTED:FORK_DETECTED')
    assert.ok(codes.slice(1, 12).every((c) => c === 'REJECTED:CHAIN_LINK_BROKEN'), codes.join(' '))
    assert.is(codes[12], 'REJECTED:FORK_DETECTED')
    // One scan reads at most the positions below the window (272 here); before, every fork scanned again (> 3,000).
    assert.ok(read <= 400, `the store yielded ${read} events for 13 forks`)
  })
})

S.run()
