// The device figures of issue 18, each against its limit measured interleaved with it (bench/method.ts):
//   - stamp+persist, durable, pipelined (a producer keeping ~2k stamps in flight) vs bare sign, 1 core
//   - stamp+persist, durable, awaited batches of 100 (stamp 100, wait for all, repeat) vs bare sign
//   - the main thread's CPU per pipelined event vs the CPU of one bare sign (what bounds the pipeline
//     once the signer thread has spare time; Linux only, from /proc)
//   - chain verify from the store, 1 core, vs bare verify, 1 core
//   - a peer: Hypercore 11 appending batches of 100 blocks of the same size as our records, on the same
//     disk (the OS temp dir). It signs one Merkle root per batch where we sign every event, and its
//     default storage does not fsync a batch, so the fair comparison is our relaxed row.
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSync, sign, verify, randomBytes } from 'node:crypto'
import { Level } from 'level'
import { Agent, encodeRecord, type AissEvent } from '../runtime/index.js'
import { interleaved, type Interleaved } from './method.js'

const MSG = randomBytes(330) // about one event's canonical bytes
const KEYS = generateKeyPairSync('ed25519')
const SIG = sign(null, MSG, KEYS.privateKey)

/** Ed25519 signs per second on this thread. */
export function bareSignPerSec (n: number): number {
  const t = performance.now()
  for (let i = 0; i < n; i++) sign(null, MSG, KEYS.privateKey)
  return n / ((performance.now() - t) / 1000)
}

/** Ed25519 verifies per second on this thread. */
export function bareVerify1PerSec (n: number): number {
  const t = performance.now()
  for (let i = 0; i < n; i++) verify(null, MSG, KEYS.publicKey, SIG)
  return n / ((performance.now() - t) / 1000)
}

const TASK_STAT = `/proc/self/task/${process.pid}/stat`
/** CPU µs the main thread has used (utime + stime, 10 ms ticks); undefined off Linux. */
function mainThreadCpuUs (): number | undefined {
  if (!existsSync(TASK_STAT)) return undefined
  const f = readFileSync(TASK_STAT, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) * 10_000
}

function signCpuUs (n: number): number {
  const c = mainThreadCpuUs()!
  for (let i = 0; i < n; i++) sign(null, MSG, KEYS.privateKey)
  return (mainThreadCpuUs()! - c) / n
}

type Mode = 'pipelined' | 'batch100'

async function stampRun (agent: Agent, mode: Mode, n: number): Promise<number> {
  const t = performance.now()
  if (mode === 'pipelined') {
    const pending: Array<Promise<AissEvent>> = []
    for (let i = 0; i < n; i++) {
      // A producer that keeps ~2k stamps in flight, as a busy robot does; never waits for the whole window.
      pending.push(agent.stamp('sensor_reading', { sensor: 'temp', value: 20 + (i % 100) / 10, unit: 'C' }))
      if (pending.length >= 2048) await Promise.all(pending.splice(0, 1024))
    }
    await Promise.all(pending)
  } else {
    for (let i = 0; i < n; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => agent.stamp('sensor_reading', { sensor: 'temp', value: 20 + ((i + j) % 100) / 10, unit: 'C' })))
    }
  }
  return n / ((performance.now() - t) / 1000)
}

export interface DeviceResult {
  durablePipelined: Interleaved
  durableBatch100: Interleaved
  relaxedPipelined: Interleaved
  /** Main-thread CPU µs per pipelined durable event vs CPU µs of a bare sign (lower is better); null off Linux. */
  mainThreadCpu: Interleaved | null
  chainVerify: Interleaved
  hypercore: Interleaved | null
  hypercoreError?: string
  levelSyncBatchUs: number
  bytesPerEvent: number
}

export async function benchDevice (o: { events: number, reps?: number, log?: (s: string) => void }): Promise<DeviceResult> {
  const log = o.log ?? (() => {})
  const n = o.events
  const signN = Math.max(1000, Math.round(n / 4))
  const reps = o.reps ?? 3
  const dirs: string[] = []
  const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'pcp-bench-device-')); dirs.push(d); return d }
  try {
    const open = async (durability: 'durable' | 'relaxed'): Promise<Agent> => {
      const agent = await Agent.open({ name: 'bench' }, { home: tmp(), durability })
      await Promise.all(Array.from({ length: 2000 }, (_, i) => agent.stamp('warm_up', { i })))
      return agent
    }
    const durable = await open('durable')
    log('  durable, pipelined')
    const durablePipelined = await interleaved({ reps, limit: () => bareSignPerSec(signN), figure: () => stampRun(durable, 'pipelined', n) })
    log('  durable, awaited batches of 100')
    const durableBatch100 = await interleaved({ reps, limit: () => bareSignPerSec(signN), figure: () => stampRun(durable, 'batch100', Math.round(n / 3)) })
    let mainThreadCpu: Interleaved | null = null
    if (mainThreadCpuUs() !== undefined) {
      log('  main-thread CPU per event')
      mainThreadCpu = await interleaved({
        reps,
        lowerIsBetter: true,
        limit: () => signCpuUs(signN),
        figure: async () => { const c = mainThreadCpuUs()!; await stampRun(durable, 'pipelined', n); return (mainThreadCpuUs()! - c) / n }
      })
    }
    let bytes = 0; let counted = 0
    for await (const ev of durable.events(Math.max(0, (durable.head?.seq ?? 0) - 999))) { bytes += encodeRecord(ev, 0).length; counted++ }
    await durable.close()

    const relaxed = await open('relaxed')
    log('  relaxed, pipelined')
    const relaxedPipelined = await interleaved({ reps, limit: () => bareSignPerSec(signN), figure: () => stampRun(relaxed, 'pipelined', n) })
    log('  chain verify from the store')
    const length = (relaxed.head?.seq ?? -1) + 1
    const chainVerify = await interleaved({
      reps,
      limit: () => bareVerify1PerSec(Math.max(1000, Math.round(length / 4))),
      figure: async () => {
        const t = performance.now()
        const report = await relaxed.verify()
        if (!report.valid) throw new Error(`bench chain does not verify: ${report.errors[0]?.message}`)
        return report.eventCount / ((performance.now() - t) / 1000)
      }
    })
    await relaxed.close()

    log('  peer: Hypercore append, batches of 100')
    let hypercore: Interleaved | null = null
    let hypercoreError: string | undefined
    try {
      const spec = 'hypercore' // a devDependency without types: imported by name at run time
      const { default: Hypercore } = await import(spec) as { default: new (dir: string) => { ready (): Promise<void>, append (b: Buffer[]): Promise<unknown>, close (): Promise<void> } }
      const core = new Hypercore(tmp())
      await core.ready()
      const size = Math.round(bytes / Math.max(1, counted))
      const blocks = Array.from({ length: 100 }, () => randomBytes(size))
      hypercore = await interleaved({
        reps,
        limit: () => bareSignPerSec(signN),
        figure: async () => {
          const t = performance.now()
          for (let i = 0; i < n; i += 100) await core.append(blocks)
          return n / ((performance.now() - t) / 1000)
        }
      })
      await core.close()
    } catch (err) { hypercoreError = (err as Error).message }

    const db = new Level<string, Uint8Array>(tmp(), { valueEncoding: 'view' }); await db.open()
    const v = new Uint8Array(130)
    const t = performance.now()
    const m = Math.max(2000, Math.round(n / 2))
    for (let i = 0; i < m; i += 100) await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: 'e!' + String(i + j).padStart(16, '0'), value: v })), { sync: true })
    const levelSyncBatchUs = (performance.now() - t) * 1000 / m
    await db.close()
    return { durablePipelined, durableBatch100, relaxedPipelined, mainThreadCpu, chainVerify, hypercore, ...(hypercoreError ? { hypercoreError } : {}), levelSyncBatchUs, bytesPerEvent: bytes / Math.max(1, counted) }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}
