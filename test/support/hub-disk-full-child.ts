// Child of test/hub-disk-full.test.ts, inside a private mount namespace: the hub's data dir is on a
// small tmpfs at <mnt>, a device (its home outside the tmpfs) syncs through the hub's embedded broker.
// Fills the tmpfs, stamps, watches the hub refuse and say so, frees it, and checks the device catches up
// with no restart. Prints one JSON line for the parent to judge.
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { Agent, parseJson, verifyAuditExport } from '../../runtime/index.js'
import { SyncAgent } from '../../sync/index.js'
import { Hub } from '../../hub/index.js'
import type { Logger } from '../../sync/log.js'
import { fillDisk } from './disk-full.js'

const mnt = process.argv[3]!
const logged: Array<Record<string, unknown>> = []
const recorder = (level: string): ((obj: object, msg?: string) => void) => (obj, msg) => { logged.push({ level, ...obj, msg }) }
const logger: Logger = { info: recorder('info'), warn: recorder('warn'), error: recorder('error'), debug: recorder('debug'), child: () => logger }

async function until (what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now()
  while (!await cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return Date.now() - t0
}

const metric = async (hub: Hub, line: string): Promise<number | undefined> => {
  const m = (await hub.metrics.render()).split('\n').find((l) => l.startsWith(line + ' '))
  return m === undefined ? undefined : Number(m.slice(line.length + 1))
}

const scenario = process.argv[2]
if (scenario === 'device') await deviceFull()
const devHome = mkdtempSync(join(tmpdir(), 'pcp-dev-'))
const hub = await Hub.start({ dataDir: join(mnt, 'hub'), port: 0, approval: 'auto', workers: 0, control: false, vigil: false, logger })
const agent = await Agent.open({ name: 'rover' }, { home: devHome })
const sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [agent], ackTimeoutMs: 1000, batchSize: 16, statusFile: false })
const out: Record<string, unknown> = {}
const count = (): number => hub.chain.status(agent.agentId)?.eventCount ?? 0
try {
  for (let i = 0; i < 20; i++) await agent.stamp('t', { i })
  await sync.flush(20_000)
  out.before = count()
  out.failingBefore = await metric(hub, 'pcp_hub_store_failing')

  const disk = await fillDisk(mnt)
  // Random payloads: the hub's LevelDB log must really grow past the last free page.
  for (let i = 20; i < 120; i++) await agent.stamp('t', { i, pad: randomBytes(200).toString('hex') })
  // Recorded, not awaited to the end: the parent judges them, and the recovery below runs either way.
  out.sawFailing = await until('the hub to report its store failing', async () => await metric(hub, 'pcp_hub_store_failing') === 1, 10_000).then(() => true, () => false)
  out.sawBusy = await until('the device to hear HUB_BUSY', () => sync.status().agents[0]!.lastError?.code === 'HUB_BUSY', 10_000).then(() => true, () => false)
  out.errorsWhileFull = await metric(hub, 'pcp_hub_store_write_errors_total{code="STORE_NO_SPACE"}')
  out.statusWhileFull = (hub.statusReport() as { store: unknown }).store
  out.deviceWhileFull = sync.status().agents[0]
  out.countWhileFull = count()
  // Still refusing a while later (no half-written progress), and the device has not given up.
  await new Promise((r) => setTimeout(r, 1500))
  out.countLater = count()
  out.phaseLater = sync.status().agents[0]!.phase

  await disk.free()
  out.recoveryMs = await until('the device to catch up', () => count() === 120, 40_000)
  await sync.flush(20_000)
  out.failingAfter = await metric(hub, 'pcp_hub_store_failing')
  out.statusAfter = (hub.statusReport() as { store: unknown }).store
  let text = ''
  for await (const chunk of (await hub.chain.exportChain(agent.agentId))!) text += chunk
  const doc = parseJson(text, 'hub export') as { events: Array<{ payload: { i: number } }> }
  const r = verifyAuditExport(doc as never)
  out.exportValid = r.usable && r.report.valid
  out.exportErrors = r.usable ? r.report.errors.slice(0, 3) : r
  out.exported = doc.events.map((e) => e.payload.i)
  out.rejected = hub.stats().rejected
} catch (err) {
  out.error = (err as Error).message
  out.deviceAtError = sync.status().agents[0]
} finally {
  out.log = logged.filter((l) => typeof l.event === 'string' && String(l.event).startsWith('store_')).map((l) => ({ level: l.level, event: l.event, code: l.code, msg: l.msg }))
  await sync.close(); await agent.close(); await hub.close()
  rmSync(devHome, { recursive: true, force: true })
}
process.stdout.write(JSON.stringify(out) + '\n')

/**
 * The device's disk is the full one (relaxed store, so the outbox fsyncs before each send): the sync
 * agent's cursor writes and the stamps fail, nothing acknowledged is lost, and once space is back the
 * device stamps and syncs again with no restart.
 */
async function deviceFull (): Promise<never> {
  const hubDir = mkdtempSync(join(tmpdir(), 'pcp-hub-'))
  const hub = await Hub.start({ dataDir: hubDir, port: 0, approval: 'auto', workers: 0, control: false, vigil: false })
  const home = join(mnt, 'dev')
  const open = (): Promise<Agent> => Agent.open({ name: 'rover' }, { home, durability: 'relaxed' })
  let agent = await open()
  const sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [agent], ackTimeoutMs: 1000, statusFile: false })
  const acked: number[] = []; const refused: string[] = []
  const stamp = async (i: number, pad: number): Promise<void> => {
    try { await agent.stamp('t', { i, pad: randomBytes(pad).toString('hex') }); acked.push(i) } catch (e) { refused.push((e as { code: string }).code) }
  }
  const out: Record<string, unknown> = { acked, refused }
  let i = 0
  try {
    for (; i < 20; i++) await stamp(i, 10)
    await sync.flush(20_000)
    const disk = await fillDisk(mnt)
    for (let k = 0; k < 40; k++) await stamp(i++, 300)
    await new Promise((r) => setTimeout(r, 1500)) // the sync agent's cursor write runs every second
    out.failureWhileFull = agent.store.failure?.code
    await disk.free()
    out.freedFrom = i
    for (let k = 0; k < 20; k++) await stamp(i++, 300)
    await sync.flush(30_000)
    out.hubCount = hub.chain.status(agent.agentId)?.eventCount
    out.deviceHead = agent.head?.seq
    await sync.close(); await agent.close()
    agent = await open()
    out.stored = (await agent.history()).map((e) => e.payload.i)
    out.reopened = (await agent.verify()).valid
    let text = ''
    for await (const chunk of (await hub.chain.exportChain(agent.agentId))!) text += chunk
    const doc = parseJson(text, 'hub export') as { events: Array<{ payload: { i: number } }> }
    const r = verifyAuditExport(doc as never)
    out.exportValid = r.usable && r.report.valid
    out.exported = doc.events.map((e) => e.payload.i)
  } catch (err) {
    out.error = (err as Error).message
    out.status = sync.status().agents[0]
    await sync.close()
  } finally {
    await agent.close(); await hub.close()
    rmSync(hubDir, { recursive: true, force: true })
  }
  process.stdout.write(JSON.stringify(out) + '\n')
  process.exit(0)
}
