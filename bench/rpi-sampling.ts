// The Pi sampling-loop figures for `npm run bench`: RSS, CPU and block-device bytes written per reading
// of AuditedPiAgent.sample() at 10 Hz on a real Agent, in each durability mode (durable: each reading
// fsynced; interval: one fsync per syncIntervalMs; relaxed: none until close). It runs in a child
// process so the RSS is that of a sampling script alone, not of the bench runner. Bytes written are
// the child's own /proc/self/io write_bytes: what it caused to be sent to the block layer (counted
// when a page is dirtied, so a 4 KB log page rewritten by 20 unsynced appends counts once, as the
// card sees it), excluding the filesystem's journal, which the kernel writes on its own account
// (ext4 adds a journal block or more per fsync, so the real gap between modes is wider, not smaller).
// The store is put under os.tmpdir() (PCP_BENCH_DIR to choose); on tmpfs write_bytes is 0 and the
// result says so. Run directly to see it:   node --import tsx bench/rpi-sampling.ts
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type BenchDurability = 'durable' | 'relaxed' | 'interval'
export interface SamplingBenchOptions { hz?: number, seconds?: number, durability?: BenchDurability, syncIntervalMs?: number }
export interface SamplingBenchResult {
  hz: number
  seconds: number
  readings: number
  /** Resident set size at the end of the run (node + tsx loader + pcp-edge + level). */
  rssMiB: number
  /** RSS growth from just before the loop started to its end. */
  rssGrowthMiB: number
  heapUsedMiB: number
  /** User + system CPU of the whole process during the loop, divided by readings. */
  cpuUsPerReading: number
  /** Share of one core the loop used. */
  cpuPercentOfOneCore: number
  skippedTicks: number
  maxReadMs: number
  durability: string
  syncIntervalMs: number | null
  /** /proc/self/io write_bytes during the loop, per reading; null where /proc/self/io is missing. */
  writeBytesPerReading: number | null
  /** The filesystem the store was on is tmpfs: write_bytes says nothing about a disk there. */
  tmpfs: boolean
}

function writeBytes (): number | null {
  try { return Number(/^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]) } catch { return null }
}
const TMPFS_MAGIC = 0x01021994

const SELF = fileURLToPath(import.meta.url)

export async function benchSampling (opts: SamplingBenchOptions = {}): Promise<SamplingBenchResult> {
  const hz = opts.hz ?? 10
  const seconds = opts.seconds ?? 6
  const mode = opts.durability ?? 'durable'
  const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--inspect')), SELF, '--child', String(hz), String(seconds), mode, String(opts.syncIntervalMs ?? 1000)],
    { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const line = out.split('\n').find((l) => l.startsWith('RESULT '))
  if (code !== 0 || !line) throw new Error(`sampling bench child failed (exit ${code}): ${out.slice(-500)}`)
  return JSON.parse(line.slice(7)) as SamplingBenchResult
}

async function child (hz: number, seconds: number, durability: BenchDurability, syncIntervalMs: number): Promise<SamplingBenchResult> {
  const { Agent } = await import('../runtime/index.js')
  const { AuditedPiAgent } = await import('../rpi/index.js')
  const home = mkdtempSync(join(process.env.PCP_BENCH_DIR ?? tmpdir(), 'pcp-rpi-bench-'))
  try {
    const agent = await Agent.open({ name: 'bench-pi' }, { home, durability, ...(durability === 'interval' ? { syncIntervalMs } : {}) })
    const pi = new AuditedPiAgent(agent)
    // Warm up (JIT, first fsyncs), then measure from a settled state.
    await pi.sample(() => 21.5, { everyMs: 1, sensor: 'warmup', maxReadings: 50, stopOnSignals: false }).done
    globalThis.gc?.()
    const rss0 = process.memoryUsage().rss
    const cpu0 = process.cpuUsage()
    const wb0 = writeBytes()
    const t0 = performance.now()
    let v = 20
    const stats = await pi.sample(() => { v += 0.1; return { temp_c: Math.round(v * 10) / 10, humidity: 41 } },
      { everyMs: 1000 / hz, sensor: 'bench', unit: 'mixed', maxReadings: Math.round(hz * seconds), stopOnSignals: false }).done
    const cpu = process.cpuUsage(cpu0)
    // Before close(): its final fsync is once per run, not per reading.
    const wb1 = writeBytes()
    const wallMs = performance.now() - t0
    const mem = process.memoryUsage()
    const report = await agent.verify()
    await agent.close()
    if (!report.valid) throw new Error('bench chain does not verify')
    const cpuUs = cpu.user + cpu.system
    const r1 = (x: number): number => Math.round(x * 10) / 10
    return {
      hz,
      seconds,
      readings: stats.readings,
      rssMiB: r1(mem.rss / 1048576),
      rssGrowthMiB: r1((mem.rss - rss0) / 1048576),
      heapUsedMiB: r1(mem.heapUsed / 1048576),
      cpuUsPerReading: Math.round(cpuUs / stats.readings),
      cpuPercentOfOneCore: Math.round(1000 * cpuUs / 1000 / wallMs) / 10,
      skippedTicks: stats.skipped_ticks,
      maxReadMs: stats.max_read_ms,
      durability: agent.durability,
      syncIntervalMs: agent.store.syncIntervalMs,
      writeBytesPerReading: wb0 === null || wb1 === null ? null : Math.round((wb1 - wb0) / stats.readings),
      tmpfs: statfsSync(home).type === TMPFS_MAGIC
    }
  } finally { rmSync(home, { recursive: true, force: true }) }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') {
    const result = await child(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] as BenchDurability, Number(process.argv[6]))
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  } else {
    for (const durability of ['durable', 'interval', 'relaxed'] as const) console.log(await benchSampling({ durability }))
  }
}
