// Several hubs' stores on one PostgreSQL database (PCP_TEST_PG_URL, a fresh database per test; skipped with
// the reason without one): a registry change made through one store is seen by the others (NOTIFY), also
// after the listening connection was terminated; a hub whose copy of the record is stale (it did not hear
// of a revocation yet) cannot put 'allowed' back with an append; a registry write that lost a race is
// decided again on the record as it is now; ingest on a hub that missed batches stored by another answers
// from the store, not from its own lane.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { PgHubStore } from '../hub/store/pg.js'
import { Ingest, type BatchOutcome, type IngestOptions } from '../hub/ingest.js'
import { verifyBatch } from '../hub/ingest-verify.js'
import { Registry, newRecord } from '../hub/registry.js'
import type { AgentRecord } from '../hub/store/types.js'
import { until } from './support/hub-helpers.js'
import { createTestDb, pgSkipReason } from './support/pg.js'

const S = suite('hub stores sharing one PostgreSQL database')

function chain (id: Identity, n: number, start = 0, prev: string | null = null): Array<{ event: AissEvent, hash: string, keyIndex: number }> {
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i: start + i }, { previousHash: prev, timestamp: 1_700_000_000 + start + i }); prev = r.hash; return { ...r, keyIndex: 0 } })
}
function after (rec: AgentRecord, items: Array<{ event: AissEvent, hash: string }>, count: number): AgentRecord {
  const last = items.at(-1)!
  return { ...rec, head: { seq: count - 1, hash: last.hash, timestamp: last.event.timestamp }, count }
}
const device = (a: Identity, state: AgentRecord['state'] = 'pending'): AgentRecord => ({ ...newRecord(a.agentId, 'dev', state, 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] })

S('an approval through one store is seen by the other without asking, also after its listening connection was terminated', async () => {
  const db = await createTestDb()
  const [s1, s2] = [await PgHubStore.open(db.url), await PgHubStore.open(db.url)]
  try {
    const a = Identity.generate()
    await s1.putAgent(device(a))
    await until(() => s2.agent(a.agentId)?.state === 'pending', 5000, 'hub 2 hears of the new device')
    await new Registry(s1).approve(a.agentId, { role: 'operator' })
    await until(() => s2.agent(a.agentId)?.state === 'allowed', 5000, 'hub 2 sees the approval')
    assert.is(s2.agent(a.agentId)!.role, 'operator')
    // The server ends every listening connection (a restart, pg_terminate_backend): hub 2 listens again
    // and re-reads what it may have missed.
    const killed = (await db.query("SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pcp-hub-listen' AND datname = current_database()) t")).rows[0].n
    assert.is(killed, 2, 'both stores listen on a connection of their own')
    await new Registry(s1).revoke(a.agentId)
    await until(() => s2.agent(a.agentId)?.state === 'revoked', 10_000, 'hub 2 sees the revocation after re-listening')
  } finally { await s1.close(); await s2.close(); await db.drop() }
})

S('a hub that has not heard of a revocation yet cannot put allowed back with an append: it loses the race', async () => {
  const db = await createTestDb()
  // Hub 1 does not LISTEN, so it certainly has not heard (with notifications on, the NOTIFY could reach it
  // before the append leaves, and the test would race: it did, once in CI).
  const [s1, s2] = [await PgHubStore.open(db.url, { notifications: false }), await PgHubStore.open(db.url)]
  try {
    const a = Identity.generate()
    const rec = device(a, 'allowed')
    await s1.putAgent(rec)
    await s2.reload(a.agentId)
    const c = chain(a, 4)
    // Hub 2 revokes; hub 1 appends from the record it holds (allowed, head none) before it hears of it.
    await new Registry(s2).revoke(a.agentId)
    assert.is(s1.agent(a.agentId)!.state, 'allowed', 'hub 1 still holds the stale record')
    const appended = s1.append([{ agentId: a.agentId, expectedSeq: -1, events: c, record: after(s1.agent(a.agentId)!, c, 4) }])
    const err = await appended.then(() => null, (e: { code?: string }) => e)
    assert.is(err?.code, 'STORE_CONFLICT', 'the stale append is refused')
    const fresh = await PgHubStore.open(db.url)
    try { assert.is(fresh.agent(a.agentId)!.state, 'revoked', 'the revocation stands') } finally { await fresh.close() }
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n, 0, 'nothing of the stale append was kept')
  } finally { await s1.close(); await s2.close(); await db.drop() }
})

S('an approval whose record another hub extended meanwhile is decided again on the new record', async () => {
  const db = await createTestDb()
  const [s1, s2] = [await PgHubStore.open(db.url), await PgHubStore.open(db.url)]
  try {
    const a = Identity.generate()
    const rec = device(a, 'allowed')
    await s1.putAgent(rec)
    await s2.reload(a.agentId)
    const c = chain(a, 3)
    await s1.append([{ agentId: a.agentId, expectedSeq: -1, events: c, record: after(rec, c, 3) }])
    // Hub 2's record still says head none: its approval (with a new role) conflicts, re-reads, succeeds.
    const out = await new Registry(s2).approve(a.agentId, { role: 'maintainer' })
    assert.equal([out.role, out.head?.seq, out.count], ['maintainer', 2, 3], 'the approval kept the head another hub stored')
    const { rows } = await db.query('SELECT head_seq::int AS h FROM pcp_agents')
    assert.is(rows[0].h, 2)
  } finally { await s1.close(); await s2.close(); await db.drop() }
})

type Batch = { from: number, ids: string[], records: Uint8Array[], topic: string }
interface TwoHubs { db: Awaited<ReturnType<typeof createTestDb>>, a: Identity, c: ReturnType<typeof chain>, batch: (from: number, to: number) => Batch }
const NOW = (): number => 1_700_001_000
const headOf = (o: BatchOutcome): unknown => 'ack' in o ? ['ack', o.ack.head.seq, o.ack.stored] : ['nack', (o as { nack: { code: string } }).nack.code]

/** Two hubs' stores on a fresh database, an allowed agent both know, its chain of `n` events, and ingest for each (`opts` per hub). */
async function twoHubs (n: number, opts: [Partial<IngestOptions>, Partial<IngestOptions>], fn: (w: TwoHubs, i1: Ingest, i2: Ingest) => Promise<void>): Promise<void> {
  const db = await createTestDb()
  const [s1, s2] = [await PgHubStore.open(db.url), await PgHubStore.open(db.url)]
  try {
    const a = Identity.generate()
    await s1.putAgent(device(a, 'allowed'))
    await s2.reload(a.agentId)
    const c = chain(a, n)
    const batch = (from: number, to: number): Batch => ({ from, ids: [a.agentId], records: c.slice(from, to).map((x) => encodeRecord(x.event, 0)), topic: 't' })
    await fn({ db, a, c, batch }, new Ingest({ store: s1, now: NOW, ...opts[0] }), new Ingest({ store: s2, now: NOW, ...opts[1] }))
  } finally { await s1.close(); await s2.close(); await db.drop() }
}

S('ingest on a hub that missed batches another hub stored answers from the store: no gap nack, and its head answer is the store\'s', async () => {
  await twoHubs(9, [{}, {}], async ({ a, c, batch }, i1, i2) => {
    // Round robin: batch 1 to hub 1, batch 2 to hub 2 (which has an empty lane), batch 3 to hub 1.
    assert.equal(headOf(await i1.submit(a.agentId, batch(0, 3))), ['ack', 2, 3])
    assert.equal(headOf(await i2.submit(a.agentId, batch(3, 6))), ['ack', 5, 3], 'hub 2 read the head hub 1 stored')
    assert.equal(headOf(await i1.submit(a.agentId, batch(6, 9))), ['ack', 8, 3], 'hub 1 re-read its stale lane instead of nacking a gap')
    assert.equal(await i2.head(a.agentId), { seq: 8, hash: c[8]!.hash }, 'the head question is answered from the store')
  })
})

S('a resend of a batch another hub stored meanwhile, to a hub whose lane is behind: duplicates, not a replay attack', async () => {
  const hostile: string[] = []
  await twoHubs(6, [{}, { hooks: { rejected: (_id, p) => hostile.push(p.code) } }], async ({ db, a, batch }, i1, i2) => {
    // Hub 2 stores 0..2 (its lane is at #3); hub 1 stores 3..5; the device, missing that ack, sends 3..5 to hub 2.
    assert.ok('ack' in await i2.submit(a.agentId, batch(0, 3)))
    assert.ok('ack' in await i1.submit(a.agentId, batch(3, 6)))
    const out = await i2.submit(a.agentId, batch(3, 6))
    assert.ok('ack' in out, `acked as held events, got ${JSON.stringify(out)}`)
    const { head, stored, duplicates } = (out as { ack: { head: { seq: number }, stored: number, duplicates: number } }).ack
    assert.equal([head.seq, stored, duplicates], [5, 0, 3])
    assert.equal(hostile, [])
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n, 6)
  })
})

S('round robin: a batch reaching hub 2 while hub 1 is still writing the batch before it waits for that write, instead of a GAP nack and a resend of both', async () => {
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  // Hub 1's verification is held back, so its write of batch 1 lands only after batch 2 reached hub 2.
  const slow: Partial<IngestOptions> = { pool: { submit: async (_k, item) => { await held; return verifyBatch(item) } } }
  await twoHubs(6, [slow, {}], async ({ db, a, batch }, i1, i2) => {
    const first = i1.submit(a.agentId, batch(0, 3))
    const second = i2.submit(a.agentId, batch(3, 6))
    setTimeout(release, 100)
    assert.equal(headOf(await first), ['ack', 2, 3])
    assert.equal(headOf(await second), ['ack', 5, 3], 'hub 2 waited for hub 1\'s write, then stored its batch')
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n, 6)
  })
})

if (pgSkipReason) console.log(`skip hub stores sharing one PostgreSQL database: ${pgSkipReason}`)
else S.run()
