// The device's sync agent against a real hub, over real MQTT on 127.0.0.1: the embedded broker always,
// and the external broker of PCP_TEST_MQTT_URL (Mosquitto in CI) when set. Real Agents on temp homes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent, eventHash, verifyAuditExport, parseJson } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { brokerTargets } from './support/brokers.js'
import { freePort, until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const Sync = suite('sync agent ↔ hub')

async function stampMany (agent: Agent, n: number, type = 'tick'): Promise<void> {
  for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, j) => agent.stamp(type, { i: i + j })))
}

async function exportText (hub: Hub, agentId: string): Promise<string> {
  let text = ''
  for await (const chunk of (await hub.chain.exportChain(agentId))!) text += chunk
  return text
}

for (const spec of brokerTargets()) {
  Sync(`${spec.name}: forwards a chain with a key rotation; a restarted device resends only what the hub lacks`, async () => {
    const target = await spec.start()
    const tmp = tmpDir()
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, approval: 'auto', workers: 2, control: false })
    let agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
    const chainId = agent.agentId
    try {
      await stampMany(agent, 600)
      let sync = await SyncAgent.start({ url: target.url, prefix: target.prefix, agents: [agent], ackTimeoutMs: 1000, batchSize: 100, statusFile: false })
      await sync.flush(15_000)
      await agent.rotate()
      await stampMany(agent, 50, 'after_rotation')
      await sync.flush(15_000)
      const st = sync.status()
      assert.is(st.connected, true)
      assert.is(st.agents[0]!.backlog, 0)
      assert.is(st.agents[0]!.ackedSeq, 650)
      await sync.close()
      assert.is((await agent.store.getMeta<{ seq: number }>('sync.cursor'))?.seq, 650, 'cursor persisted at the last ack')

      // Device restart with events stamped while the sync agent was down.
      await stampMany(agent, 120, 'offline')
      await agent.close()
      agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
      const before = hub.stats()
      sync = await SyncAgent.start({ url: target.url, prefix: target.prefix, agents: [agent], ackTimeoutMs: 1000, batchSize: 100, statusFile: false })
      await sync.flush(15_000)
      await sync.close()
      const after = hub.stats()
      assert.is(after.ingested - before.ingested, 120, 'only the missing events were stored')
      assert.is(after.duplicates - before.duplicates, 0, 'nothing was resent')

      const status = hub.chain.status(chainId)!
      assert.is(status.eventCount, 771)
      assert.is(status.currentAgentId, agent.agentId)
      assert.is.not(status.currentAgentId, chainId)
      assert.is(status.verification, 'valid')
      assert.is(status.headHash, agent.head!.hash)
      const doc = parseJson(await exportText(hub, chainId))
      const v = verifyAuditExport(doc)
      assert.ok(v.usable && v.report.valid, 'the hub export verifies from the first identity across the rotation')
      const local = await agent.history()
      const stored = [...(await hub.chain.recent(chainId, 1000))].reverse()
      assert.equal(stored.map(eventHash), local.map(eventHash))
      assert.is(hub.rejections().FORK_DETECTED, undefined)
    } finally {
      await agent.close(); await hub.close(); await target.close(); tmp.cleanup()
    }
  })

  Sync(`${spec.name}: manual approval: the device waits as pending, then drains after pcp hub approve`, async () => {
    const target = await spec.start()
    const tmp = tmpDir()
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, workers: 1, control: false })
    const agent = await Agent.open({ name: 'cam' }, { home: join(tmp.path, 'dev') })
    const sync = await SyncAgent.start({ url: target.url, prefix: target.prefix, agents: [agent], ackTimeoutMs: 300, statusFile: false })
    try {
      await stampMany(agent, 30)
      await until(() => sync.status().agents[0]!.phase === 'pending', 10_000, 'pending')
      assert.is(hub.registry.state(agent.agentId), 'pending')
      assert.is(hub.chain.status(agent.agentId)!.eventCount, 0, 'nothing stored before approval')
      await hub.approve(agent.agentId, { name: 'cam-1' })
      await sync.flush(10_000)
      assert.is(hub.chain.status(agent.agentId)!.eventCount, 30)
      assert.is(hub.chain.status(agent.agentId)!.name, 'cam-1')
      await hub.revoke(agent.agentId)
      await agent.stamp('after_revoke')
      await until(() => sync.status().agents[0]!.phase === 'stopped', 10_000, 'stopped after revoke')
      assert.match(sync.status().agents[0]!.lastError!.message, /revoked|REVOKED/)
      assert.is(hub.chain.status(agent.agentId)!.eventCount, 30)
    } finally {
      await sync.close(); await agent.close(); await hub.close(); await target.close(); tmp.cleanup()
    }
  })
}

Sync('offline with a 20,000-event backlog: drains in order at the bounded rate while new events keep coming', async () => {
  const tmp = tmpDir()
  const port = await freePort()
  const url = `mqtt://127.0.0.1:${port}`
  const agent = await Agent.open({ name: 'rover' }, { home: join(tmp.path, 'dev') })
  const rate = 10_000
  const sync = await SyncAgent.start({ url, agents: [agent], maxEventsPerSec: rate, batchSize: 250, ackTimeoutMs: 1000, minReconnectMs: 100, maxReconnectMs: 200, statusFile: false })
  let hub: Hub | undefined
  try {
    await stampMany(agent, 20_000)
    await until(() => sync.status().agents[0]!.backlog === 20_000, 5000, 'backlog counted')
    assert.is(sync.status().connected, false)
    // The hub (with its embedded broker) comes up on the port the device has been trying.
    hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port, approval: 'auto', workers: 2, control: false })
    const t = Date.now()
    let live = 0
    const stamping = (async () => { while (sync.status().agents[0]!.backlog > 2000 || live < 50) { await agent.stamp('live', { live: live++ }); await new Promise((r) => setTimeout(r, 20)) } })()
    await until(() => sync.status().connected, 10_000, 'connected')
    await stamping
    await sync.flush(60_000)
    const seconds = (Date.now() - t) / 1000
    const total = 20_000 + live
    assert.is(hub.chain.status(agent.agentId)!.eventCount, total)
    assert.ok(seconds >= (20_000 - 250) / rate, `drained ${total} in ${seconds}s: faster than the ${rate}/s bound`)
    const stored = (await hub.chain.recent(agent.agentId, total)).reverse()
    assert.is(stored.length, total)
    assert.equal(stored.map(eventHash), (await agent.history()).map(eventHash), 'in order, each once')
    assert.is(hub.stats().ingested, total)
  } finally {
    await sync.close(); await agent.close(); await hub?.close(); tmp.cleanup()
  }
})

Sync.run()
