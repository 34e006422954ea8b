// End-to-end ingest benchmark: device stores → SyncAgent → MQTT (the hub's embedded broker, real TCP on
// loopback) → verify pool → hub store (LevelDB, fsync per group commit) → ack. Device agents are stamped
// first; the clock runs from the sync agent's start to the last hub ack. Hub and devices run in THIS
// process (one event loop for the hub's main thread and the device side, plus the verify workers), so
// the figure is conservative for a hub on its own machine.
// Beside it, `bareVerifyPerSec`: Ed25519 verifies per second over all cores, measured in the same run,
// the ceiling ingest can approach (each event costs one verify).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { Agent } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'

export interface BenchIngestOptions {
  events?: number
  agents?: number
  workers?: number
  batchSize?: number
  /** Feed Vigil too (default true: what `pcp hub start` does). */
  vigil?: boolean
  /** A postgres:// URL: the hub runs on the PostgreSQL store there (an empty database). Default LevelDB. */
  store?: string
  /** The bare verify limit to compare with, measured by the caller in the same run (else measured here). */
  bareVerifyPerSec?: number
}

export interface BenchIngestResult {
  events: number
  agents: number
  workers: number
  seconds: number
  eventsPerSec: number
  /** Ed25519 verifies/s over `workers` threads, measured just before. */
  bareVerifyPerSec: number
  ratio: number
  where: string
}

const VERIFY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const c = require('node:crypto')
const { publicKey, privateKey } = c.generateKeyPairSync('ed25519')
const msg = c.randomBytes(330); const sig = c.sign(null, msg, privateKey)
const t = performance.now(); for (let i = 0; i < workerData.n; i++) c.verify(null, msg, publicKey, sig)
parentPort.postMessage(performance.now() - t)`

export async function bareVerifyPerSec (n: number, threads: number): Promise<number> {
  const per = Math.ceil(n / threads)
  const t = performance.now()
  await Promise.all(Array.from({ length: threads }, () => new Promise((resolve, reject) => {
    const w = new Worker(VERIFY_WORKER, { eval: true, workerData: { n: per } })
    w.once('message', (m) => { void w.terminate(); resolve(m) }); w.once('error', reject)
  })))
  return (per * threads) / ((performance.now() - t) / 1000)
}

export async function benchIngest (opts: BenchIngestOptions = {}): Promise<BenchIngestResult> {
  const total = opts.events ?? 20_000
  const nAgents = opts.agents ?? 4
  const workers = opts.workers ?? availableParallelism()
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-ingest-'))
  const agents: Agent[] = []
  let hub: Hub | undefined
  let sync: SyncAgent | undefined
  try {
    const bare = opts.bareVerifyPerSec ?? await bareVerifyPerSec(Math.min(total, 20_000), workers)
    for (let a = 0; a < nAgents; a++) {
      const agent = await Agent.open({ name: `robot-${a}` }, { home: join(dir, 'device'), durability: 'relaxed' })
      agents.push(agent)
      const per = Math.floor(total / nAgents) + (a < total % nAgents ? 1 : 0)
      for (let i = 0; i < per; i += 1000) {
        await Promise.all(Array.from({ length: Math.min(1000, per - i) }, (_, j) => agent.stamp('sensor_reading', { sensor: 'lidar', seq: i + j, value: 20.5 + (j % 10) / 10, unit: 'm' })))
      }
    }
    hub = await Hub.start({ dataDir: join(dir, 'hub'), ...(opts.store ? { store: opts.store } : {}), port: 0, approval: 'auto', workers, control: false, ...(opts.vigil === false ? { vigil: false as const, interactions: false as const } : {}) })
    // The workers start at the hub's first batch (hub/lazy-pool.ts): a warm-up, outside the measurement.
    await hub.startVerifyWorkers()
    const t = performance.now()
    sync = await SyncAgent.start({ url: hub.mqttUrl, agents, maxEventsPerSec: Infinity, batchSize: opts.batchSize ?? 512, maxInFlight: 4, statusFile: false })
    await sync.flush(300_000)
    const seconds = (performance.now() - t) / 1000
    if (hub.stats().ingested !== total) throw new Error(`bench: the hub stored ${hub.stats().ingested} of ${total} events`)
    const eventsPerSec = total / seconds
    return { events: total, agents: nAgents, workers, seconds, eventsPerSec, bareVerifyPerSec: bare, ratio: eventsPerSec / bare, where: 'hub and devices in one process, embedded broker over loopback TCP' }
  } finally {
    await sync?.close().catch(() => {})
    await hub?.close().catch(() => {})
    for (const a of agents) await a.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}
