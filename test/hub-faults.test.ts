// Faults, for real: the hub process SIGKILLed and restarted mid-stream, the broker killed and restarted
// under a running hub and device (the embedded broker in a child process: the system's Mosquitto is not
// ours to restart), and malformed or hostile messages on both brokers. After each, every event the
// device had acknowledged is stored exactly once, in order, and the hub still runs and counts each
// refusal by reason.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Agent, Identity, stampEvent, eventHash, verifyChain, type AissEvent } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { upTopic, downTopic, MAX_PAYLOAD_BYTES } from '../sync/topics.js'
import { encodeEnvelope, eventsEnvelope, parseDown, type DownEnvelope } from '../sync/wire.js'
import { brokerTargets } from './support/brokers.js'
import { freePort, startChild, kill, readHubChain, until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'
import type { MqttClient } from 'mqtt'

const Faults = suite('hub faults')

/** Stamps `n` events, a few at a time, calling `at(i)` between them (to inject a fault mid-stream). */
async function stampStream (agent: Agent, n: number, at: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => agent.stamp('tick', { i: i + j })))
    await at(i)
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function checkStored (dataDir: string, agent: Agent): Promise<void> {
  const local = await agent.history()
  const hub = await readHubChain(dataDir, agent.agentId)
  assert.is(hub.events.length, local.length, 'every event stored once')
  assert.equal(hub.hashes, local.map(eventHash), 'in chain order')
  assert.ok(verifyChain(hub.events, agent.identityDocument()).valid, 'the stored chain verifies')
  assert.is(hub.rejected, 0)
}

Faults('hub process SIGKILLed twice mid-stream and restarted: nothing acknowledged is lost, nothing doubled', async () => {
  const tmp = tmpDir()
  const port = await freePort()
  const dataDir = join(tmp.path, 'hub')
  const args = JSON.stringify({ dataDir, port, approval: 'auto' })
  let child = await startChild('test/support/hub-child.ts', [args])
  const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
  const sync = await SyncAgent.start({ url: `mqtt://127.0.0.1:${port}`, agents: [agent], batchSize: 50, ackTimeoutMs: 800, minReconnectMs: 100, maxReconnectMs: 300, statusFile: false })
  try {
    await stampStream(agent, 3000, async (i) => {
      if (i === 1000 || i === 2000) {
        await until(() => sync.status().agents[0]!.ackedSeq > i - 300, 15_000, 'acks before the kill')
        await kill(child, 'SIGKILL')
        child = await startChild('test/support/hub-child.ts', [args])
      }
    })
    await sync.flush(30_000)
    assert.is(sync.status().agents[0]!.ackedSeq, 2999)
  } finally {
    await sync.close()
    await kill(child, 'SIGTERM')
  }
  await checkStored(dataDir, agent)
  await agent.close(); tmp.cleanup()
})

Faults('broker killed and restarted under a running hub and device (embedded broker in a child)', async () => {
  const tmp = tmpDir()
  const port = await freePort()
  const url = `mqtt://127.0.0.1:${port}`
  let broker = await startChild('test/support/hub-broker-child.ts', [String(port)])
  const dataDir = join(tmp.path, 'hub')
  const hub = await Hub.start({ dataDir, mqttUrl: url, approval: 'auto', workers: 2, control: false, mqtt: { minReconnectMs: 100, maxReconnectMs: 300 } })
  const agent = await Agent.open({ name: 'pi' }, { home: join(tmp.path, 'dev') })
  const sync = await SyncAgent.start({ url, agents: [agent], batchSize: 50, ackTimeoutMs: 800, minReconnectMs: 100, maxReconnectMs: 300, statusFile: false })
  try {
    await stampStream(agent, 2000, async (i) => {
      if (i === 1000) {
        await kill(broker, 'SIGKILL')
        await new Promise((r) => setTimeout(r, 300))
        broker = await startChild('test/support/hub-broker-child.ts', [String(port)])
      }
    })
    await sync.flush(30_000)
  } finally {
    await sync.close(); await hub.close(); await kill(broker, 'SIGTERM')
  }
  await checkStored(dataDir, agent)
  await agent.close(); tmp.cleanup()
})

/** A raw device: publishes hand-made envelopes and reads the hub's answers. */
function rawDevice (client: MqttClient, prefix: string) {
  const waiting = new Map<string, (env: DownEnvelope) => void>()
  client.on('message', (_t, payload) => {
    const env = parseDown(payload)
    if (env) waiting.get(Buffer.from(env.corr).toString('hex'))?.(env)
  })
  return {
    async ask (agentId: string, env: Record<string, unknown>): Promise<DownEnvelope> {
      const corr = randomBytes(8)
      await client.subscribeAsync(downTopic(agentId, prefix), { qos: 1 })
      const answer = new Promise<DownEnvelope>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${String(env.kind)}`)), 5000)
        waiting.set(corr.toString('hex'), (e) => { clearTimeout(timer); resolve(e) })
      })
      await client.publishAsync(upTopic(agentId, prefix), Buffer.from(encodeEnvelope({ ...env, corr })), { qos: 1 })
      return answer
    },
    async send (topic: string, payload: Uint8Array): Promise<void> { await client.publishAsync(topic, Buffer.from(payload), { qos: 1 }) }
  }
}

function chain (id: Identity, n: number, prev: string | null = null, ts = 1_700_000_000): AissEvent[] {
  const out: AissEvent[] = []
  for (let i = 0; i < n; i++) {
    const { event, hash } = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: ts })
    out.push(event); prev = hash
  }
  return out
}

for (const spec of brokerTargets()) {
  Faults(`${spec.name}: malformed and hostile messages are refused and counted by reason; only what the agent signed is its evidence; the hub keeps running`, async () => {
    const target = await spec.start()
    const tmp = tmpDir()
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, approval: 'auto', workers: 2, control: false })
    try {
      const client = await target.connect({ clientId: target.clientId('raw'), protocolVersion: 4 })
      const dev = rawDevice(client, target.prefix)
      const a = Identity.generate(); const b = Identity.generate()
      for (const id of [a, b]) assert.is((await dev.ask(id.agentId, { v: 1, kind: 'identity', identity: id.document() })).kind, 'head')
      const events = chain(a, 10)
      const ok = await dev.ask(a.agentId, { ...eventsEnvelope(randomBytes(8), 0, events.slice(0, 5)) })
      assert.is(ok.kind, 'ack')

      // Not CBOR, wrong shapes, an unknown kind, a topic that is not an agent's.
      await dev.send(upTopic(a.agentId, target.prefix), Buffer.from('{"json": "not cbor"}\xff\xfe'))
      await dev.send(upTopic(a.agentId, target.prefix), encodeEnvelope([1, 2, 3]))
      const shape = await dev.ask(a.agentId, { v: 1, kind: 'events', from: 'x', ids: [], records: 'no' })
      assert.is(shape.kind, 'nack')
      await dev.send(upTopic(a.agentId, target.prefix), encodeEnvelope({ v: 1, kind: 'reboot_now', corr: randomBytes(8) }))
      await dev.send(`${target.prefix}/not-an-agent/up`, encodeEnvelope({ v: 1, kind: 'head?', corr: randomBytes(8) }))
      // A forged signature: event 5 with its payload changed after signing. Not a's: counted, unanswered.
      const forged = { ...events[5]!, payload: { ...events[5]!.payload, i: 999 } }
      await dev.send(upTopic(a.agentId, target.prefix), encodeEnvelope(eventsEnvelope(randomBytes(8), 5, [forged])))
      // A replay: stored event 2 sent again as the next event. a signed it once, at #2: a copy, not an act of a's.
      await dev.send(upTopic(a.agentId, target.prefix), encodeEnvelope(eventsEnvelope(randomBytes(8), 5, [events[2]!])))
      // A fork: a different, validly signed event at a position the hub holds.
      const fork = chain(a, 1, eventHash(events[2]!))[0]!
      const k = await dev.ask(a.agentId, { ...eventsEnvelope(randomBytes(8), 3, [fork]) })
      assert.is(k.kind, 'nack'); assert.match((k as { message: string }).message, /FORK_DETECTED/)
      // Another agent's topic: a's identity and a's events on b's topic.
      const wrongId = await dev.ask(b.agentId, { v: 1, kind: 'identity', identity: a.document() })
      assert.is(wrongId.kind, 'nack')
      await dev.send(upTopic(b.agentId, target.prefix), encodeEnvelope(eventsEnvelope(randomBytes(8), 0, events.slice(0, 2))))
      // A resend of stored events is not a fault: dropped idempotently, acked with the head.
      const dup = await dev.ask(a.agentId, { ...eventsEnvelope(randomBytes(8), 0, events.slice(0, 5)) })
      assert.is(dup.kind, 'ack'); assert.is((dup as { duplicates: number }).duplicates, 5)
      // Oversized: the embedded broker drops the publisher; an unconfigured Mosquitto delivers it to the hub.
      if (!target.enforcesPayloadLimit) await dev.send(upTopic(a.agentId, target.prefix), new Uint8Array(MAX_PAYLOAD_BYTES + 10))

      // Still running: the rest of a's chain goes in.
      const client2 = await target.connect({ clientId: target.clientId('raw2'), protocolVersion: 4 })
      const good = await rawDevice(client2, target.prefix).ask(a.agentId, { ...eventsEnvelope(randomBytes(8), 5, events.slice(5)) })
      assert.is(good.kind, 'ack'); assert.is((good as { head: { seq: number } }).head.seq, 9)

      await until(() => (hub.rejections().KIND_UNKNOWN ?? 0) >= 1 && (hub.rejections().FORGED_SIGNATURE_INVALID ?? 0) >= 2 && (target.enforcesPayloadLimit || (hub.rejections().PAYLOAD_TOO_LARGE ?? 0) >= 1), 5000, 'all counted')
      const rej = hub.rejections()
      assert.is(rej.PAYLOAD_NOT_CBOR, 1)
      assert.is(rej.ENVELOPE_INVALID, 2)
      assert.is(rej.KIND_UNKNOWN, 1)
      assert.is(rej.TOPIC_INVALID, 1)
      assert.is(rej.FORGED_SIGNATURE_INVALID, 2) // the forged event, and a's events on b's chain (b's key does not verify them)
      assert.is(rej.REPLAYED_EVENT, 1)
      assert.is(rej.SIGNATURE_INVALID, undefined)
      assert.is(rej.CHAIN_LINK_BROKEN, undefined)
      assert.is(rej.FORK_DETECTED, 1)
      assert.is(rej.AGENT_ID_MISMATCH, 1) // a's identity document on b's topic
      if (!target.enforcesPayloadLimit) assert.is(rej.PAYLOAD_TOO_LARGE, 1)
      const st = hub.chain.status(a.agentId)!
      assert.is(st.eventCount, 10)
      assert.is(st.verification, 'anomalous')
      assert.is(st.rejectedCount, 1)
      const evidence = await hub.store.evidence(a.agentId)
      assert.equal(evidence.map((e) => e.code), ['FORK_DETECTED'])
      assert.is(hub.chain.status(b.agentId)!.rejectedCount, 0, "a's events on b's topic are nothing of b's")
      assert.ok(evidence.every((e) => e.raw.length > 0))
      assert.ok(hub.vigil!.alerts({}).length >= 0)
      assert.ok((hub.vigil!.vrs(a.agentId)?.vrs ?? 0) > 0, 'Vigil saw the anomalies')
    } finally {
      await hub.close(); await target.close(); tmp.cleanup()
    }
  })
}

Faults.run()
