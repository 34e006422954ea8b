// The PostgreSQL store's own guarantees, against the real server of PCP_TEST_PG_URL (each test in a fresh
// database; skipped with the reason without one): the compare-and-set on the agent head between two
// stores (two hubs) racing at the same head, the ingest turning a lost race into a retry nack and the
// resend into an ack, one round trip per group of appends, and the versioned migrations.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, eventHash, type AissEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { PgHubStore } from '../hub/store/pg.js'
import { MIGRATIONS, SCHEMA_VERSION } from '../hub/store/pg-schema.js'
import { Ingest, type BatchOutcome } from '../hub/ingest.js'
import { newRecord } from '../hub/registry.js'
import type { AgentRecord } from '../hub/store/types.js'
import { createTestDb, pgSkipReason } from './support/pg.js'

const Pg = suite('hub store (PostgreSQL)')

function chain (id: Identity, n: number, tag: string, start = 0, prev: string | null = null): Array<{ event: AissEvent, hash: string, keyIndex: number }> {
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', tag, i: start + i }, { previousHash: prev, timestamp: 1_700_000_000 + start + i }); prev = r.hash; return { ...r, keyIndex: 0 } })
}
function after (rec: AgentRecord, items: Array<{ event: AissEvent, hash: string }>, count: number): AgentRecord {
  const last = items.at(-1)!
  return { ...rec, head: { seq: count - 1, hash: last.hash, timestamp: last.event.timestamp }, count }
}
const codeOf = (r: PromiseSettledResult<unknown>): string | undefined => r.status === 'rejected' ? (r.reason as { code?: string }).code : undefined

Pg('two hubs append at the same head at once: each round exactly one wins, the loser gets STORE_CONFLICT', async () => {
  const db = await createTestDb()
  const [h1, h2] = [await PgHubStore.open(db.url), await PgHubStore.open(db.url)]
  try {
    const a = Identity.generate()
    const rec = { ...newRecord(a.agentId, 'a', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] }
    await h1.putAgent(rec)
    await h2.reload(a.agentId)
    let head = -1; let prev: string | null = null
    const wins = [0, 0]
    for (let round = 0; round < 20; round++) {
      // Two different continuations of the same head (what two hubs would hold for a forking device,
      // or for the same batch seen twice): both sent before either is answered.
      const x = chain(a, 3, `x${round}`, head + 1, prev); const y = chain(a, 3, `y${round}`, head + 1, prev)
      const out = await Promise.allSettled([
        h1.append([{ agentId: a.agentId, expectedSeq: head, events: x, record: after(h1.agent(a.agentId)!, x, head + 4) }]),
        h2.append([{ agentId: a.agentId, expectedSeq: head, events: y, record: after(h2.agent(a.agentId)!, y, head + 4) }])
      ])
      const won = out.findIndex((r) => r.status === 'fulfilled')
      assert.ok(won >= 0, `round ${round}: one append succeeded`)
      assert.is(codeOf(out[1 - won]!), 'STORE_CONFLICT', `round ${round}: the other lost the race`)
      wins[won]!++
      const winner = won === 0 ? x : y
      // The loser re-reads its record (what ingest does after a conflict) and is at the winner's head.
      const loser = won === 0 ? h2 : h1
      assert.is(loser.agent(a.agentId)!.head!.hash, winner.at(-1)!.hash, 'the loser reloaded the winner\'s head')
      head += 3; prev = winner.at(-1)!.hash
    }
    const { rows } = await db.query('SELECT count(*)::int AS n, max(seq)::int AS top FROM pcp_events')
    assert.equal(rows[0], { n: 60, top: 59 }, 'each position written once')
    const back: AissEvent[] = []
    for await (const { event } of h2.events(a.agentId)) back.push(event)
    assert.is(back.length, 60)
    for (let i = 1; i < back.length; i++) assert.is(back[i]!.previous_hash, eventHash(back[i - 1]!), `#${i} links to #${i - 1}`)
    console.log(`  CAS races: hub 1 won ${wins[0]}, hub 2 won ${wins[1]} of 20`)
  } finally { await h1.close(); await h2.close(); await db.drop() }
})

Pg('ingest on the losing hub answers a retry nack, and the resend is acknowledged as duplicates', async () => {
  const db = await createTestDb()
  const [s1, s2] = [await PgHubStore.open(db.url), await PgHubStore.open(db.url)]
  const now = (): number => 1_700_001_000
  const [i1, i2] = [new Ingest({ store: s1, now }), new Ingest({ store: s2, now })]
  try {
    const a = Identity.generate()
    await s1.putAgent({ ...newRecord(a.agentId, 'a', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] })
    await s2.reload(a.agentId)
    const c = chain(a, 8, 'dev')
    const batch = (from: number, to: number): { from: number, ids: string[], records: Uint8Array[], topic: string } =>
      ({ from, ids: [a.agentId], records: c.slice(from, to).map((x) => encodeRecord(x.event, 0)), topic: 't' })
    const ack = (o: BatchOutcome): { seq: number, stored: number, duplicates: number } => {
      assert.ok('ack' in o, JSON.stringify(o)); const k = (o as { ack: { head: { seq: number }, stored: number, duplicates: number } }).ack
      return { seq: k.head.seq, stored: k.stored, duplicates: k.duplicates }
    }
    assert.equal(ack(await i1.submit(a.agentId, batch(0, 2))), { seq: 1, stored: 2, duplicates: 0 })
    assert.equal(ack(await i2.submit(a.agentId, batch(0, 2))), { seq: 1, stored: 0, duplicates: 2 }, 'hub 2 read the head from the store')
    // The device's next batch reaches both hubs (a rebalance): both check it against head #1.
    const out = await Promise.all([i1.submit(a.agentId, batch(2, 5)), i2.submit(a.agentId, batch(2, 5))])
    const won = out.findIndex((o) => 'ack' in o)
    assert.ok(won >= 0, JSON.stringify(out))
    assert.equal(ack(out[won]!), { seq: 4, stored: 3, duplicates: 0 })
    const lost = out[1 - won] as { nack: { code: string, message: string, retry: boolean } }
    assert.ok('nack' in lost, `the loser nacks: ${JSON.stringify(lost)}`)
    assert.is(lost.nack.retry, true, 'the device is told to retry')
    assert.match(lost.nack.message, /STORE_CONFLICT/)
    // The device resends to the hub that lost: it now knows the head and takes it as held.
    const loser = won === 0 ? i2 : i1
    assert.equal(ack(await loser.submit(a.agentId, batch(2, 5))), { seq: 4, stored: 0, duplicates: 3 })
    assert.equal(ack(await loser.submit(a.agentId, batch(5, 8))), { seq: 7, stored: 3, duplicates: 0 })
    const { rows } = await db.query('SELECT array_agg(seq::int ORDER BY seq) AS seqs, (SELECT count(*)::int FROM pcp_nonces) AS nonces FROM pcp_events')
    assert.equal(rows[0], { seqs: [0, 1, 2, 3, 4, 5, 6, 7], nonces: 8 }, '0 lost, 0 duplicated')
  } finally { await s1.close(); await s2.close(); await db.drop() }
})

Pg('appends queued while a write is in flight leave as one call (one round trip, one commit)', async () => {
  const db = await createTestDb()
  const store = await PgHubStore.open(db.url)
  try {
    const ids = Array.from({ length: 50 }, () => Identity.generate())
    for (const [i, id] of ids.entries()) await store.putAgent({ ...newRecord(id.agentId, `d${i}`, 'allowed', i), keys: [{ agentId: id.agentId, publicKey: id.publicKey }] })
    const chains = ids.map((id) => chain(id, 20, 'g'))
    await Promise.all(ids.map((id, i) => store.append([{ agentId: id.agentId, expectedSeq: -1, events: chains[i]!, record: after(store.agent(id.agentId)!, chains[i]!, 20) }])))
    // xmin is the id of the transaction that inserted a row: the first append went alone, the other 49,
    // queued behind it, in one call.
    const { rows } = await db.query('SELECT count(DISTINCT xmin::text)::int AS n FROM pcp_events')
    assert.is(rows[0].n, 2, `${rows[0].n} transactions for 50 appends of 20 events`)
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n, 1000)
  } finally { await store.close(); await db.drop() }
})

Pg('migrations: a fresh database gets every one, a second start applies none, a newer schema is refused', async () => {
  const db = await createTestDb()
  try {
    let store = await PgHubStore.open(db.url)
    await store.close()
    const { rows } = await db.query('SELECT version, name FROM pcp_schema_migrations ORDER BY version')
    assert.equal(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
    store = await PgHubStore.open(db.url)
    await store.close()
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_schema_migrations')).rows[0].n, MIGRATIONS.length)
    await db.query("INSERT INTO pcp_schema_migrations (version, name) VALUES ($1, 'from a newer hub')", [SCHEMA_VERSION + 1])
    try {
      await PgHubStore.open(db.url)
      assert.unreachable('a newer schema must be refused')
    } catch (err) {
      const e = err as { code?: string, message: string, actual?: number, expected?: number }
      assert.is(e.code, 'STORE_SCHEMA_NEWER', e.message)
      assert.equal([e.actual, e.expected], [SCHEMA_VERSION + 1, SCHEMA_VERSION])
      assert.match(e.message, `schema version ${SCHEMA_VERSION + 1}, newer than this hub's ${SCHEMA_VERSION}`)
      assert.not.match(e.message, /password/)
    }
  } finally { await db.drop() }
})

Pg('a migration that fails leaves the database at the version before it, and says which one', async () => {
  const db = await createTestDb()
  try {
    const { migrate } = await import('../hub/store/pg-schema.js')
    const pgm = (await import('pg')).default
    const pool = new pgm.Pool({ connectionString: db.url, max: 1 })
    try {
      const broken = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE pcp_half (x int); SELECT no_such_function()' }]
      try { await migrate(pool, 'test', broken); assert.unreachable() } catch (err) {
        assert.is((err as { code?: string }).code, 'STORE_MIGRATION_FAILED')
        assert.match((err as Error).message, `migration ${SCHEMA_VERSION + 1} (broken)`)
      }
      assert.is((await db.query('SELECT max(version)::int AS v FROM pcp_schema_migrations')).rows[0].v, SCHEMA_VERSION)
      assert.is((await db.query("SELECT to_regclass('pcp_half') AS t")).rows[0].t, null, 'nothing of the failed migration is left')
    } finally { await pool.end() }
  } finally { await db.drop() }
})

Pg('a database at an older schema version is upgraded at start and takes appends', async () => {
  const db = await createTestDb()
  try {
    const { migrate } = await import('../hub/store/pg-schema.js')
    const pgm = (await import('pg')).default
    const pool = new pgm.Pool({ connectionString: db.url, max: 1 })
    try { assert.equal(await migrate(pool, 'test', MIGRATIONS.slice(0, -1)), MIGRATIONS.slice(0, -1).map((m) => m.version)) } finally { await pool.end() }
    const store = await PgHubStore.open(db.url)
    try {
      assert.is((await db.query('SELECT max(version)::int AS v FROM pcp_schema_migrations')).rows[0].v, SCHEMA_VERSION)
      const a = Identity.generate()
      const rec = { ...newRecord(a.agentId, 'a', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] }
      await store.putAgent(rec)
      const c = chain(a, 4, 'up')
      await store.append([{ agentId: a.agentId, expectedSeq: -1, events: c, record: after(rec, c, 4) }])
      const { rows } = await db.query('SELECT seq::int, record FROM pcp_events ORDER BY seq')
      assert.equal(rows.map((r) => Buffer.from(r.record as Uint8Array).equals(Buffer.from(encodeRecord(c[r.seq as number]!.event, 0)))), [true, true, true, true], 'each row holds its record bytes')
      assert.equal(await store.noncesUsed(a.agentId, c.map((x) => ({ signer: a.agentId, nonce: x.event.nonce }))), [0, 1, 2, 3])
    } finally { await store.close() }
  } finally { await db.drop() }
})

Pg('a write that fails while the database cannot be read either leaves the view at the last committed head, not the failed one', async () => {
  const db = await createTestDb()
  const store = await PgHubStore.open(db.url)
  try {
    const a = Identity.generate()
    const rec = { ...newRecord(a.agentId, 'a', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] }
    await store.putAgent(rec)
    const c = chain(a, 6, 'w')
    await store.append([{ agentId: a.agentId, expectedSeq: -1, events: c.slice(0, 3), record: after(rec, c.slice(0, 3), 3) }])
    // The write and the re-read both fail (what a lost connection does to both).
    await db.query('ALTER TABLE pcp_agents RENAME TO pcp_agents_away')
    let code: string | undefined
    try { await store.append([{ agentId: a.agentId, expectedSeq: 2, events: c.slice(3), record: after(store.agent(a.agentId)!, c.slice(3), 6) }]) } catch (err) { code = (err as { code?: string }).code }
    assert.is(code, 'STORE_WRITE_FAILED')
    assert.is(store.agent(a.agentId)!.head!.seq, 2, 'the view kept the committed head, not #5')
    assert.is(store.failure?.code, 'STORE_WRITE_FAILED')
    await db.query('ALTER TABLE pcp_agents_away RENAME TO pcp_agents')
    await store.append([{ agentId: a.agentId, expectedSeq: 2, events: c.slice(3), record: after(store.agent(a.agentId)!, c.slice(3), 6) }])
    assert.is(store.failure, null, 'a successful write clears the failure')
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n, 6)
  } finally { await store.close(); await db.drop() }
})

Pg('an unreachable server is refused at start with STORE_UNREACHABLE, naming it without the password', async () => {
  try {
    await PgHubStore.open('postgres://someone:s3cret@127.0.0.1:1/nodb')
    assert.unreachable()
  } catch (err) {
    assert.is((err as { code?: string }).code, 'STORE_UNREACHABLE')
    assert.match((err as Error).message, 'postgres://someone@127.0.0.1:1/nodb')
    assert.not.match((err as Error).message, 's3cret')
  }
})

if (pgSkipReason) console.log(`skip hub store (PostgreSQL): ${pgSkipReason}`)
else Pg.run()
