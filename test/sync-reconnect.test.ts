// Catch-up after an outage (sync/connect.ts, sync/backoff.ts, the hub's hello): a broker that comes back is
// found within a probe interval, not after a backoff that grew during the outage; a broker that refuses us
// is not hammered by the probes; a device waiting on a handshake no hub heard asks again when the hub says
// hello. Real brokers on real TCP ports (aedes in this process, restarted on the same port), a real Hub and
// real Agents on temp homes. Delays are pinned by injecting the jitter's randomness (random = 1: every
// delay is its ceiling, which is what the backoff before this change always waited).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { Aedes } from 'aedes'
import { connectMqtt } from '../sync/connect.js'
import { jitteredDelay } from '../sync/backoff.js'
import { startEmbeddedBroker } from '../hub/broker.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { Agent } from '../runtime/index.js'
import { freePort, until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const Reconnect = suite('reconnect and catch-up')
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

Reconnect('jitteredDelay: uniform between the floor and a ceiling that doubles per attempt, capped', () => {
  assert.is(jitteredDelay(0, 500, 30_000, () => 1), 500)
  assert.is(jitteredDelay(3, 500, 30_000, () => 1), 4000)
  assert.is(jitteredDelay(3, 500, 30_000, () => 0), 500)
  assert.is(jitteredDelay(10, 500, 30_000, () => 1), 30_000)
  assert.is(jitteredDelay(1000, 500, 30_000, () => 0.5), 15_250)
  const seen = new Set(Array.from({ length: 50 }, () => jitteredDelay(6, 500, 30_000)))
  assert.ok(seen.size > 10, 'the delays of a fleet spread out')
  for (const d of seen) assert.ok(d >= 500 && d <= 30_000)
  assert.throws(() => jitteredDelay(-1, 500, 30_000), /attempt/)
  assert.throws(() => jitteredDelay(0, 0, 30_000), /minMs/)
})

Reconnect('a broker back after an outage is reconnected within the probe interval, not at the grown backoff', async () => {
  const port = await freePort()
  let broker = await startEmbeddedBroker({ port })
  const client = connectMqtt({ url: broker.url, protocolVersion: 4, minReconnectMs: 200, maxReconnectMs: 60_000, probeMs: 300, random: () => 1 })
  try {
    await until(() => client.connected, 5000, 'first connect')
    await broker.close()
    // Attempts at ~0.2, 0.6, 1.4, 3.0, 6.2 and 12.6 s after the loss: back at 8 s, the next attempt is 4.6 s away.
    await sleep(8000)
    broker = await startEmbeddedBroker({ port })
    const back = Date.now()
    await until(() => client.connected, 10_000, 'reconnect')
    const took = Date.now() - back
    assert.ok(took < 1500, `reconnected ${took} ms after the broker came back (probe every ~300 ms; the backoff alone waits ~4600 ms)`)
  } finally {
    await client.endAsync(true)
    await broker.close()
  }
})

Reconnect('a broker that accepts TCP but refuses the CONNECT is retried at the backoff, not at every probe', async () => {
  const aedes = await Aedes.createBroker({ authenticate: (_c, _u, _p, done) => { done(Object.assign(new Error('no'), { returnCode: 4 }), false) } })
  let connects = 0
  aedes.on('connackSent', () => { connects++ })
  const server: Server = createServer(aedes.handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const client = connectMqtt({ url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, minReconnectMs: 200, maxReconnectMs: 60_000, probeMs: 100, random: () => 1 })
  client.on('error', () => {})
  try {
    await sleep(5000)
    // Backoff alone: the first attempt and those at ~0.2, 0.6, 1.4 and 3.0 s. Probing after a refusal would
    // reconnect every ~100 ms (dozens).
    assert.ok(connects >= 3 && connects <= 6, `${connects} CONNECTs refused in 5 s`)
  } finally {
    await client.endAsync(true)
    await new Promise<void>((r) => server.close(() => r()))
    await new Promise<void>((r) => aedes.close(() => r()))
  }
})

Reconnect("a device whose handshake no hub heard asks again at the hub's hello, not at its ack timeout", async () => {
  const tmp = tmpDir()
  const broker = await startEmbeddedBroker({ port: 0 })
  const hubDir = join(tmp.path, 'hub')
  let hub = await Hub.start({ dataDir: hubDir, mqttUrl: broker.url, approval: 'auto', workers: 1, control: false })
  const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
  let sync: SyncAgent | undefined
  try {
    await agent.stamp('tick', { i: 0 })
    sync = await SyncAgent.start({ url: broker.url, agents: [agent], ackTimeoutMs: 20_000, statusFile: false })
    await sync.flush(10_000)
    await hub.close()
    await agent.stamp('tick', { i: 1 })
    // The batch goes out to no hub; its ack would be awaited for 20 s.
    await until(() => sync!.status().agents[0]!.inflight > 0 || sync!.status().agents[0]!.phase === 'handshake', 5000, 'a batch in flight')
    await sleep(300)
    const started = Date.now()
    hub = await Hub.start({ dataDir: hubDir, mqttUrl: broker.url, approval: 'auto', workers: 1, control: false })
    await sync.flush(10_000)
    const took = Date.now() - started
    assert.ok(took < 5000, `synced ${took} ms after the hub started (without the hello: at the 20 s ack timeout)`)
    assert.is(hub.chain.status(agent.agentId)!.eventCount, 2)
  } finally {
    await sync?.close()
    await agent.close()
    await hub.close()
    await broker.close()
    tmp.cleanup()
  }
})

Reconnect.run()
