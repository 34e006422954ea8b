// Two hubs as `pcp hub start` wires them (ingest, Vigil API, TrustGate API) on one PostgreSQL database
// (PCP_TEST_PG_URL, fresh) sharing one subscription on Mosquitto (PCP_TEST_MQTT_URL, round robin, so the
// device's consecutive batches land on both): a device approved through one hub is allowed on the other,
// and once both have read what the other stored (hub/store-feed.ts), the Vigil and TrustGate HTTP APIs of
// the two hubs answer the same for it. Both hubs run on one injected clock (the scores depend on time).
// Skipped, with the reason, without PostgreSQL or an external broker.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Agent } from '../runtime/index.js'
import { SyncAgent } from '../sync/agent.js'
import { startHubServices, type HubServices } from '../hub/services.js'
import { shareHubIdentity, until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'
import { createTestDb, pgSkipReason } from './support/pg.js'

const S = suite('fleet: two hubs on one store answer alike')
const MQTT_URL = process.env.PCP_TEST_MQTT_URL
const skip = pgSkipReason ?? (MQTT_URL ? null : 'PCP_TEST_MQTT_URL is not set (no external broker with shared subscriptions; the embedded one has none)')
const NOW = 1_800_000_000

async function get (base: string, path: string, init?: RequestInit): Promise<unknown> {
  const r = await fetch(base + path, init)
  assert.is(r.status, 200, `${base}${path}: ${r.status}`)
  return await r.json()
}

S('approval through one hub is seen by the other; the Vigil and TrustGate APIs of both answer the same for a device whose batches went to both', async () => {
  const db = await createTestDb()
  const tmp = tmpDir()
  const prefix = `fleet-${randomBytes(4).toString('hex')}/v1`
  const group = `pcp-svc-${randomBytes(4).toString('hex')}`
  const hubs: HubServices[] = []
  const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
  let sync: SyncAgent | undefined
  try {
    await shareHubIdentity([0, 1].map((i) => join(tmp.path, `hub${i}`))) // one key signs their shared TrustGate journal
    for (const i of [0, 1]) {
      hubs.push(await startHubServices({
        dataDir: join(tmp.path, `hub${i}`), store: db.url, mqttUrl: MQTT_URL!, shareGroup: group, prefix, workers: 0, now: () => NOW, control: false,
        vigilApi: { port: 0, localOnly: true }, trustgateApi: { port: 0, localOnly: true }
      }))
    }
    const [a, b] = hubs as [HubServices, HubServices]
    for (let i = 0; i < 60; i++) await agent.stamp('tick', { i, load: i % 7 })
    sync = await SyncAgent.start({ url: MQTT_URL!, prefix, agents: [agent], ackTimeoutMs: 2000, batchSize: 5, maxInFlight: 1, statusFile: false })
    await until(() => a.hub.store.agent(agent.agentId)?.state === 'pending' && b.hub.store.agent(agent.agentId)?.state === 'pending', 15_000, 'both hubs know the pending device')
    await a.hub.approve(agent.agentId, { role: 'operator' })
    await until(() => b.hub.registry.state(agent.agentId) === 'allowed', 5000, 'hub 2 sees the approval made through hub 1')
    await sync.flush(60_000)
    const stored = [a.hub.stats().ingested, b.hub.stats().ingested]
    assert.ok(stored[0]! > 0 && stored[1]! > 0, `both hubs stored batches of the device: ${stored.join(' + ')}`)
    assert.is(stored[0]! + stored[1]!, 60, 'each event stored once')
    const vigil = async (h: HubServices): Promise<{ chain: Record<string, unknown>, vrs: Record<string, unknown> | null, alerts: unknown }> => {
      const r = await get(h.vigilUrl!, `/api/agent/${agent.agentId}`) as { chain: Record<string, unknown>, vrs: Record<string, unknown> | null, alerts: unknown }
      return { chain: r.chain, vrs: r.vrs, alerts: r.alerts }
    }
    await until(async () => ((await vigil(a)).chain.eventCount === 60 && (await vigil(b)).chain.eventCount === 60), 15_000, 'both Vigils read all 60 events')
    const [va, vb] = [await vigil(a), await vigil(b)]
    assert.ok(va.vrs !== null, 'Vigil scored the device')
    assert.equal(vb, va, 'Vigil answers the same from both hubs')
    console.log(`  hubs stored ${stored.join(' + ')} events; both Vigils: ${JSON.stringify(va.vrs).slice(0, 160)}`)
    const tg = async (h: HubServices): Promise<unknown> => {
      const agents = (await get(h.trustgateUrl!, '/api/agents') as { agents: Array<Record<string, unknown>> }).agents.filter((x) => x.agent_id === agent.agentId)
      const d = await get(h.trustgateUrl!, '/api/evaluate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: agent.agentId, action: 'move_arm', role: 'operator' }) }) as Record<string, unknown>
      return { agents, outcome: d.outcome, rule: d.rule ?? d.matched_rule ?? null, vrs: d.vrs ?? null }
    }
    assert.equal(await tg(b), await tg(a), 'TrustGate answers the same from both hubs')
  } finally {
    await sync?.close(); for (const h of hubs) await h.close(); await agent.close(); tmp.cleanup(); await db.drop()
  }
})

if (skip) console.log(`skip fleet services test: ${skip}`)
else S.run()
