// The Pi sampling-loop figure for `npm run bench`: RSS and CPU per reading of AuditedPiAgent.sample() at
// 10 Hz on a real Agent (durable: each reading signed, chained and fsynced). It runs in a child process
// so the RSS is that of a sampling script alone, not of the bench runner. Run directly to see it:
//   node --import tsx bench/rpi-sampling.ts
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface SamplingBenchOptions { hz?: number, seconds?: number }
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
}

const SELF = fileURLToPath(import.meta.url)

export async function benchSampling (opts: SamplingBenchOptions = {}): Promise<SamplingBenchResult> {
  const hz = opts.hz ?? 10
  const seconds = opts.seconds ?? 6
  const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--inspect')), SELF, '--child', String(hz), String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const line = out.split('\n').find((l) => l.startsWith('RESULT '))
  if (code !== 0 || !line) throw new Error(`sampling bench child failed (exit ${code}): ${out.slice(-500)}`)
  return JSON.parse(line.slice(7)) as SamplingBenchResult
}

async function child (hz: number, seconds: number): Promise<SamplingBenchResult> {
  const { Agent } = await import('../runtime/index.js')
  const { AuditedPiAgent } = await import('../rpi/index.js')
  const home = mkdtempSync(join(tmpdir(), 'pcp-rpi-bench-'))
  try {
    const agent = await Agent.open({ name: 'bench-pi' }, { home })
    const pi = new AuditedPiAgent(agent)
    // Warm up (JIT, first fsyncs), then measure from a settled state.
    await pi.sample(() => 21.5, { everyMs: 1, sensor: 'warmup', maxReadings: 50, stopOnSignals: false }).done
    globalThis.gc?.()
    const rss0 = process.memoryUsage().rss
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let v = 20
    const stats = await pi.sample(() => { v += 0.1; return { temp_c: Math.round(v * 10) / 10, humidity: 41 } },
      { everyMs: 1000 / hz, sensor: 'bench', unit: 'mixed', maxReadings: Math.round(hz * seconds), stopOnSignals: false }).done
    const cpu = process.cpuUsage(cpu0)
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
      durability: agent.durability
    }
  } finally { rmSync(home, { recursive: true, force: true }) }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') {
    const result = await child(Number(process.argv[3]), Number(process.argv[4]))
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  } else {
    console.log(await benchSampling())
  }
}
