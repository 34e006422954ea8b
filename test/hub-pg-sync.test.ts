// A device syncing through the hub's embedded broker (real MQTT over TCP) into a hub whose store is
// PostgreSQL (PCP_TEST_PG_URL, a database of its own; skipped with the reason without one), and the same
// chain into a hub on LevelDB: the two exports are byte-identical and verify, and a store reopened from
// the database alone exports the same bytes again.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent, verifyAuditExport, parseJson } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { PgHubStore } from '../hub/store/pg.js'
import { StoreChainView } from '../hub/store/view.js'
import type { ChainView } from '../hub/chain-view.js'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { until } from './support/hub-helpers.js'
import { tmpDir, ROOT } from './helpers.js'
import { createTestDb, pgSkipReason } from './support/pg.js'

const S = suite('hub on PostgreSQL ↔ device')
const NOW = 1_800_000_000

async function exportText (chain: ChainView, agentId: string): Promise<string> {
  let text = ''
  for await (const chunk of (await chain.exportChain(agentId, { now: NOW }))!) text += chunk
  return text
}

async function syncInto (hub: Hub, agent: Agent): Promise<void> {
  const sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [agent], ackTimeoutMs: 2000, batchSize: 100, statusFile: false })
  try { await sync.flush(30_000) } finally { await sync.close() }
}

S('a chain with a key rotation synced into PostgreSQL exports byte-identical to the LevelDB hub, and verifies', async () => {
  const db = await createTestDb()
  const tmp = tmpDir()
  const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
  const chainId = agent.agentId
  let pgHub: Hub | undefined; let levelHub: Hub | undefined
  try {
    for (let i = 0; i < 400; i++) await agent.stamp('tick', { i, reading: i / 7 })
    pgHub = await Hub.start({ dataDir: join(tmp.path, 'hub-pg'), store: db.url, port: 0, approval: 'auto', workers: 1, control: false })
    await syncInto(pgHub, agent)
    await agent.rotate()
    for (let i = 0; i < 150; i++) await agent.stamp('after_rotation', { i })
    await syncInto(pgHub, agent)
    assert.is(pgHub.chain.status(chainId)!.eventCount, 551, '400 + rotation + 150')
    assert.is(pgHub.store.path.startsWith('postgres://'), true, 'the hub runs on the PostgreSQL store')
    const fromPg = await exportText(pgHub.chain, chainId)
    await pgHub.close(); pgHub = undefined
    const rows = (await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n
    assert.is(rows, 551, 'every event is a row in PostgreSQL')

    levelHub = await Hub.start({ dataDir: join(tmp.path, 'hub-level'), port: 0, approval: 'auto', workers: 1, control: false })
    await syncInto(levelHub, agent)
    assert.is(levelHub.chain.status(chainId)!.eventCount, 551)
    const fromLevel = await exportText(levelHub.chain, chainId)
    assert.ok(fromPg === fromLevel, 'the export from PostgreSQL is byte-identical to the one from LevelDB')
    const check = verifyAuditExport(parseJson(fromPg))
    assert.ok(check.usable && check.report.valid && check.report.event_count === 551, JSON.stringify(check))

    // Nothing of it was held only in the hub's memory: a store opened on the database exports it again.
    const store = await PgHubStore.open(db.url)
    try {
      const view = new StoreChainView(store, async () => { throw new Error('read-only') })
      assert.ok((await exportText(view, chainId)) === fromPg, 're-read from the database, the same bytes')
    } finally { await store.close() }
  } finally {
    await pgHub?.close(); await levelHub?.close(); await agent.close(); tmp.cleanup(); await db.drop()
  }
})

const CLI = join(ROOT, 'test/support/hub-cli.ts')

S('pcp hub start --store postgres://… ingests into the database, pcp hub approve reaches it while it runs, status --store reads it when stopped; a store that is not a postgres URL, or does not answer, is refused', async () => {
  const bad = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--store', 'mysql://u:pw@h/db', '--no-api', '--port', '0'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
  assert.is(bad.status, 2, bad.stderr)
  assert.match(bad.stderr, /--store expected a postgres:\/\/ or postgresql:\/\/ URL, got "mysql:\/\/u:\*\*\*@h\/db" \[ARGUMENT_INVALID\]/)
  const tmp = tmpDir()
  const down = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--data', join(tmp.path, 'x'), '--store', 'postgres://pcp:pw@127.0.0.1:1/db', '--no-api', '--port', '0'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
  assert.ok(down.status !== 0, down.stderr)
  assert.match(down.stderr, /cannot reach the hub store postgres:\/\/pcp@127\.0\.0\.1:1\/db.*\[STORE_UNREACHABLE\]/)
  assert.not.match(down.stderr, /pw@/)

  const db = await createTestDb()
  const hub = spawn(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--data', join(tmp.path, 'hub'), '--store', db.url, '--no-api', '--port', '0', '--json', '--log-level', 'silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''; let err = ''
  hub.stdout.on('data', (d) => { out += d }); hub.stderr.on('data', (d) => { err += d })
  const agent = await Agent.open({ name: 'drill' }, { home: join(tmp.path, 'dev') })
  try {
    const deadline = Date.now() + 20_000
    while (!out.includes('\n') && Date.now() < deadline && hub.exitCode === null) await new Promise((r) => setTimeout(r, 50))
    const info = JSON.parse(out.split('\n')[0]!) as { mqtt: string }
    for (let i = 0; i < 120; i++) await agent.stamp('tick', { i })
    const sync = await SyncAgent.start({ url: info.mqtt, agents: [agent], ackTimeoutMs: 2000, batchSize: 50, statusFile: false })
    try {
      await until(() => sync.status().agents[0]!.phase === 'pending', 15_000, 'pending')
      // The running hub holds no LevelDB lock: approve must reach it (the inbox), not a LevelDB store.
      const approve = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'hub', 'approve', agent.agentId, '--data', join(tmp.path, 'hub'), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
      assert.is(approve.status, 0, approve.stderr)
      await sync.flush(30_000)
    } finally { await sync.close() }
    assert.not.ok(existsSync(join(tmp.path, 'hub', 'store')), 'no LevelDB store was created beside the PostgreSQL one')
    assert.is((await db.query('SELECT head_seq::int AS h FROM pcp_agents WHERE agent_id = $1', [agent.agentId])).rows[0]?.h, 119, 'the head in PostgreSQL')
    assert.is((await db.query('SELECT count(*)::int AS n FROM pcp_events')).rows[0].n, 120)
    hub.kill('SIGTERM'); await once(hub, 'exit')
    // Stopped: status reads the database it is pointed at.
    const st = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'hub', 'status', '--data', join(tmp.path, 'hub'), '--store', db.url, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
    assert.is(st.status, 0, st.stderr)
    const report = JSON.parse(st.stdout) as { running: boolean, agents: Array<{ agentId: string, state: string, eventCount: number }> }
    assert.equal([report.running, report.agents.map((a) => [a.agentId, a.state, a.eventCount])], [false, [[agent.agentId, 'allowed', 120]]])
  } catch (e) { throw new Error(`${(e as Error).message}\nhub stdout: ${out}\nhub stderr: ${err}`) } finally {
    if (hub.exitCode === null) { hub.kill('SIGTERM'); await once(hub, 'exit') }
    await agent.close(); tmp.cleanup(); await db.drop()
  }
})

if (pgSkipReason) console.log(`skip hub on PostgreSQL ↔ device: ${pgSkipReason}`)
else S.run()
