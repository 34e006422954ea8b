// npm run bench [-- --json [FILE]] [-- --quick] [-- --only SECTION]  (--only ros2 | verify | ingest | rpi-durability: just that section)
// One table: each figure, the bare limit measured in the same run, the ratio, and the reference's
// published or measured figure where one exists. Numbers are from this run on this machine, not constants.
import { availableParallelism } from 'node:os'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync, execFileSync } from 'node:child_process'
import { Level } from 'level'
import { Agent, nodeCrypto, Identity, stampEvent, encodeRecord, type AissEvent } from '../runtime/index.js'
import { VerifyPool } from '../hub/verify-pool.js'
import { benchEvaluate } from '../bench/policy.js'
import { benchVigil } from '../bench/vigil.js'
import { benchSampling } from '../bench/rpi-sampling.js'
import { benchIngest, bareVerifyPerSec } from '../bench/ingest.js'
import { SIG, type VerifyItem, type VerifyResult } from '../hub/ingest-verify.js'
import { benchGateRoundTrip } from '../bench/gate.js'
import { benchCatchUp } from '../bench/reconnect.js'
import { writeSyntheticExport, measureVerify } from '../bench/verify.js'
import { benchHashCost, benchRecorder } from '../bench/ros2.js'
// @ts-expect-error: plain .mjs helper
import { buildBundles, CORE_BUDGET_BYTES } from './bundles.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const jsonAt = args.indexOf('--json')
const jsonFile = jsonAt >= 0 ? (args[jsonAt + 1] && !args[jsonAt + 1]!.startsWith('--') ? args[jsonAt + 1]! : 'bench-results.json') : undefined
const CORES = availableParallelism()
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
if (only !== undefined && only !== 'ros2' && only !== 'verify' && only !== 'ingest' && only !== 'rpi-durability') { console.error(`bench: --only expected ros2, verify, ingest or rpi-durability, got ${String(only)}`); process.exit(2) }

interface Row { figure: string, value: number, unit: string, limit?: number, limitName?: string, ratio?: number, reference?: string, note?: string }
const rows: Row[] = []
const tmp = (): string => mkdtempSync(join(tmpdir(), 'pcp-bench-'))
const temps: string[] = []
const log = (s: string): void => { process.stderr.write(s + '\n') }
function row (r: Row): void { rows.push(r); log(`  ${r.figure}: ${fmt(r.value)} ${r.unit}${r.ratio !== undefined ? `  (${(r.ratio * 100).toFixed(0)}% of ${r.limitName})` : ''}`) }
function fmt (n: number): string { return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2) }

// --- bare limits -------------------------------------------------------------------------------------
function bareSignPerSec (n: number): number {
  const key = nodeCrypto.signingKey(nodeCrypto.randomBytes(32)); const msg = nodeCrypto.randomBytes(330)
  const t = performance.now(); for (let i = 0; i < n; i++) key.sign(msg)
  return n / ((performance.now() - t) / 1000)
}

async function levelSyncBatchUs (events: number, batch: number): Promise<number> {
  const dir = tmp(); temps.push(dir)
  const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' }); await db.open()
  const v = new Uint8Array(130)
  const t = performance.now()
  for (let i = 0; i < events; i += batch) {
    await db.batch(Array.from({ length: batch }, (_, j) => ({ type: 'put' as const, key: 'e!' + String(i + j).padStart(16, '0'), value: v })), { sync: true })
  }
  const us = (performance.now() - t) * 1000 / events
  await db.close()
  return us
}

// --- stamping -----------------------------------------------------------------------------------------
async function stampThroughput (durability: 'durable' | 'relaxed', n: number): Promise<{ perSec: number, bytesPerEvent: number }> {
  const home = tmp(); temps.push(home)
  const agent = await Agent.open({ name: 'bench' }, { home, durability })
  // Warm: the first thousands of stamps pay for JIT, the signer thread's start and LevelDB's first log
  // file; timing them measured start-up (51–61% of sign cold against 73–86% warm, issue 18).
  await Promise.all(Array.from({ length: 2000 }, (_, i) => agent.stamp('warm_up', { i })))
  const pending: Array<Promise<AissEvent>> = []
  const t = performance.now()
  for (let i = 0; i < n; i++) {
    // A producer that keeps ~2k stamps in flight, as a busy robot does; never waits for the whole window.
    pending.push(agent.stamp('sensor_reading', { sensor: 'temp', value: 20 + (i % 100) / 10, unit: 'C' }))
    if (pending.length >= 2048) await Promise.all(pending.splice(0, 1024))
  }
  await Promise.all(pending)
  const perSec = n / ((performance.now() - t) / 1000)
  let bytes = 0
  for await (const ev of agent.events(Math.max(0, n + 2000 - 1000))) bytes += encodeRecord(ev, 0).length
  await agent.close()
  return { perSec, bytesPerEvent: bytes / Math.min(n, 1000) }
}

async function chainVerify (n: number): Promise<{ single: number, multi: number }> {
  const home = tmp(); temps.push(home)
  const agent = await Agent.open({ name: 'chain' }, { home, durability: 'relaxed' })
  await Promise.all(Array.from({ length: n }, (_, i) => agent.stamp('tick', { i })))
  let t = performance.now()
  const report = await agent.verify()
  if (!report.valid) throw new Error('bench chain does not verify')
  const single = n / ((performance.now() - t) / 1000)
  // Multi-core: the hub's own verify task (hub/ingest-verify.ts) on the stored records, as they arrive
  // at a hub: decode, canonical form, hash and signature on every core. (Links, nonces and time order
  // are then checked in order on the hub's main thread; that part is in the ingest figure below.)
  const records = await agent.store.recordsRange(0, n)
  const ids = agent.store.identities.map((i) => i.agentId)
  const item = { agentId: agent.agentId, publicKey: agent.publicKey }
  await agent.close()
  const pool = await VerifyPool.open<VerifyItem, VerifyResult>({ module: new URL(`../hub/ingest-verify${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url), exportName: 'verifyBatch', workers: CORES })
  t = performance.now()
  const slices: Array<Promise<VerifyResult>> = []
  for (let i = 0; i < records.length; i += 256) slices.push(pool.submit(`k${(i / 256) % CORES}`, { ...item, ids, records: records.slice(i, i + 256) }))
  const results = await Promise.all(slices)
  const multi = n / ((performance.now() - t) / 1000)
  await pool.close()
  if (!results.every((r) => r.sig.every((code) => code === SIG.OK))) throw new Error('multi-core verify disagrees')
  return { single, multi }
}

async function growth (sizes: number[]): Promise<Array<{ events: number, stampUs: number, reopenMs: number, searchMs: number }>> {
  const home = tmp(); temps.push(home)
  let agent = await Agent.open({ name: 'big' }, { home, durability: 'relaxed' })
  const out = []
  let done = 0
  for (const target of sizes) {
    while (done < target - 1000) {
      const batch = Math.min(5000, target - 1000 - done)
      await Promise.all(Array.from({ length: batch }, (_, i) => agent.stamp(i % 100 === 0 ? 'alarm' : 'tick', { i: done + i })))
      done += batch
    }
    const t = performance.now()
    await Promise.all(Array.from({ length: 1000 }, (_, i) => agent.stamp(i % 100 === 0 ? 'alarm' : 'tick', { i: done + i })))
    const stampUs = (performance.now() - t) * 1000 / 1000
    done += 1000
    await agent.close()
    const r = performance.now(); agent = await Agent.open({ name: 'big' }, { home, durability: 'relaxed' }); const reopenMs = performance.now() - r
    const s = performance.now(); const found = await agent.search({ eventType: 'alarm', limit: 50, reverse: true }); const searchMs = performance.now() - s
    if (found.length === 0) throw new Error('search found nothing')
    out.push({ events: done, stampUs, reopenMs, searchMs })
    log(`  growth at ${done.toLocaleString('en-US')} events: stamp ${stampUs.toFixed(1)} µs, reopen ${reopenMs.toFixed(1)} ms, search by type ${searchMs.toFixed(1)} ms`)
  }
  await agent.close()
  return out
}

function oneEventProcess (bundle: string): { ms: number, rssMiB: number } {
  const home = tmp(); temps.push(home)
  const code = `const t=performance.now();const m=await import(${JSON.stringify(bundle)});const a=await m.Agent.open({name:'one'},{home:${JSON.stringify(home)}});await a.stamp('boot');await a.close();console.log(JSON.stringify({rss:process.memoryUsage().rss}))`
  const t = performance.now()
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' })
  const ms = performance.now() - t
  if (r.status !== 0) throw new Error(r.stderr)
  return { ms, rssMiB: JSON.parse(r.stdout.trim()).rss / 2 ** 20 }
}

// --- run --------------------------------------------------------------------------------------------
const N = quick ? 5000 : 30000
log(`pcp-edge bench on ${CORES} cores${quick ? ' (quick)' : ''}`)
if (only === undefined || only === 'ros2') {
  log('ros2 (stand-in graph: NOT ROS 2 transport; bench/ros2.ts)')
  for (const h of benchHashCost()) {
    const what = `${h.type.split('/').pop()} ${(h.bytes / 1048576).toFixed(2)} MiB`
    row({ figure: `msg_hash ${what}, JSON recipe (pcp-ros2-msg-v1)`, value: h.jsonMs, unit: 'CPU ms/msg' })
    row({ figure: `msg_hash ${what}, CDR recipe (pcp-ros2-cdr-v1)`, value: h.cdrHashMs, unit: 'CPU ms/msg', limit: h.jsonMs, limitName: 'JSON recipe', ratio: h.cdrHashMs / h.jsonMs })
    row({ figure: `serialize ${what} to CDR (stand-in's writer)`, value: h.serializeMs, unit: 'CPU ms/msg', note: 'rclnodejs serializes natively' })
  }
  const rb = await benchRecorder({ seconds: quick ? 2 : 5 })
  row({ figure: 'bag recorder, 100 Hz LaserScan + 30 Hz 640×480 image mix', value: rb.messagesPerSec, unit: 'messages/s', note: `${rb.messages} messages` })
  row({ figure: 'bag recorder, same mix', value: rb.mbPerSec, unit: 'MB/s' })
  row({ figure: 'bag recorder, same mix, per CPU-second of the process', value: rb.messagesPerCpuSec, unit: 'messages/s', note: `${fmt(rb.mbPerCpuSec)} MB per CPU-second` })
  row({ figure: 'bag recorder at the real rates: CPU of the recording process', value: rb.realRateCpuPct, unit: '% of a core', note: `${fmt(rb.realMessagesPerSec)} messages/s, ${fmt(rb.realMbPerSec)} MB/s recorded, ${rb.realPublished} published` })
}
if (only === 'verify') await verifyExports(await bareVerifyPerSec(N, 1))
if (only === 'ingest') {
  const limit = await bareVerifyPerSec(N * CORES, CORES)
  row({ figure: `bare node:crypto Ed25519 verify, ${CORES} cores`, value: limit, unit: 'ops/s' })
  await ingestRows(limit)
}
if (only === 'rpi-durability') await piRows()
if (only !== undefined) finish()
log('bare limits')
const sign = bareSignPerSec(N)
row({ figure: 'bare node:crypto Ed25519 sign', value: sign, unit: 'ops/s', reference: '~44 µs/op on this machine kind' })
const verify1 = await bareVerifyPerSec(N, 1)
row({ figure: 'bare node:crypto Ed25519 verify, 1 core', value: verify1, unit: 'ops/s', reference: '~128 µs/op' })
const verifyAll = await bareVerifyPerSec(N * CORES, CORES)
row({ figure: `bare node:crypto Ed25519 verify, ${CORES} cores`, value: verifyAll, unit: 'ops/s' })
const levelUs = await levelSyncBatchUs(quick ? 5000 : 20000, 100)
row({ figure: 'bare LevelDB sync batch of 100', value: levelUs, unit: 'µs/event', reference: '~17 µs/event' })

log('device store')
const durable = await stampThroughput('durable', N)
row({ figure: 'stamp+persist, durable (fsync per group commit)', value: durable.perSec, unit: 'events/s', limit: sign, limitName: 'bare sign', ratio: durable.perSec / sign, reference: 'reference: store_event 4.15 ms/event (241/s)' })
const relaxed = await stampThroughput('relaxed', N)
row({ figure: 'stamp+persist, relaxed (no fsync)', value: relaxed.perSec, unit: 'events/s', limit: sign, limitName: 'bare sign', ratio: relaxed.perSec / sign })
row({ figure: 'bytes per event on disk (record)', value: durable.bytesPerEvent, unit: 'bytes', reference: 'reference: ~480 bytes of JSON' })
const cv = await chainVerify(N)
row({ figure: 'chain verify, 1 core (from the store)', value: cv.single, unit: 'events/s', limit: verify1, limitName: 'bare verify 1 core', ratio: cv.single / verify1, reference: 'reference: 147 µs/event (6,800/s)' })
row({ figure: `signatures + hashes, ${CORES} cores (hub verify task)`, value: cv.multi, unit: 'events/s', limit: verifyAll, limitName: `bare verify ${CORES} cores`, ratio: cv.multi / verifyAll })

log('packaging')
const bundleDir = join(ROOT, 'test-artifacts', 'bench-bundle'); mkdirSync(bundleDir, { recursive: true })
const sizes = await buildBundles(ROOT, bundleDir)
row({ figure: 'core bundle (minified)', value: sizes.core.bytes / 1024, unit: 'KB', limit: CORE_BUDGET_BYTES / 1024, limitName: `budget ${CORE_BUDGET_BYTES / 1024} KB`, ratio: sizes.core.bytes / CORE_BUDGET_BYTES })
row({ figure: 'browser verifier bundle (minified)', value: sizes.browser.bytes / 1024, unit: 'KB' })
const one = oneEventProcess(sizes.core.file)
row({ figure: 'process that stamps one event: wall time', value: one.ms, unit: 'ms' })
row({ figure: 'process that stamps one event: RSS', value: one.rssMiB, unit: 'MiB' })

log('hub')
const ev = benchEvaluate(quick ? 5000 : 50000)
row({ figure: 'policy evaluation p50', value: ev.p50Us, unit: 'µs' })
row({ figure: 'policy evaluation p99', value: ev.p99Us, unit: 'µs' })
row({ figure: 'Vigil scoring', value: benchVigil(quick ? 10000 : 100000), unit: 'events/s' })
// The limit is the same run's 2-core verify row: a second measurement just before ingest swung 11–21k/s
// and made the ratio disagree with the verify rows of the same table (issue 18).
await ingestRows(verifyAll)
const gr = await benchGateRoundTrip(quick ? 100 : 500)
row({ figure: 'device gate round trip over MQTT p50', value: gr.p50Ms, unit: 'ms' })
row({ figure: 'device gate round trip over MQTT p99', value: gr.p99Ms, unit: 'ms' })

log('catch-up after a broker outage (device at 50 stamps/s, hub on an external broker)')
// Two outage lengths: with a doubling backoff the wait after the broker's return depends on where in its
// cycle the outage ends (before the probes, 2 s after 60 s but 22 s after 40 s on this machine).
for (const outageMs of quick ? [10_000] : [40_000, 60_000]) {
  const cu = await benchCatchUp({ outageMs })
  row({ figure: `catch-up after a ${outageMs / 1000} s broker outage (${cu.backlog} events behind)`, value: cu.catchUpMs, unit: 'ms', reference: 'reconnect delay ceiling 30 s, handshake 60 s', note: `device reconnected after ${cu.deviceReconnectMs} ms, hub after ${cu.hubReconnectMs} ms` })
}

await piRows()

/** The Pi sampling loop at 10 Hz in each durability mode (bench/rpi-sampling.ts): RSS, CPU and bytes written per reading. */
async function piRows (): Promise<void> {
  log('raspberry pi bridge (sampling at 10 Hz, per durability mode)')
  for (const durability of ['durable', 'interval', 'relaxed'] as const) {
    const pi = await benchSampling({ hz: 10, seconds: quick ? 3 : 6, durability, syncIntervalMs: 1000 })
    const mode = durability === 'interval' ? 'interval 1 s' : durability
    row({ figure: `Pi sampling loop at 10 Hz, ${mode}: RSS`, value: pi.rssMiB, unit: 'MiB', note: 'x86 here; includes the tsx loader' })
    row({ figure: `Pi sampling loop at 10 Hz, ${mode}: CPU per reading`, value: pi.cpuUsPerReading, unit: 'µs' })
    if (pi.writeBytesPerReading !== null && !pi.tmpfs) {
      row({ figure: `Pi sampling loop at 10 Hz, ${mode}: block-device bytes written per reading`, value: pi.writeBytesPerReading, unit: 'bytes', note: `/proc/self/io write_bytes, journal excluded; ${fmt(pi.writeBytesPerReading * 864_000 / 1e9)} GB/day at 10 Hz` })
    } else log(`  bytes written per reading (${mode}): not measured (${pi.tmpfs ? 'the store was on tmpfs: set PCP_BENCH_DIR to a disk' : 'no /proc/self/io'})`)
  }
}

log('growth (relaxed stamping into one agent)')
const g = await growth(quick ? [1000, 10000, 50000] : [1000, 10000, 100000, 1000000])
for (const p of g) {
  row({ figure: `stamp cost at ${p.events.toLocaleString('en-US')} events`, value: p.stampUs, unit: 'µs/event', limit: g[0]!.stampUs, limitName: 'cost at 1k', ratio: p.stampUs / g[0]!.stampUs })
  row({ figure: `reopen at ${p.events.toLocaleString('en-US')} events`, value: p.reopenMs, unit: 'ms' })
  row({ figure: `search by type (newest 50) at ${p.events.toLocaleString('en-US')} events`, value: p.searchMs, unit: 'ms' })
}

await verifyExports(verify1)

/** `pcp verify` of large exports: the compiled CLI in a child process, its peak RSS and events/s. */
async function verifyExports (verify1: number): Promise<void> {
  log('pcp verify of large exports (compiled CLI, child process)')
  const dist = join(ROOT, 'test-artifacts', 'bench-dist')
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' })
  for (const n of quick ? [100_000] : [100_000, 1_000_000]) {
    const dir = tmp(); temps.push(dir)
    const file = join(dir, 'export.json')
    writeSyntheticExport(file, n)
    const mib = statSync(file).size / 2 ** 20
    const m = measureVerify(join(dist, 'cli', 'main.js'), file, n)
    rmSync(file)
    const label = n.toLocaleString('en-US')
    row({ figure: `pcp verify of ${label} events: peak RSS`, value: m.peakRssMiB, unit: 'MiB', reference: n === 100_000 ? 'whole-file parse: 841 MB' : 'goal < 100 MB', note: `${mib.toFixed(0)} MiB export` })
    row({ figure: `pcp verify of ${label} events`, value: m.eventsPerSec, unit: 'events/s', limit: verify1, limitName: 'bare verify 1 core', ratio: m.eventsPerSec / verify1, note: 'wall time, process start included' })
  }
}

for (const d of temps) rmSync(d, { recursive: true, force: true })

// The same ingest into a hub on LevelDB and on PostgreSQL (PCP_BENCH_PG_URL, else PCP_TEST_PG_URL: a
// database created for the run and dropped after it; skipped with the reason without a server).
async function ingestRows (limit: number): Promise<void> {
  const events = quick ? 5000 : 20000
  const bi = await benchIngest({ events, agents: 4, bareVerifyPerSec: limit })
  row({ figure: 'hub ingest end to end (device store → MQTT → verify → hub store)', value: bi.eventsPerSec, unit: 'events/s', limit: bi.bareVerifyPerSec, limitName: `bare verify, ${CORES} cores`, ratio: bi.ratio, reference: 'goal 8,000 events/s', note: bi.where })
  const admin = process.env.PCP_BENCH_PG_URL ?? process.env.PCP_TEST_PG_URL
  if (!admin) { log('  hub ingest with the PostgreSQL store: skipped (set PCP_BENCH_PG_URL or PCP_TEST_PG_URL)'); return }
  const { default: pg } = await import('pg')
  const name = `pcp_bench_${process.pid}_${Date.now()}`
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 })
  try { await client.connect(); await client.query(`CREATE DATABASE ${name}`) } catch (err) {
    log(`  hub ingest with the PostgreSQL store: skipped (${admin} unreachable: ${(err as Error).message})`); await client.end().catch(() => {}); return
  }
  try {
    const u = new URL(admin); u.pathname = '/' + name
    const bp = await benchIngest({ events, agents: 4, bareVerifyPerSec: limit, store: u.toString() })
    row({ figure: 'hub ingest with the PostgreSQL store (same path, store → PostgreSQL on loopback)', value: bp.eventsPerSec, unit: 'events/s', limit: bp.bareVerifyPerSec, limitName: `bare verify, ${CORES} cores`, ratio: bp.ratio, note: `${fmt(bp.eventsPerSec / bi.eventsPerSec * 100)}% of the LevelDB store's figure above; PostgreSQL shares the 2 cores` })
  } finally {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    await client.end().catch(() => {})
  }
}

// --- report -------------------------------------------------------------------------------------------
finish()

function finish (): never {
  const w = Math.max(...rows.map((r) => r.figure.length))
  console.log(`\n${'figure'.padEnd(w)}  ${'value'.padStart(12)} unit         ${'limit'.padStart(12)}  ratio   reference`)
  for (const r of rows) {
    console.log(`${r.figure.padEnd(w)}  ${fmt(r.value).padStart(12)} ${r.unit.padEnd(12)} ${(r.limit !== undefined ? fmt(r.limit) : '').padStart(12)}  ${(r.ratio !== undefined ? (r.ratio * 100).toFixed(0) + '%' : '').padStart(5)}   ${r.reference ?? ''}${r.note ? ` (${r.note})` : ''}`)
  }
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify({ machine: { cores: CORES, node: process.version }, quick, only, rows }, null, 2) + '\n')
    console.log(`\nwrote ${jsonFile}`)
  }
  for (const d of temps) rmSync(d, { recursive: true, force: true })
  process.exit(0)
}
