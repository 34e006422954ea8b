// Also (issue 14 #4): batches stay inside the hub's per-message CBOR limits, an event past them stops
// sync the same way, and so does the hub's final EVENT_TOO_LARGE.
// An event larger than one sync message (the embedded broker takes 1 MiB) used to be resent forever
// with lastError null. Now sending stops with SYNC_EVENT_TOO_LARGE, in flush() and in the status that
// `pcp sync status` prints; the events before it are delivered. Agent.stamp() (and so `pcp stamp`) refuses
// such events up front unless the agent was opened with a larger `maxEventBytes`.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent, MAX_EVENT_BYTES, verifyChain } from '../runtime/index.js'
import { MAX_PAYLOAD_BYTES } from '../sync/topics.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { startEmbeddedBroker } from '../hub/broker.js'
import { decodeEnvelope, encodeEnvelope, MAX_BATCH_RECORDS, MAX_MESSAGE_VALUES, NACK_CODES } from '../sync/wire.js'
import { upTopic, downTopic } from '../sync/topics.js'
import { connectAsync } from 'mqtt'
import { tmpDir, codeOf } from './helpers.js'

const L = suite('sync limits')

L('stamp() refuses an event sync could not deliver, alone: the chain goes on and stays valid', async () => {
  const tmp = tmpDir()
  const agent = await Agent.open({ name: 'cam' }, { home: join(tmp.path, 'dev') })
  try {
    // The default leaves room for the envelope and the signature inside one sync message.
    assert.ok(MAX_EVENT_BYTES + 1024 < MAX_PAYLOAD_BYTES - 64 * 1024)
    await agent.stamp('small', { i: 1 })
    const tooBig = agent.stamp('frame', { jpeg: 'x'.repeat(MAX_EVENT_BYTES) })
    const err = await tooBig.catch((e: unknown) => e) as { code: string, actual: number, expected: number, message: string }
    assert.is(err.code, 'EVENT_TOO_LARGE')
    assert.is(err.expected, MAX_EVENT_BYTES)
    assert.ok(err.actual > MAX_EVENT_BYTES)
    assert.match(err.message, /"frame" event of \d+ canonical bytes exceeds the 921600-byte limit of agent "cam"/)
    await agent.stamp('frame', { jpeg: 'x'.repeat(MAX_EVENT_BYTES - 1000) })
    await agent.stamp('small', { i: 2 })
    const events = []
    for await (const e of agent.events()) events.push(e)
    assert.is(events.length, 3)
    assert.is(verifyChain(events, agent.identityDocument()).valid, true)
    assert.match(String(await Agent.open({ name: 'cam2' }, { home: join(tmp.path, 'dev'), maxEventBytes: 0 }).catch((e: Error) => e.message)), /"maxEventBytes" expected a positive number/)
  } finally {
    await agent.close(); tmp.cleanup()
  }
})

L('an event over the message limit (an agent opened with a larger maxEventBytes) stops sync visibly; the ones before it reach the hub', async () => {
  const tmp = tmpDir()
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: 0, approval: 'auto', workers: 0, control: false })
  const agent = await Agent.open({ name: 'cam' }, { home: join(tmp.path, 'dev'), maxEventBytes: 4 * 1024 * 1024 })
  let sync: SyncAgent | undefined
  try {
    await agent.stamp('small', { i: 1 })
    await agent.stamp('frame', { jpeg: 'x'.repeat(1_100_000) })
    sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [agent], ackTimeoutMs: 500, statusFile: false })
    assert.is(await codeOf(sync.flush(10_000)), 'SYNC_EVENT_TOO_LARGE')
    const st = sync.status().agents[0]!
    assert.is(st.phase, 'stopped')
    assert.is(st.lastError?.code, 'SYNC_EVENT_TOO_LARGE')
    assert.match(st.lastError!.message, /event #1 of cam is \d+ bytes/)
    assert.is(st.ackedSeq, 0)
  } finally {
    await sync?.close(); await agent.close(); await hub.close(); tmp.cleanup()
  }
})

L('batches are split by CBOR values too; one event over the value limit stops sync visibly', async () => {
  const tmp = tmpDir()
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: 0, approval: 'auto', workers: 0, control: false })
  const agent = await Agent.open({ name: 'lidar' }, { home: join(tmp.path, 'dev') })
  let sync: SyncAgent | undefined
  try {
    // 4 scans of 100k points: ~400 KB, under the byte limit, but more values than one message may hold
    // (the hub refuses such a message unread, so sent as one batch it was never acknowledged).
    for (let i = 0; i < 4; i++) await agent.stamp('scan', { points: new Array(100_000).fill(i) })
    sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [agent], ackTimeoutMs: 500, statusFile: false })
    await sync.flush(15_000)
    assert.is(hub.chain.status(agent.agentId)!.eventCount, 4)
    assert.is(hub.rejections().CBOR_TOO_MANY_VALUES, undefined)
    await agent.stamp('scan', { points: new Array(MAX_MESSAGE_VALUES).fill(0) })
    assert.is(await codeOf(sync.flush(10_000)), 'SYNC_EVENT_TOO_LARGE')
    const st = sync.status().agents[0]!
    assert.is(st.phase, 'stopped')
    assert.match(st.lastError!.message, /event #4 of lidar .*holds more than 262144 values/)
    assert.is(st.ackedSeq, 3)
  } finally {
    await sync?.close(); await agent.close(); await hub.close(); tmp.cleanup()
  }
})

L('the hub\'s final EVENT_TOO_LARGE stops sync with SYNC_EVENT_TOO_LARGE, sent once', async () => {
  // A hub of another build may count differently: whatever it refuses as too large is final.
  const tmp = tmpDir()
  const broker = await startEmbeddedBroker({ port: 0 })
  const agent = await Agent.open({ name: 'cam' }, { home: join(tmp.path, 'dev') })
  const hubSide = await connectAsync(broker.url, { protocolVersion: 4 })
  let sync: SyncAgent | undefined
  try {
    let batches = 0
    await hubSide.subscribeAsync(upTopic(agent.agentId), { qos: 1 })
    hubSide.on('message', (_t, payload) => {
      const d = decodeEnvelope(payload)
      if (!d.ok) return
      const corr = d.env.corr
      const answer = d.env.kind === 'events'
        ? (batches++, { v: 1, kind: 'nack', corr, code: NACK_CODES.EVENT_TOO_LARGE, message: 'event #0 of x: too big', head: null, retry: false })
        : { v: 1, kind: 'head', corr, state: 'allowed', head: null }
      hubSide.publish(downTopic(agent.agentId), Buffer.from(encodeEnvelope(answer)), { qos: 1 })
    })
    await agent.stamp('frame', { i: 1 })
    sync = await SyncAgent.start({ url: broker.url, agents: [agent], ackTimeoutMs: 300, statusFile: false })
    assert.is(await codeOf(sync.flush(10_000)), 'SYNC_EVENT_TOO_LARGE')
    await new Promise((r) => setTimeout(r, 1000))
    assert.is(batches, 1)
    assert.match(sync.status().agents[0]!.lastError!.message, /the hub refused cam: event #0 of x: too big/)
  } finally {
    await sync?.close(); await hubSide.endAsync(); await agent.close(); await broker.close(); tmp.cleanup()
  }
})

L('batchSize is at most what a hub takes in one message', async () => {
  const tmp = tmpDir()
  const agent = await Agent.open({ name: 'cam' }, { home: join(tmp.path, 'dev') })
  try {
    const err = await SyncAgent.start({ url: 'mqtt://127.0.0.1:1', agents: [agent], batchSize: MAX_BATCH_RECORDS + 1, statusFile: false }).then(() => null, (e: Error) => e)
    assert.instance(err, RangeError)
    assert.match(err!.message, /"batchSize" expected at most 1024/)
  } finally { await agent.close(); tmp.cleanup() }
})

L.run()
