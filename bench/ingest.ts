// End-to-end ingest benchmark: device stores → SyncAgent → MQTT (the hub's embedded broker, real TCP on
// loopback, or an external one) → verify pool → hub store (LevelDB, fsync per group commit) → ack. Device
// agents are stamped first; the clock runs from the sync agent's start to the last hub ack. By default hub
// and devices run in THIS process (one event loop for the hub's main thread and the device side, plus the
// verify workers), so the figure is conservative for a hub on its own machine; with `hubProcess` the hub
// runs in a child (bench/hub-child.ts) and its own CPU per event is measured (issue 18: ≤ 1.2× a verify).
// Beside it, `bareVerify`: Ed25519 verifies per second over all cores, measured in the same run, the
// ceiling ingest can approach (each event costs one verify), and the CPU one verify takes.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
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
  /** Run the hub in a process of its own (bench/hub-child.ts) and measure its CPU. */
  hubProcess?: boolean
  /**
   * With `hubProcess`: events of one more device sent through the fresh hub before the clock starts (default
   * 3,000), so its JIT compiles outside the measurement, as it has in a hub that runs for days (an in-process
   * hub was warm from the runs before it). Not counted in `events`.
   */
  warmupEvents?: number
  /** With `hubProcess`: called with the hub's pid just before and just after the timed window. */
  onHubWindow?: (pid: number, edge: 'start' | 'end') => void
  /** An external broker (mqtt://) for the hub and the devices, on a fresh topic prefix. Default: the hub's embedded one. */
  mqttUrl?: string
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
  /** With `hubProcess`: the hub process's CPU (user + system, every thread) over the timed window ÷ events. */
  hubCpuUsPerEvent?: number
}

// The thread's own CPU from /proc/thread-self/schedstat (nanoseconds on a CPU; Linux), else null: Node 20
// has no per-thread CPU clock, and process.cpuUsage would count the other verify threads too.
const VERIFY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const c = require('node:crypto')
const fs = require('node:fs')
const cpu = () => { try { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) } catch { return NaN } }
const { publicKey, privateKey } = c.generateKeyPairSync('ed25519')
const msg = c.randomBytes(330); const sig = c.sign(null, msg, privateKey)
const c0 = cpu(); const t = performance.now(); for (let i = 0; i < workerData.n; i++) c.verify(null, msg, publicKey, sig)
parentPort.postMessage({ ms: performance.now() - t, cpuNs: cpu() - c0 })`

export interface BareVerify { perSec: number, /** CPU of one verify on its thread (µs), NaN without /proc/thread-self. */ cpuUs: number }

export async function bareVerify (n: number, threads: number): Promise<BareVerify> {
  const per = Math.ceil(n / threads)
  const t = performance.now()
  const runs = await Promise.all(Array.from({ length: threads }, () => new Promise<{ ms: number, cpuNs: number }>((resolve, reject) => {
    const w = new Worker(VERIFY_WORKER, { eval: true, workerData: { n: per } })
    w.once('message', (m) => { void w.terminate(); resolve(m) }); w.once('error', reject)
  })))
  return { perSec: (per * threads) / ((performance.now() - t) / 1000), cpuUs: runs.reduce((s, r) => s + r.cpuNs, 0) / 1000 / (per * threads) }
}

export async function bareVerifyPerSec (n: number, threads: number): Promise<number> {
  return (await bareVerify(n, threads)).perSec
}

export interface HubChild {
  url: string
  pid: number
  ask<T = unknown> (what: 'cpu' | 'stats' | 'heap' | 'close'): Promise<T>
  /** Closes the hub and waits for the process to exit (killed after 20 s). */
  close (): Promise<void>
}

/**
 * A hub (hub/hub.ts options) in a child process, with --expose-gc for heap figures (bench/hub-child.ts).
 * $PCP_BENCH_HUB_NODE_FLAGS: more node flags for it, e.g. `--cpu-prof --cpu-prof-dir=prof` (which
 * NODE_OPTIONS does not take) to profile the hub alone.
 */
export async function startHubChild (opts: object): Promise<HubChild> {
  const flags = process.env.PCP_BENCH_HUB_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
  const child: ChildProcess = fork(new URL('./hub-child.ts', import.meta.url), [JSON.stringify(opts)], { execArgv: ['--expose-gc', '--import', 'tsx', ...flags], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let next = 1
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean, url?: string, id?: number, value?: unknown, error?: string }) => {
      if (m.ready) { resolve(m.url!); return }
      const w = waiting.get(m.id!); waiting.delete(m.id!)
      if (m.error !== undefined) w?.reject(new Error(m.error)); else w?.resolve(m.value)
    })
    void exited.then(() => { reject(new Error('the hub child exited before it listened')); for (const w of waiting.values()) w.reject(new Error('the hub child exited')) })
  })
  const ask = <T>(what: string): Promise<T> => new Promise<T>((resolve, reject) => { const id = next++; waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }); child.send({ id, ask: what }) })
  return {
    url,
    pid: child.pid!,
    ask,
    async close () {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await ask('close').catch(() => {})
      await exited
      clearTimeout(timer)
    }
  }
}

const cpuUs = (c: { user: number, system: number }): number => c.user + c.system

export async function benchIngest (opts: BenchIngestOptions = {}): Promise<BenchIngestResult> {
  const total = opts.events ?? 20_000
  const nAgents = opts.agents ?? 4
  const workers = opts.workers ?? availableParallelism()
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-ingest-'))
  const agents: Agent[] = []
  let hub: Hub | undefined
  let child: HubChild | undefined
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
    const prefix = opts.mqttUrl ? { prefix: `bench-${randomBytes(4).toString('hex')}/v1` } : {}
    const hubOpts = { dataDir: join(dir, 'hub'), ...(opts.store ? { store: opts.store } : {}), ...(opts.mqttUrl ? { mqttUrl: opts.mqttUrl, ...prefix } : { port: 0 }), approval: 'auto' as const, workers, control: false, ...(opts.vigil === false ? { vigil: false as const, interactions: false as const } : {}) }
    // The workers start at the hub's first batch (hub/lazy-pool.ts): a warm-up, outside the measurement.
    let url: string
    if (opts.hubProcess) { child = await startHubChild(hubOpts); url = child.url } else { hub = await Hub.start(hubOpts); await hub.startVerifyWorkers(); url = hub.mqttUrl }
    const warm = opts.hubProcess ? (opts.warmupEvents ?? 3000) : 0
    if (warm > 0) {
      const w = await Agent.open({ name: 'warm-up' }, { home: join(dir, 'warm'), durability: 'relaxed' })
      agents.push(w)
      for (let i = 0; i < warm; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, warm - i) }, (_, j) => w.stamp('sensor_reading', { sensor: 'lidar', seq: i + j, value: 20.5, unit: 'm' })))
      const ws = await SyncAgent.start({ url, ...prefix, agents: [w], maxEventsPerSec: Infinity, batchSize: opts.batchSize ?? 512, maxInFlight: 4, statusFile: false })
      try { await ws.flush(300_000) } finally { await ws.close() }
    }
    if (child) opts.onHubWindow?.(child.pid, 'start')
    const cpu0 = await child?.ask<{ user: number, system: number }>('cpu')
    const t = performance.now()
    sync = await SyncAgent.start({ url, ...prefix, agents: agents.slice(0, nAgents), maxEventsPerSec: Infinity, batchSize: opts.batchSize ?? 512, maxInFlight: 4, statusFile: false })
    await sync.flush(300_000)
    const seconds = (performance.now() - t) / 1000
    const cpu1 = await child?.ask<{ user: number, system: number }>('cpu')
    if (child) opts.onHubWindow?.(child.pid, 'end')
    const ingested = child ? (await child.ask<{ ingested: number }>('stats')).ingested : hub!.stats().ingested
    if (ingested !== total + warm) throw new Error(`bench: the hub stored ${ingested} of ${total} events (and ${warm} of the warm-up)`)
    const eventsPerSec = total / seconds
    const broker = opts.mqttUrl ? `broker ${opts.mqttUrl}` : 'embedded broker over loopback TCP'
    const where = opts.hubProcess ? `hub in its own process, devices in the bench's, ${broker}` : `hub and devices in one process, ${broker}`
    return { events: total, agents: nAgents, workers, seconds, eventsPerSec, bareVerifyPerSec: bare, ratio: eventsPerSec / bare, where, ...(cpu0 && cpu1 ? { hubCpuUsPerEvent: (cpuUs(cpu1) - cpuUs(cpu0)) / total } : {}) }
  } finally {
    await sync?.close().catch(() => {})
    await hub?.close().catch(() => {})
    await child?.close().catch(() => {})
    for (const a of agents) await a.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}
