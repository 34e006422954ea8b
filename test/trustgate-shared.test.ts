// TrustGate on several hubs (issue 20): two hubs as `pcp hub start` wires them, on one PostgreSQL database
// (PCP_TEST_PG_URL, fresh) and one Mosquitto shared subscription (PCP_TEST_MQTT_URL, round robin). The
// queue, the journal and the policy versions are the store's (hub/trustgate/pg-state.ts), so a decision
// queued through one hub is listed, answered and awaited through the other; decisions from both hubs make
// one journal that verifies as a chain; an activation on one is what the other evaluates with; and all of
// it still holds after the server ended every connection of the hubs. Skipped, with the reason, without
// PostgreSQL or an external broker.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import { Agent, Identity, findForks, verifyAuditExport, type AissEvent } from '../runtime/index.js'
import { SyncAgent } from '../sync/agent.js'
import { DeviceGate } from '../sync/gate.js'
import { hubKeyOf, verifyHubEvent } from '../sync/gate-wire.js'
import { startHubServices, type HubServices } from '../hub/services.js'
import { PgTrustGateState } from '../hub/trustgate/pg-state.js'
import { PrincipalStore } from '../hub/trustgate/principal-store.js'
import { PcpError } from '../runtime/errors.js'
import { shareHubIdentity, until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'
import { createTestDb, pgSkipReason, type TestDb } from './support/pg.js'

const S = suite('trustgate: several hubs on one store answer the same')
const MQTT_URL = process.env.PCP_TEST_MQTT_URL
const skip = pgSkipReason ?? (MQTT_URL ? null : 'PCP_TEST_MQTT_URL is not set (no external broker with shared subscriptions; the embedded one has none)')
const TOKEN = 'tok-0123456789abcdef'

const POLICY = `
name: shared-test
version: "1"
thresholds: { vrs_require_human: 0.6, vrs_block: 0.85 }
roles:
  operator:
    allowed_tools: [read_db, move_arm]
    blocked_tools: [shell]
network: { block_external: false }
notification: { timeout_seconds: 120, on_timeout: REJECT }
dangerous_patterns: ['rm\\s+-rf']
`

interface World {
  db: TestDb
  tmp: ReturnType<typeof tmpDir>
  a: HubServices
  b: HubServices
  prefix: string
  /** An L3 principal, created through hub A (the principals are the store's too). */
  token: string
  close: () => Promise<void>
}

let world: World | undefined

async function start (): Promise<World> {
  const db = await createTestDb()
  const tmp = tmpDir('pcp-tg-shared-')
  const prefix = `tgs-${randomBytes(4).toString('hex')}/v1`
  const group = `pcp-tgs-${randomBytes(4).toString('hex')}`
  const dirs = [join(tmp.path, 'hub0'), join(tmp.path, 'hub1')]
  await shareHubIdentity(dirs)
  const hubs: HubServices[] = []
  for (const dataDir of dirs) {
    hubs.push(await startHubServices({
      dataDir, store: db.url, mqttUrl: MQTT_URL!, shareGroup: group, prefix, workers: 0, control: false, initialPolicy: POLICY,
      vigilApi: false, trustgateApi: { port: 0, token: TOKEN }
    }))
  }
  const [a, b] = hubs as [HubServices, HubServices]
  const { principal, token } = await a.trustgate.principals.create({ name: 'alice', clearance: 'L3', createdBy: 'test', now: a.trustgate.now() })
  await until(() => b.trustgate.principals.get(principal.id) !== undefined, 3000, 'hub B knows alice')
  return {
    db, tmp, a, b, prefix, token,
    async close () { for (const h of hubs) await h.close(); tmp.cleanup(); await db.drop() }
  }
}

async function api (h: HubServices, path: string, body?: unknown, principal?: string): Promise<{ status: number, json: Record<string, unknown> }> {
  const r = await fetch(h.trustgateUrl! + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(principal ? { 'x-trustgate-principal': principal } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: r.status, json: await r.json() as Record<string, unknown> }
}

const risky = (agentId: string): Record<string, unknown> => ({ agent_id: agentId, action: 'move_arm', role: 'operator', vrs: 0.7, payload: { joint: 2 } })

S('a decision queued through hub A is listed by hub B, approved through B, and A\'s waiter gets the approval, signed by the hub key', async () => {
  world = await start()
  const { a, b, token } = world
  const queued = await api(a, '/api/evaluate', risky('arm-1'))
  assert.is(queued.status, 200)
  assert.is(queued.json.outcome, 'REQUIRE_HUMAN')
  const id = String(queued.json.decision_id)
  const listA = (await api(a, '/api/decisions')).json
  const listB = (await api(b, '/api/decisions')).json
  assert.is(listB.total, 1, 'hub B lists the decision queued on hub A')
  assert.equal(listB, listA, 'the same content from both hubs')
  assert.equal((await api(b, `/api/decisions/${id}`)).json, (await api(a, `/api/decisions/${id}`)).json)

  const waiting = a.trustgate.waitForResolution(id, 10_000)
  const ok = await api(b, `/api/decisions/${id}/approve`, { justification: 'checked on hub B' }, token)
  assert.is(ok.status, 200, JSON.stringify(ok.json))
  const t0 = Date.now()
  const rec = await waiting
  assert.equal([rec?.state, rec?.final_outcome, rec?.allowed], ['APPROVED', 'ALLOW', true], 'the waiter on hub A has the decision made through hub B')
  console.log(`  hub A heard hub B's approval ${Date.now() - t0} ms after B answered`)
  const key = hubKeyOf(a.hub.agent.publicKey)
  assert.is(verifyHubEvent(rec!.resolution_event, key), null, 'the approval is signed by the hub key a device pins')
  assert.is(verifyHubEvent(rec!.decision_event, key), null)
  // Neither hub can answer it twice.
  const again = await api(a, `/api/decisions/${id}/approve`, { justification: 'again' }, token)
  assert.is(again.json.code, 'DECISION_RESOLVED')
})

S('a device on the round-robin subscription waits for a human; whichever hub gets each message, the approval through the other one reaches it', async () => {
  const { a, b, prefix, token } = world!
  const tmp = tmpDir('pcp-tg-shared-dev-')
  const device = await Agent.open({ name: 'robot' }, { home: tmp.path })
  const sync = await SyncAgent.start({ url: MQTT_URL!, prefix, agents: [device], ackTimeoutMs: 2000, statusFile: false })
  const client = await mqtt.connectAsync(MQTT_URL!, { clientId: `robot-${randomBytes(4).toString('hex')}`, protocolVersion: 4, reconnectPeriod: 0 })
  try {
    await device.stamp('boot', {})
    await until(() => a.hub.store.agent(device.agentId)?.state === 'pending', 15_000, 'the hubs know the device')
    await a.hub.approve(device.agentId, { role: 'operator' })
    await until(() => b.hub.registry.state(device.agentId) === 'allowed', 5000, 'hub B sees the approval')
    // Vigil's view of the device is each hub's own (recomputable); here both say: risky.
    for (const h of [a, b]) h.trustgate.ingestAgentState({ agent_id: device.agentId, vrs: 0.7, tsi_state: 'STABLE' })
    const gate = await DeviceGate.open({ client, agent: device, hub: a.hub.agent.identityDocument(), prefix })
    const asked = gate.check('move_arm', { joint: 3 }, { role: 'operator', approvalWaitMs: 20_000 })
    let pending: Array<{ decision_id: string, agent_id: string }> = []
    await until(async () => { pending = ((await api(b, '/api/decisions')).json.decisions as typeof pending).filter((d) => d.agent_id === device.agentId); return pending.length === 1 }, 10_000, 'the device\'s request in hub B\'s queue')
    const byA = a.trustgate.lookup(pending[0]!.decision_id) !== undefined
    const ok = await api(b, `/api/decisions/${pending[0]!.decision_id}/approve`, { justification: 'fine' }, token)
    assert.is(ok.status, 200)
    const verdict = await asked
    assert.equal([verdict.allowed, verdict.state, verdict.source], [true, 'APPROVED', 'hub'], verdict.reason)
    console.log(`  device approved through hub B (hub A held the request: ${byA})`)
    await gate.close()
  } finally { await client.endAsync(); await sync.close(); await device.close(); tmp.cleanup() }
})

S('decisions from both hubs at once make one journal: no fork, every entry once, and it verifies as a chain', async () => {
  const { a, b } = world!
  const before = (await a.trustgate.journalEvents()).length
  const N = 40
  const asks: Array<Promise<unknown>> = []
  for (let i = 0; i < N; i++) {
    for (const h of [a, b]) asks.push(h.trustgate.evaluate({ agent_id: `dev-${i % 5}`, action: i % 3 === 0 ? 'shell' : 'read_db', role: 'operator', vrs: i % 4 === 0 ? 0.7 : 0.1 }, { source: 'api' }))
  }
  const t0 = performance.now()
  await Promise.all(asks)
  const ms = performance.now() - t0
  const lost = [a, b].map((h) => (h.trustgate.state as PgTrustGateState).conflicts)
  assert.ok(lost[0]! + lost[1]! > 0, 'the hubs raced for the journal head (the path that re-reads and decides again ran)')
  const counted = await Promise.all([a, b].map(async (h) => Number(/^pcp_trustgate_journal_races_total (\d+)$/m.exec(await h.hub.metrics.render())?.[1])))
  assert.equal(counted, lost, 'and counted them on /metrics')
  const journal = await b.trustgate.journalEvents()
  const decisions = journal.slice(before).filter((e) => e.payload.event_type === 'trustgate.decision')
  assert.is(decisions.length, 2 * N, 'every decision journalled once')
  assert.equal(findForks(journal), [], 'no two entries on one previous entry')
  const exported = verifyAuditExport(JSON.parse(JSON.stringify(await a.trustgate.auditExport())))
  assert.ok(exported.usable && exported.report.valid, 'the exported journal verifies as pcp verify checks it')
  assert.is(exported.report.event_count, journal.length)
  assert.is((await a.trustgate.audit()).chain_valid, true)
  assert.equal((await api(a, '/api/decisions')).json, (await api(b, '/api/decisions')).json, 'the same queue from both hubs')
  console.log(`  ${2 * N} decisions from 2 hubs at once in ${Math.round(ms)} ms (${Math.round(2 * N / (ms / 1000))}/s), one journal of ${journal.length} entries; appends that lost the race and were decided again: ${lost.join(' + ')}`)
})

S('a policy activated through hub A is the one hub B shows and evaluates with', async () => {
  const { a, b, token } = world!
  const next = POLICY.replace('name: shared-test', 'name: shared-test-2').replace('allowed_tools: [read_db, move_arm]', 'allowed_tools: [read_db, move_arm, write_db]')
  const r = await api(a, '/api/policy', { yaml: next, comment: 'add write_db' }, token)
  assert.is(r.status, 201, JSON.stringify(r.json))
  const version = String(r.json.version)
  const t0 = Date.now()
  await until(() => b.trustgate.policy?.hash === version, 3000, 'hub B evaluates with the new policy')
  console.log(`  hub B took the activation made through hub A within ${Date.now() - t0} ms`)
  const pb = (await api(b, '/api/policy')).json
  assert.is(pb.content_hash, version)
  assert.equal((await api(b, '/api/policy/versions')).json, (await api(a, '/api/policy/versions')).json)
  const d = await api(b, '/api/evaluate', { agent_id: 'dev-x', action: 'write_db', role: 'operator', vrs: 0.1 })
  assert.equal([d.json.outcome, d.json.policy_hash], ['ALLOW', version])
})

S('after the server ended every connection of both hubs, a decision queued on B and approved through A reaches B\'s waiter, and activations still travel', async () => {
  const { a, b, db, token } = world!
  const { rows } = await db.query('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
  assert.ok(rows[0].n >= 4, `terminated ${rows[0].n} connections`)
  const t0 = Date.now()
  let id = ''
  await until(async () => {
    const q = await api(b, '/api/evaluate', risky('arm-2'))
    if (q.status !== 200) return false
    id = String(q.json.decision_id); return true
  }, 10_000, 'hub B decides again')
  const waiting = b.trustgate.waitForResolution(id, 10_000)
  await until(async () => (await api(a, `/api/decisions/${id}/approve`, { justification: 'after the outage' }, token)).status === 200, 10_000, 'hub A approves')
  const rec = await waiting
  assert.is(rec?.state, 'APPROVED')
  await api(b, '/api/policy', { yaml: POLICY, comment: 'back' }, token)
  await until(() => a.trustgate.policy?.policy.name === 'shared-test', 5000, 'hub A takes the activation made through hub B')
  console.log(`  converged ${Date.now() - t0} ms after pg_terminate_backend`)
  const exported = verifyAuditExport(JSON.parse(JSON.stringify(await b.trustgate.auditExport())))
  assert.ok(exported.usable && exported.report.valid)
  assert.equal(findForks(await a.trustgate.journalEvents() as AissEvent[]), [])
})

S('principals are the same on both hubs: one deactivated through A cannot answer through B; one added to a hub\'s principals.json (the bootstrap path) is known to both', async () => {
  const { a, b, token, tmp } = world!
  const made = await api(a, '/api/principals', { name: 'bob', clearance: 'L2' }, token)
  assert.is(made.status, 201, JSON.stringify(made.json))
  const bob = String(made.json.token)
  assert.equal((await api(b, '/api/principals')).json, (await api(a, '/api/principals')).json, 'the same principals from both hubs')
  const q = await api(a, '/api/evaluate', risky('arm-3'))
  const id = String(q.json.decision_id)
  assert.is((await api(a, `/api/principals/${String(made.json.id)}/deactivate`, {}, token)).status, 200)
  const refused = await api(b, `/api/decisions/${id}/approve`, { justification: 'bob tries' }, bob)
  assert.is(refused.json.code, 'PRINCIPAL_INACTIVE', 'hub B refuses a principal deactivated through hub A at once')
  assert.is((await api(b, `/api/decisions/${id}/reject`, { reason: 'no' }, token)).status, 200)
  // As `pcp trustgate principal add` does on the hub's machine: straight into hub B's file.
  const file = PrincipalStore.open(join(tmp.path, 'hub1', 'trustgate'))
  const carol = file.create({ name: 'carol', clearance: 'L1', createdBy: 'cli', now: 0 })
  await until(() => a.trustgate.principals.get(carol.principal.id) !== undefined, 5000, 'hub A knows the principal added to hub B\'s file')
})

S('a hub with another key cannot sign the store\'s journal: TRUSTGATE_IDENTITY_MISMATCH', async () => {
  const { db } = world!
  const other = Identity.generate()
  try {
    await PgTrustGateState.open({ url: db.url, identity: other, document: other.document(), principalsFile: PrincipalStore.open(join(world!.tmp.path, 'other')) })
    assert.unreachable('opened')
  } catch (err) {
    assert.instance(err, PcpError)
    assert.is((err as PcpError).code, 'TRUSTGATE_IDENTITY_MISMATCH')
  }
})

S('a journal row written into the database without the key is refused, not obeyed', async () => {
  const { a, b, db } = world!
  const forger = Identity.generate()
  const last = (await db.query('SELECT seq, event FROM pcp_tg_journal ORDER BY seq DESC LIMIT 1')).rows[0] as { seq: string, event: string }
  const prev = JSON.parse(last.event) as AissEvent
  const { stampEvent, eventHash } = await import('../runtime/event.js')
  const { event } = stampEvent(forger, { event_type: 'trustgate.policy_attested', version: 'f'.repeat(64), policy_version: 'x', seq: 1, at: 0 }, { previousHash: eventHash(prev), timestamp: prev.timestamp })
  const forged = { ...event, agent_id: prev.agent_id }
  await db.query('INSERT INTO pcp_tg_journal (seq, hash, event) VALUES ($1, $2, $3)', [Number(last.seq) + 1, eventHash(forged), JSON.stringify(forged)])
  for (const h of [a, b]) {
    try { await h.trustgate.sync(); assert.unreachable('read') } catch (err) { assert.is((err as PcpError).code, 'STORE_CORRUPTED') }
  }
  assert.is((await a.trustgate.audit()).chain_valid, false, 'the audit says so too')
  await world!.close()
})

if (skip) console.log(`skip trustgate shared test: ${skip}`)
else S.run()
