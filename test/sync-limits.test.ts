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

L.run()
