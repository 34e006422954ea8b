// An event larger than one sync message (the embedded broker takes 1 MiB) used to be resent forever
// with lastError null. Now sending stops with SYNC_EVENT_TOO_LARGE, in flush() and in the status that
// `pcp sync status` prints; the events before it are delivered. `pcp stamp` refuses such payloads up front.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { tmpDir, codeOf } from './helpers.js'

const L = suite('sync limits')

L('an event over the message limit stops sync visibly; the ones before it reach the hub', async () => {
  const tmp = tmpDir()
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: 0, approval: 'auto', workers: 0, control: false })
  const agent = await Agent.open({ name: 'cam' }, { home: join(tmp.path, 'dev') })
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
