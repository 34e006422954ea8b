// Broker conformance: what the PCP sync protocol relies on, checked against every target of
// test/support/brokers.ts (the embedded broker always, the external one when PCP_TEST_MQTT_URL is set),
// with every MQTT protocol level the target speaks. Real TCP on 127.0.0.1, real mqtt.js clients.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { encode, decode } from 'cbor-x'
import type { MqttClient, IClientOptions, IPublishPacket } from 'mqtt'
import { brokerTargets, type BrokerTarget, type ProtocolVersion } from './support/brokers.js'
import { upTopic, downTopic, hubFilter, parseTopic, MAX_PAYLOAD_BYTES } from '../sync/topics.js'

const Broker = suite('mqtt broker conformance')

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function agentId (): string {
  return Array.from(randomBytes(32), (b) => B58[b % 58]).join('')
}

interface Received { topic: string, payload: Buffer, packet: IPublishPacket }

/** Resolves with the first `n` messages the client receives (in arrival order); rejects after `ms`. */
function collect (client: MqttClient, n: number, ms = 5000): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    const got: Received[] = []
    const timer = setTimeout(() => { client.off('message', onMessage); reject(new Error(`timed out with ${got.length}/${n} messages`)) }, ms)
    function onMessage (topic: string, payload: Buffer, packet: IPublishPacket): void {
      got.push({ topic, payload, packet })
      if (got.length === n) { clearTimeout(timer); client.off('message', onMessage); resolve(got) }
    }
    client.on('message', onMessage)
  })
}

/** Options for a session that outlives its connection, at either protocol level. */
function persistentSession (clientId: string, v: ProtocolVersion): IClientOptions {
  // MQTT 5 ends a clean: false session at disconnect unless sessionExpiryInterval says otherwise.
  return v === 5 ? { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } } : { clientId, clean: false, protocolVersion: 4 }
}

function closed (client: MqttClient, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection was not closed')), ms)
    client.once('close', () => { clearTimeout(timer); resolve() })
  })
}

for (const spec of brokerTargets()) {
  const each = (title: string, fn: (t: BrokerTarget) => Promise<void>): void => {
    Broker(`${spec.name}: ${title}`, async () => {
      const t = await spec.start()
      try { await fn(t) } finally { await t.close() }
    })
  }
  const versions: ProtocolVersion[] = spec.name === 'embedded' ? [4] : [4, 5]

  for (const v of versions) {
    each(`v${v} QoS 1 delivery in publish order over TCP`, async (t) => {
      const hub = await t.connect({ protocolVersion: v, clientId: t.clientId(`hub${v}`) })
      await hub.subscribeAsync(hubFilter({ prefix: t.prefix }), { qos: 1 })
      const dev = await t.connect({ protocolVersion: v, clientId: t.clientId(`dev${v}`) })
      const id = agentId()
      const arriving = collect(hub, 200)
      await Promise.all(Array.from({ length: 200 }, (_, i) => dev.publishAsync(upTopic(id, t.prefix), encode({ i }), { qos: 1 })))
      const got = await arriving
      assert.equal(got.map((m) => decode(m.payload).i), Array.from({ length: 200 }, (_, i) => i))
      for (const m of got) {
        assert.is(m.packet.qos, 1)
        const parsed = parseTopic(m.topic, t.prefix)
        assert.ok(parsed.ok && parsed.agentId === id && parsed.channel === 'up')
      }
    })

    each(`v${v} persistent session: messages published while offline arrive on reconnect`, async (t) => {
      const cid = t.clientId(`hubq${v}`)
      const hub1 = await t.connect(persistentSession(cid, v))
      await hub1.subscribeAsync(hubFilter({ prefix: t.prefix }), { qos: 1 })
      await hub1.endAsync()
      const dev = await t.connect({ protocolVersion: v, clientId: t.clientId(`devq${v}`) })
      const id = agentId()
      for (let i = 0; i < 5; i++) await dev.publishAsync(upTopic(id, t.prefix), Buffer.from([i]), { qos: 1 })
      // Listen before CONNACK is handled: queued messages may follow it in the same TCP read.
      const hub2 = t.create(persistentSession(cid, v))
      const arriving = collect(hub2, 5)
      const connack = new Promise<boolean>((resolve) => hub2.once('connect', (p) => resolve(p.sessionPresent)))
      hub2.connect()
      assert.ok(await connack, 'sessionPresent')
      assert.equal((await arriving).map((m) => m.payload[0]), [0, 1, 2, 3, 4])
    })

    each(`v${v} persistent session: a delivery never PUBACKed is resent after reconnect`, async (t) => {
      const cid = t.clientId(`hubr${v}`)
      const hub1 = await t.connect(persistentSession(cid, v))
      await hub1.subscribeAsync(hubFilter({ prefix: t.prefix }), { qos: 1 })
      // Never calling back withholds the PUBACK: the hub "crashed" between receipt and verification.
      hub1.handleMessage = () => {}
      const first = collect(hub1, 1)
      const dev = await t.connect({ protocolVersion: v, clientId: t.clientId(`devr${v}`) })
      const id = agentId()
      await dev.publishAsync(upTopic(id, t.prefix), Buffer.from('batch-1'), { qos: 1 })
      assert.is((await first)[0]!.payload.toString(), 'batch-1')
      hub1.stream.destroy()
      await hub1.endAsync(true)
      const hub2 = t.create(persistentSession(cid, v))
      const again = collect(hub2, 1)
      hub2.connect()
      const [m] = await again
      // Only the payload is asserted: aedes 1.2 resends without the DUP flag, so PCP never relies on DUP
      // and the hub de-duplicates by content (event hashes) instead.
      assert.is(m!.payload.toString(), 'batch-1')
    })

    each(`v${v} request/response: correlation in the CBOR payload, reply on the agent's down topic`, async (t) => {
      // The responder stands in for the hub: it answers on the requester's own down topic (never a topic
      // named by the request) and echoes corr.
      const hub = await t.connect({ protocolVersion: v, clientId: t.clientId(`hubc${v}`) })
      await hub.subscribeAsync(hubFilter({ prefix: t.prefix }), { qos: 1 })
      hub.on('message', (topic, payload) => {
        const parsed = parseTopic(topic, t.prefix)
        if (!parsed.ok) return
        const req = decode(payload) as { kind: string, corr: Uint8Array, n: number }
        hub.publishAsync(downTopic(parsed.agentId, t.prefix), encode({ v: 1, kind: 'head', corr: req.corr, head: `head-${req.n}` }), { qos: 1 }).catch(() => {})
      })
      const id = agentId()
      const dev = await t.connect({ protocolVersion: v, clientId: t.clientId(`devc${v}`) })
      await dev.subscribeAsync(downTopic(id, t.prefix), { qos: 1 })
      const waiting = new Map<string, (head: string) => void>()
      dev.on('message', (_topic, payload) => {
        const res = decode(payload) as { corr: Uint8Array, head: string }
        waiting.get(Buffer.from(res.corr).toString('hex'))?.(res.head)
      })
      const ask = (n: number): Promise<string> => {
        const corr = randomBytes(12)
        const answer = new Promise<string>((resolve) => waiting.set(corr.toString('hex'), resolve))
        dev.publishAsync(upTopic(id, t.prefix), encode({ v: 1, kind: 'head?', corr, n }), { qos: 1 }).catch(() => {})
        return answer
      }
      assert.equal(await Promise.all([ask(1), ask(2), ask(3)]), ['head-1', 'head-2', 'head-3'])
    })

    if (v === 5) {
      each('v5 responseTopic and correlationData properties pass through unchanged', async (t) => {
        // Not used by the PCP protocol (the embedded broker cannot carry them); checked so interop with
        // MQTT 5 tooling on an external broker is known to work.
        const id = agentId()
        const sub = await t.connect({ protocolVersion: 5, clientId: t.clientId('sub5p') })
        await sub.subscribeAsync(upTopic(id, t.prefix), { qos: 1 })
        const pub = await t.connect({ protocolVersion: 5, clientId: t.clientId('pub5p') })
        const arriving = collect(sub, 1)
        const corr = randomBytes(16)
        await pub.publishAsync(upTopic(id, t.prefix), 'x', { qos: 1, properties: { responseTopic: downTopic(id, t.prefix), correlationData: corr, userProperties: { k: 'v' } } })
        const [m] = await arriving
        assert.is(m!.packet.properties?.responseTopic, downTopic(id, t.prefix))
        assert.ok(Buffer.from(m!.packet.properties?.correlationData ?? []).equals(corr))
        assert.equal({ ...m!.packet.properties?.userProperties }, { k: 'v' })
      })
    }

    each(`v${v} a payload of exactly MAX_PAYLOAD_BYTES (${MAX_PAYLOAD_BYTES}) is delivered intact`, async (t) => {
      const hub = await t.connect({ protocolVersion: v, clientId: t.clientId(`hubl${v}`) })
      await hub.subscribeAsync(hubFilter({ prefix: t.prefix }), { qos: 1 })
      const dev = await t.connect({ protocolVersion: v, clientId: t.clientId(`devl${v}`) })
      const big = randomBytes(MAX_PAYLOAD_BYTES)
      const arriving = collect(hub, 1, 15000)
      await dev.publishAsync(upTopic(agentId(), t.prefix), big, { qos: 1 })
      assert.ok((await arriving)[0]!.payload.equals(big))
    })
  }

  if (spec.name === 'embedded') {
    each('a payload over MAX_PAYLOAD_BYTES is not routed and its publisher is disconnected', async (t) => {
      const hub = await t.connect({ clientId: t.clientId('hubo') })
      await hub.subscribeAsync(hubFilter({ prefix: t.prefix }), { qos: 1 })
      const got: Buffer[] = []
      hub.on('message', (_topic, payload) => got.push(payload))
      const dev = await t.connect({ clientId: t.clientId('devo') })
      const gone = closed(dev)
      dev.publishAsync(upTopic(agentId(), t.prefix), randomBytes(MAX_PAYLOAD_BYTES + 1), { qos: 1 }).catch(() => {})
      await gone
      // The same hub still receives a legal publish afterwards, so nothing was merely delayed.
      const dev2 = await t.connect({ clientId: t.clientId('devo2') })
      const next = collect(hub, 1)
      await dev2.publishAsync(upTopic(agentId(), t.prefix), 'ok', { qos: 1 })
      await next
      assert.equal(got.map((p) => p.toString()), ['ok'])
    })
  }

  if (spec.name === 'embedded') {
    each('shared subscriptions are refused (SUBACK failure), not silently granted', async (t) => {
      const hub = await t.connect({ clientId: t.clientId('hubs') })
      // mqtt.js turns a SUBACK failure (0x80) into a rejected subscribe.
      const refused = await hub.subscribeAsync(hubFilter({ prefix: t.prefix, shareGroup: 'hubs' }), { qos: 1 }).then(() => false, () => true)
      assert.ok(refused, 'subscribe rejected')
      assert.ok(hub.connected, 'the client stays connected')
    })
  } else {
    for (const v of versions) {
      each(`v${v} shared subscription splits messages between group members, each delivered once`, async (t) => {
        const filter = hubFilter({ prefix: t.prefix, shareGroup: 'hubs' })
        const a = await t.connect({ protocolVersion: v, clientId: t.clientId(`sha${v}`) })
        const b = await t.connect({ protocolVersion: v, clientId: t.clientId(`shb${v}`) })
        for (const c of [a, b]) assert.is((await c.subscribeAsync(filter, { qos: 1 }))[0]!.qos, 1)
        const seen: Array<[string, number]> = []
        a.on('message', (_t, p) => seen.push(['a', p[0]!]))
        b.on('message', (_t, p) => seen.push(['b', p[0]!]))
        const dev = await t.connect({ protocolVersion: v, clientId: t.clientId(`shd${v}`) })
        const ids = Array.from({ length: 4 }, agentId)
        for (let i = 0; i < 20; i++) await dev.publishAsync(upTopic(ids[i % 4]!, t.prefix), Buffer.from([i]), { qos: 1 })
        const deadline = Date.now() + 5000
        while (seen.length < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
        await new Promise((resolve) => setTimeout(resolve, 100)) // a duplicate would arrive here
        assert.equal(seen.map(([, i]) => i).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i))
        assert.ok(seen.some(([who]) => who === 'a') && seen.some(([who]) => who === 'b'), 'both members got a share')
      })
    }
  }
}

Broker.run()
