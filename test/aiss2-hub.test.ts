// AISS-2 through the hub, end to end: a device on pcp-edge/aiss2 with a per-event-type policy syncs a mixed
// AISS-1/AISS-2 chain (upgrade, rotation of both keys) over real MQTT to a real hub with a verify worker;
// the hub verifies both signatures, stores the chain, keeps its profile state across a restart, and
// refuses an Ed25519-signed AISS-1 event where the chain's policy requires AISS-2 (PROFILE_DOWNGRADE).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent, EventStore, loadAgentIdentity, stampEvent, verifyChain, type AissEvent } from '../runtime/aiss2-entry.js'
import { startHubServices } from '../hub/services.js'
import { SyncAgent } from '../sync/agent.js'
import { tmpDir } from './helpers.js'
import { until } from './support/hub-helpers.js'

const H = suite('aiss2-hub')
const POLICY = { default: 'AISS-2.0' as const, event_types: { telemetry: 'AISS-1.0' as const } }

async function hubChain (store: { events (agentId: string): AsyncIterable<{ event: AissEvent }> }, agentId: string): Promise<AissEvent[]> {
  const out: AissEvent[] = []
  for await (const { event } of store.events(agentId)) out.push(event)
  return out
}

H('a mixed AISS-1/AISS-2 chain syncs over MQTT, is verified by the hub\'s worker, survives a hub restart; a downgrade is refused', async () => {
  const tmp = tmpDir('pcp-aiss2-hub-')
  const dataDir = join(tmp.path, 'hub')
  const home = join(tmp.path, 'dev')
  const hubOpts = { dataDir, port: 0, approval: 'auto' as const, workers: 1, control: false, vigilApi: false as const, trustgateApi: false as const }
  let s = await startHubServices(hubOpts)
  let device = await Agent.open({ name: 'arm' }, { home })
  const firstId = device.agentId
  let sync: SyncAgent | undefined
  try {
    await device.stamp('telemetry', { t: 0 })
    await device.upgradeProfile(POLICY)
    for (let i = 0; i < 5; i++) { await device.stamp('telemetry', { i }); await device.stamp('actuator_command', { i }) }
    await device.rotate()
    await device.stamp('actuator_command', { after: 'rotation' })
    sync = await SyncAgent.start({ url: s.hub.mqttUrl, agents: [device], statusFile: false })
    await sync.flush(30_000)
    let stored = await hubChain(s.hub.store, firstId)
    assert.is(stored.length, 14)
    assert.equal(stored.map((e) => e.version).filter((v) => v === 'AISS-2.0').length, 8) // upgrade, 5 commands, rotation, 1 command
    assert.equal(verifyChain(stored, device.identityDocument().agent_id === firstId ? device.identityDocument() : await device.firstIdentityDocument()).errors, [])
    assert.is(s.hub.store.agent(firstId)!.rejectedCount, 0)
    const profile = s.hub.store.agent(firstId)!.profile
    assert.equal(profile?.policy, POLICY)
    await sync.close(); sync = undefined
    await s.close()

    // Restarted hub: the profile state comes back from its store, and the chain continues under it.
    s = await startHubServices({ ...hubOpts })
    await device.stamp('telemetry', { back: 1 })
    await device.stamp('actuator_command', { back: 1 })
    sync = await SyncAgent.start({ url: s.hub.mqttUrl, agents: [device], statusFile: false })
    await sync.flush(30_000)
    stored = await hubChain(s.hub.store, firstId)
    assert.is(stored.length, 16)
    assert.is(stored.at(-1)!.version, 'AISS-2.0')
    await sync.close(); sync = undefined
    await device.close()

    // A downgrade written straight into the device store (no API stamps one): an actuator_command as
    // AISS-1.0, correctly signed by the Ed25519 key in force. The hub refuses it as the agent's own fault.
    const id = await loadAgentIdentity(home, 'arm')
    const store = await EventStore.open(join(home, 'agents', 'arm', 'store'), { name: 'arm' })
    const head = store.head!
    const { event, hash } = stampEvent(id, { event_type: 'actuator_command', forged: true }, { previousHash: head.hash, timestamp: Math.ceil(Number(head.timestamp)) + 1 })
    await store.append([{ event, hash, agentIndex: store.identities.length - 1 }])
    await store.close()
    id.destroy()
    device = await Agent.open({ name: 'arm' }, { home })
    sync = await SyncAgent.start({ url: s.hub.mqttUrl, agents: [device], statusFile: false })
    await until(() => (s.hub.store.agent(firstId)?.rejectedCount ?? 0) > 0, 30_000, 'the downgrade refused')
    const rec = s.hub.store.agent(firstId)!
    assert.is(rec.lastProblem?.code, 'PROFILE_DOWNGRADE')
    assert.is(rec.lastProblem?.index, 16)
    assert.is((await hubChain(s.hub.store, firstId)).length, 16)
  } finally {
    await sync?.close().catch(() => {}); await s.close().catch(() => {}); await device.close().catch(() => {}); tmp.cleanup()
  }
})

H.run()
