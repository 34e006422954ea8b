// Attacks on the hub → device half of the sync protocol: an anonymous client of an open external broker
// (PCP_TEST_MQTT_URL: the Mosquitto on this machine lets anyone publish anywhere) reads every `up` message,
// so it knows each request's `corr`, and answers on the device's `down` topic before the hub does. With the
// hub's key pinned (`hub`), the device acts only on answers the hub signed (sync/wire.ts, syncAnswerStatement):
// a forged head or ack cannot make it report as synced what no hub stored, a forged nack or "revoked"
// cannot stop it. Needs an external broker: the embedded one lets no keyless client connect at all.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { connectAsync, type MqttClient } from 'mqtt'
import { Agent, createAgentIdentity } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { startHubServices } from '../hub/services.js'
import { DeviceGate } from '../sync/gate.js'
import { rawClient } from './support/hostile.js'
import { SyncAgent } from '../sync/agent.js'
import { encodeEnvelope, decodeEnvelope } from '../sync/wire.js'
import { downTopic } from '../sync/topics.js'
import { randomBytes } from 'node:crypto'
import { SyncErrorCodes } from '../sync/errors.js'
import { brokerTargets } from './support/brokers.js'
import { until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const Down = suite('sync: forged hub answers on an open broker')

type Forge = (env: Record<string, unknown>, agent: Agent) => object | null

/** An anonymous client that answers every request on every device's `up` topic under `prefix`. */
async function impostor (url: string, prefix: string, forge: Forge, agent: Agent): Promise<{ client: MqttClient, answered: () => number }> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000 })
  let answered = 0
  client.on('message', (topic, payload) => {
    const d = decodeEnvelope(payload)
    if (!d.ok) return
    const out = forge(d.env, agent)
    if (out === null) return
    answered++
    client.publish(topic.replace(/\/up$/, '/down'), Buffer.from(encodeEnvelope(out)), { qos: 1 })
  })
  await client.subscribeAsync(`${prefix}/+/up`, { qos: 1 })
  return { client, answered: () => answered }
}

// The impostor knows the device's head: it read every event on the `up` topic.
const claimSynced: Forge = (env, agent) => {
  if (env.kind === 'identity' || env.kind === 'head?') return { v: 1, kind: 'head', corr: env.corr, state: 'allowed', head: { seq: agent.head!.seq, hash: agent.head!.hash } }
  if (env.kind === 'events') return { v: 1, kind: 'ack', corr: env.corr, head: { seq: agent.head!.seq, hash: agent.head!.hash }, stored: (env.records as unknown[]).length, duplicates: 0 }
  return null
}
const refuse: Forge = (env) => {
  if (env.kind === 'identity') return { v: 1, kind: 'head', corr: env.corr, state: 'revoked', head: null }
  if (env.kind === 'events') return { v: 1, kind: 'nack', corr: env.corr, code: 'REJECTED', message: 'SIGNATURE_INVALID at 0', head: null, retry: false }
  return null
}

// Gate requests: a refusal that names a wrong hub clock, and an "allowed" with nothing signed behind it.
const gateForgery: Forge = (env) => {
  if (env.kind !== 'gate') return null
  return (env.action as string) === 'read_db'
    ? { v: 1, kind: 'gate_error', corr: env.corr, code: 'REQUEST_STALE', message: 'stale', hub_time: 0 }
    : { v: 1, kind: 'gate_result', corr: env.corr, decision_id: 'dec-x', state: 'DECIDED', outcome: 'ALLOW', allowed: true, reason: 'forged', rule: 'x', policy_hash: 'x', policy_version: 'x', expires_at: null, vrs: 0, tsi_state: 'STABLE', decision_event: null, resolution_event: null }
}

const external = brokerTargets().find((s) => s.name !== 'embedded')
if (external === undefined) {
  Down('needs PCP_TEST_MQTT_URL (an external broker that lets anonymous clients in)', () => { console.log('  skipped: PCP_TEST_MQTT_URL not set') })
} else {
  Down('no hub: a forged head and forged acks do not make a device with the hub key pinned report as synced', async () => {
    const target = await external.start()
    const tmp = tmpDir()
    const hubKey = await createAgentIdentity(join(tmp.path, 'hubhome'), 'hub')
    const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
    const fake = await impostor(target.url, target.prefix, claimSynced, agent)
    const warnings: string[] = []
    let sync: SyncAgent | undefined
    try {
      for (let i = 0; i < 20; i++) await agent.stamp('tick', { i })
      sync = await SyncAgent.start({ url: target.url, prefix: target.prefix, agents: [agent], hub: hubKey.publicKey, ackTimeoutMs: 300, statusFile: false })
      sync.on('warning', (w: { code: string }) => warnings.push(w.code))
      const err = await sync.flush(2500).then(() => null, (e: Error & { code?: string }) => e)
      assert.ok(fake.answered() > 0, 'the impostor answered')
      assert.ok(err !== null, 'flush() resolved on answers no hub signed: the device would report as synced what no hub holds')
      assert.is(err.code, SyncErrorCodes.SYNC_TIMEOUT)
      const st = sync.status().agents[0]!
      assert.is(st.ackedSeq, -1, 'the cursor did not move')
      assert.is(st.backlog, 20)
      assert.ok(warnings.includes(SyncErrorCodes.SYNC_ANSWER_UNAUTHENTICATED), `warned: ${warnings.join(', ')}`)
    } finally {
      await sync?.close(); await fake.client.endAsync(true); hubKey.destroy(); await agent.close(); await target.close(); tmp.cleanup()
    }
  })

  Down('a real hub, with an impostor sending "revoked" and REJECTED nacks first: the device is not stopped, the hub gets every event', async () => {
    const target = await external.start()
    const tmp = tmpDir()
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, approval: 'auto', workers: 1, control: false })
    const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
    const fake = await impostor(target.url, target.prefix, refuse, agent)
    let sync: SyncAgent | undefined
    try {
      for (let i = 0; i < 300; i++) await agent.stamp('tick', { i })
      sync = await SyncAgent.start({ url: target.url, prefix: target.prefix, agents: [agent], hub: hub.agent.publicKey, ackTimeoutMs: 500, batchSize: 50, batchDelayMs: 5, statusFile: false })
      await sync.flush(15_000)
      assert.ok(fake.answered() > 0, 'the impostor answered')
      assert.is(sync.status().agents[0]!.phase, 'streaming')
      await until(() => hub.chain.status(agent.agentId)?.eventCount === 300, 5000, 'the hub to hold all 300 events')
      assert.is(hub.chain.status(agent.agentId)!.headHash, agent.head!.hash)
    } finally {
      await sync?.close(); await fake.client.endAsync(true); await agent.close(); await hub.close(); await target.close(); tmp.cleanup()
    }
  })

  Down('a flood of hellos on the down topic (1,000/s) does not stall the device nor make it flood the hub', async () => {
    const target = await external.start()
    const tmp = tmpDir()
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, approval: 'auto', workers: 1, control: false })
    const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
    const flooder = await connectAsync(target.url, { reconnectPeriod: 0 })
    let sync: SyncAgent | undefined
    const timer = setInterval(() => {
      for (let k = 0; k < 5; k++) flooder.publish(downTopic(agent.agentId, target.prefix), Buffer.from(encodeEnvelope({ v: 1, kind: 'hello', corr: randomBytes(8) })))
    }, 5)
    try {
      for (let i = 0; i < 2000; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => agent.stamp('tick', { i: i + j })))
      sync = await SyncAgent.start({ url: target.url, prefix: target.prefix, agents: [agent], hub: hub.agent.publicKey, ackTimeoutMs: 1000, batchSize: 100, statusFile: false })
      await sync.flush(15_000)
      assert.is(hub.chain.status(agent.agentId)!.eventCount, 2000)
      // Quiet, this sync is ~25 messages; before the fix the flood made it thousands (13,901 in 20 s).
      assert.ok(hub.stats().received < 300, `the hub received ${hub.stats().received} messages`)
    } finally {
      clearInterval(timer); await sync?.close(); await flooder.endAsync(true); await agent.close(); await hub.close(); await target.close(); tmp.cleanup()
    }
  })

  Down('gate: a forged refusal or an unsigned "allowed" answered first does not pre-empt the hub\'s signed answer', async () => {
    const target = await external.start()
    const tmp = tmpDir()
    const s = await startHubServices({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, approval: 'auto', workers: 0, control: false, vigilApi: false, trustgateApi: false })
    const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
    const client = await target.connect({ protocolVersion: 4 })
    let fake: Awaited<ReturnType<typeof impostor>> | undefined
    let gate: DeviceGate | undefined
    try {
      assert.is((await rawClient(client, target.prefix).ask(agent.agentId, { v: 1, kind: 'identity', identity: await agent.firstIdentityDocument(), name: 'arm' })).kind, 'head')
      fake = await impostor(target.url, target.prefix, gateForgery, agent)
      gate = await DeviceGate.open({ client, agent, hub: s.hub.agent.identityDocument(), prefix: target.prefix, timeoutMs: 3000 })
      const read = await gate.check('read_db', { table: 'orders' })
      assert.equal([read.source, read.outcome, read.allowed], ['hub', 'ALLOW', true], read.reason)
      const shell = await gate.check('shell', { cmd: 'ls' })
      assert.equal([shell.source, shell.outcome, shell.allowed], ['hub', 'BLOCK', false], shell.reason)
      const again = await gate.check('read_db', { table: 'orders' })
      assert.equal([again.source, again.allowed], ['hub', true], 'no clock offset taken from a forgery')
      assert.ok(fake.answered() >= 3, 'the impostor answered each request')
      assert.ok(gate.forgedAnswers >= 3)
    } finally {
      await gate?.close(); await fake?.client.endAsync(true); await client.endAsync(true); await agent.close(); await s.close(); await target.close(); tmp.cleanup()
    }
  })
}

Down.run()
