// Catch-up after a broker outage: a device stamps at a steady rate through a hub on an external broker
// (aedes on a fixed loopback port, so it can come back where it was); the broker goes away for `outageMs`
// and comes back. Figures: how long after the broker's return the device and the hub are connected again,
// and how long until everything stamped during the outage is acknowledged by the hub. Hub, device and
// broker share this process; stopping the broker closes every client's socket, as a crash would.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { Agent } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { startEmbeddedBroker } from '../hub/broker.js'
import { SyncAgent } from '../sync/agent.js'

export interface CatchUpResult { outageMs: number, backlog: number, deviceReconnectMs: number, hubReconnectMs: number, catchUpMs: number }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
async function waitFor (cond: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = Date.now()
  while (!cond()) { if (Date.now() - t0 > ms) throw new Error(`bench: no ${what} within ${ms} ms`); await sleep(10) }
  return Date.now() - t0
}
function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

export async function benchCatchUp (opts: { outageMs: number, stampsPerSec?: number }): Promise<CatchUpResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-reconnect-'))
  const port = await freePort()
  let broker = await startEmbeddedBroker({ port })
  const hub = await Hub.start({ dataDir: join(dir, 'hub'), mqttUrl: broker.url, approval: 'auto', workers: 1, control: false })
  const agent = await Agent.open({ name: 'bench-arm' }, { home: join(dir, 'dev') })
  const sync = await SyncAgent.start({ url: broker.url, agents: [agent], statusFile: false })
  let stamping = true
  const rate = opts.stampsPerSec ?? 50
  const stamper = (async () => { let i = 0; while (stamping) { await agent.stamp('tick', { i: i++ }); await sleep(1000 / rate) } })()
  try {
    await waitFor(() => sync.status().agents[0]!.ackedSeq >= 10, 30_000, 'first acks')
    await broker.close()
    await sleep(opts.outageMs)
    broker = await startEmbeddedBroker({ port })
    const back = Date.now()
    const backlog = sync.status().agents[0]!.backlog
    const hubClient = hub.client
    const [deviceReconnectMs, hubReconnectMs] = await Promise.all([
      waitFor(() => sync.status().connected, 120_000, 'device reconnect'),
      waitFor(() => hubClient.connected, 120_000, 'hub reconnect')
    ])
    const ackedAtReturn = agent.store.head!.seq
    await waitFor(() => (sync.status().agents[0]!.ackedSeq) >= ackedAtReturn, 180_000, 'catch-up')
    return { outageMs: opts.outageMs, backlog, deviceReconnectMs, hubReconnectMs, catchUpMs: Date.now() - back }
  } finally {
    stamping = false; await stamper
    await sync.close(); await agent.close(); await hub.close(); await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
