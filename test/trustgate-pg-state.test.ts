// TrustGate services on one PostgreSQL store (hub/trustgate/pg-state.ts), without hubs around them, so the
// races a fleet meets now and then are made to happen every time: an approval through one hub while the
// other times the request out (their clocks a little apart), one device request reaching both hubs (an
// MQTT resend), and decisions that feed the escalation state on both. Each service has its own state,
// pool, listener and clock, which the test moves. Real PostgreSQL (PCP_TEST_PG_URL, a fresh database); skipped, with the reason,
// without it.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Identity, findForks } from '../runtime/index.js'
import { PgHubStore } from '../hub/store/pg.js'
import { PgTrustGateState } from '../hub/trustgate/pg-state.js'
import { PrincipalStore } from '../hub/trustgate/principal-store.js'
import { createTrustGateService, type TrustGateService } from '../hub/trustgate/service.js'
import { PcpError } from '../runtime/errors.js'
import { tmpDir } from './helpers.js'
import { createTestDb, pgSkipReason, type TestDb } from './support/pg.js'

const S = suite('trustgate pg state: races between hubs')

const POLICY = `
name: race-test
version: "1"
thresholds: { vrs_require_human: 0.6, vrs_block: 0.85 }
roles:
  operator:
    allowed_tools: [read_db, move_arm]
network: { block_external: false }
notification: { timeout_seconds: 60, on_timeout: REJECT }
`

interface Pair { a: TrustGateService, b: TrustGateService, clocks: { a: number, b: number }, db: TestDb, close: () => Promise<void> }

async function pair (): Promise<Pair> {
  const db = await createTestDb()
  const tmp = tmpDir('pcp-tg-pg-')
  await (await PgHubStore.open(db.url, { notifications: false })).close() // the migrations, as a hub's start applies them
  const seed = randomBytes(32)
  const clocks = { a: 1_800_000_000_000, b: 1_800_000_000_000 }
  const open = async (name: 'a' | 'b'): Promise<TrustGateService> => {
    const clock = { get ms () { return clocks[name] } }
    const identity = Identity.fromSeed(new Uint8Array(seed), { createdAt: 1_700_000_000 })
    const state = await PgTrustGateState.open({ url: db.url, identity, document: identity.document(), principalsFile: PrincipalStore.open(join(tmp.path, name)), clock: () => clock.ms })
    return await createTrustGateService({ dir: join(tmp.path, name), state, initialPolicy: POLICY, expiryIntervalMs: 0, clock: () => clock.ms })
  }
  const a = await open('a')
  const b = await open('b')
  return { a, b, clocks, db, async close () { await a.close(); await b.close(); tmp.cleanup(); await db.drop() } }
}

S('an approval through one hub racing the other hub\'s timeout: exactly one of them happens, and both hubs say which', async () => {
  const p = await pair()
  try {
    const { principal } = await p.a.principals.create({ name: 'alice', clearance: 'L3', createdBy: 'test', now: p.a.now() })
    await p.b.principals.refresh!()
    let approved = 0; let timedOut = 0
    for (let round = 0; round < 10; round++) {
      const rec = await p.a.evaluate({ agent_id: `arm-${round}`, action: 'move_arm', vrs: 0.7 }, { source: 'api' })
      assert.is(rec.state, 'PENDING')
      const id = rec.decision.decision_id
      // Hub A's clock is past the TTL, hub B's is not (clocks a little apart): both may act, one must lose.
      p.clocks.a += 61_000; p.clocks.b += 59_000
      const [exp, ans] = await Promise.allSettled([p.a.expire(), p.b.approve(id, p.b.principals.get(principal.id), 'ok')])
      assert.is(exp.status, 'fulfilled')
      if (ans.status === 'fulfilled') approved++
      else {
        assert.instance(ans.reason, PcpError)
        assert.is((ans.reason as PcpError).code, 'DECISION_TIMED_OUT', (ans.reason as Error).message)
        timedOut++
      }
      await p.a.sync(); await p.b.sync()
      const [ra, rb] = [p.a.lookup(id)!, p.b.lookup(id)!]
      assert.equal([rb.state, rb.final_outcome], [ra.state, ra.final_outcome], 'both hubs hold the same outcome')
      assert.ok(ra.state === 'APPROVED' || ra.state === 'TIMED_OUT')
    }
    const journal = await p.a.journalEvents()
    const resolutions = journal.filter((e) => ['trustgate.approved', 'trustgate.timed_out'].includes(String(e.payload.event_type)))
    assert.is(resolutions.length, 10, 'one resolution per request, never both')
    assert.equal(findForks(journal), [])
    assert.is((await p.b.audit()).chain_valid, true)
    console.log(`  10 races: ${approved} approved first, ${timedOut} timed out first`)
  } finally { await p.close() }
})

S('one device request reaching both hubs (a resend) is decided once; both answer with the same journalled decision', async () => {
  const p = await pair()
  try {
    for (let i = 0; i < 10; i++) {
      const id = `dec-${randomBytes(20).toString('hex')}`
      const input = { agent_id: 'arm', action: 'read_db', vrs: 0.1 }
      const [ra, rb] = await Promise.all([p.a.evaluate(input, { source: 'gate', decisionId: id }), p.b.evaluate(input, { source: 'gate', decisionId: id })])
      assert.equal(rb.decision_event, ra.decision_event, 'the same signed event from both')
    }
    const decisions = (await p.a.journalEvents()).filter((e) => e.payload.event_type === 'trustgate.decision')
    assert.is(decisions.length, 10, 'each request journalled once')
  } finally { await p.close() }
})

S('the escalation state follows every hub\'s decisions: both hubs simulate the same answer afterwards', async () => {
  const p = await pair()
  try {
    const asks = []
    for (let i = 0; i < 12; i++) asks.push((i % 2 ? p.a : p.b).evaluate({ agent_id: 'arm', action: i % 3 ? 'read_db' : 'shell', vrs: 0.3 }, { source: 'api' }))
    await Promise.all(asks)
    await p.a.sync(); await p.b.sync()
    const ask = { agent_id: 'arm', action: 'read_db', vrs: 0.3 }
    const [sa, sb] = [p.a.simulate(ask), p.b.simulate(ask)]
    const strip = (d: Record<string, unknown>): Record<string, unknown> => { const { decision_id: _i, request_id: _r, timestamp: _t, ...rest } = d; return rest }
    assert.equal(strip(sb as unknown as Record<string, unknown>), strip(sa as unknown as Record<string, unknown>))
  } finally { await p.close() }
})

if (pgSkipReason) console.log(`skip trustgate pg state test: ${pgSkipReason}`)
else S.run()
