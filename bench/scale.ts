// Scale-out figures for `npm run bench -- --only scale` (docs/scaling.md): ingest with the PostgreSQL store
// by 1 hub and by 2 hubs sharing one subscription on an external broker (Mosquitto: round robin), store
// bytes per event in LevelDB and PostgreSQL, and the time to export one long chain from each store.
// Hubs and devices run in this process (one event loop, the verify workers beside it) and PostgreSQL and
// the broker on the same 2 cores: two hubs here cannot be faster than one, the figure shows what a second
// hub costs (its share of races and of the database), which is what sizing a cluster needs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Agent, Identity, stampEvent } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { LevelHubStore } from '../hub/store/level.js'
import { StoreChainView } from '../hub/store/view.js'
import { newRecord } from '../hub/registry.js'
import type { HubStore } from '../hub/store/types.js'

export interface ScaleIngest { hubs: number, events: number, seconds: number, eventsPerSec: number, raceNacks: number }

/** Devices' events through `hubs` hubs on one store and one external broker (a shared subscription when more than one). */
export async function benchSharedIngest (opts: { store: string, mqttUrl: string, hubs: number, events: number, agents?: number, workers?: number }): Promise<ScaleIngest> {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-scale-'))
  const prefix = `bench-${randomBytes(4).toString('hex')}/v1`
  const group = `bench-${randomBytes(4).toString('hex')}`
  const nAgents = opts.agents ?? 4
  const agents: Agent[] = []
  const hubs: Hub[] = []
  let sync: SyncAgent | undefined
  try {
    for (let a = 0; a < nAgents; a++) {
      const agent = await Agent.open({ name: `robot-${a}` }, { home: join(dir, 'device'), durability: 'relaxed' })
      agents.push(agent)
      const per = Math.floor(opts.events / nAgents) + (a < opts.events % nAgents ? 1 : 0)
      for (let i = 0; i < per; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, per - i) }, (_, j) => agent.stamp('sensor_reading', { seq: i + j, value: 20.5 + (j % 10) / 10 })))
    }
    for (let h = 0; h < opts.hubs; h++) {
      hubs.push(await Hub.start({ dataDir: join(dir, `hub${h}`), store: opts.store, mqttUrl: opts.mqttUrl, prefix, ...(opts.hubs > 1 ? { shareGroup: group } : {}), approval: 'auto', workers: opts.workers ?? 1, control: false }))
    }
    // The workers start at a hub's first batch (hub/lazy-pool.ts): a warm-up, outside the measurement.
    for (const h of hubs) await h.startVerifyWorkers()
    const t = performance.now()
    sync = await SyncAgent.start({ url: opts.mqttUrl, prefix, agents, maxEventsPerSec: Infinity, batchSize: 256, maxInFlight: 4, ackTimeoutMs: 5000, statusFile: false })
    await sync.flush(300_000)
    const seconds = (performance.now() - t) / 1000
    const stored = hubs.reduce((n, h) => n + h.stats().ingested, 0)
    if (stored !== opts.events) throw new Error(`bench: the hubs stored ${stored} of ${opts.events} events`)
    return { hubs: opts.hubs, events: opts.events, seconds, eventsPerSec: opts.events / seconds, raceNacks: hubs.reduce((n, h) => n + h.stats().raceNacks, 0) }
  } finally {
    await sync?.close().catch(() => {})
    for (const h of hubs) await h.close().catch(() => {})
    for (const a of agents) await a.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface ScaleExport { events: number, seconds: number, bytesPerEvent: number, exportBytes: number }

/**
 * One chain of `events` events written straight into a store (as ingest writes them, 1,000 per append),
 * then exported as pcp audit JSON through the hub's chain view (what `GET /api/agent/:id/export` streams).
 * `size` measures the store afterwards.
 */
export async function benchExport (store: HubStore, events: number, size: () => Promise<number>): Promise<ScaleExport> {
  const id = Identity.generate()
  const rec = { ...newRecord(id.agentId, 'long', 'allowed', 1), identity: id.document(), keys: [{ agentId: id.agentId, publicKey: id.publicKey }] }
  await store.putAgent(rec)
  let prev: string | null = null
  let current = rec
  for (let i = 0; i < events; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, events - i) }, (_, j) => {
      const r = stampEvent(id, { event_type: 'sensor_reading', seq: i + j, value: 20.5 + (j % 10) / 10 }, { previousHash: prev, timestamp: 1_700_000_000 + i + j }); prev = r.hash; return { ...r, keyIndex: 0 }
    })
    const last = batch.at(-1)!
    const next = { ...current, head: { seq: i + batch.length - 1, hash: last.hash, timestamp: last.event.timestamp }, count: i + batch.length }
    await store.append([{ agentId: id.agentId, expectedSeq: i - 1, events: batch, record: next }])
    current = next
  }
  const view = new StoreChainView(store, async () => { throw new Error('read-only') })
  const t = performance.now()
  let bytes = 0
  for await (const chunk of (await view.exportChain(id.agentId))!) bytes += Buffer.byteLength(chunk)
  const seconds = (performance.now() - t) / 1000
  return { events, seconds, bytesPerEvent: (await size()) / events, exportBytes: bytes }
}

export async function benchLevelExport (events: number): Promise<ScaleExport> {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-export-'))
  try {
    const store = await LevelHubStore.open(join(dir, 'store'), { sync: false })
    try {
      return await benchExport(store, events, async () => Number(execFileSync('du', ['-sb', join(dir, 'store')], { encoding: 'utf8' }).split('\t')[0]))
    } finally { await store.close() }
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

export async function benchPgExport (url: string, events: number): Promise<ScaleExport> {
  const { PgHubStore } = await import('../hub/store/pg.js')
  const store = await PgHubStore.open(url, { sync: false })
  const { default: pg } = await import('pg')
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await benchExport(store, events, async () => {
      await c.query('VACUUM ANALYZE pcp_events'); await c.query('VACUUM ANALYZE pcp_nonces')
      const { rows } = await c.query("SELECT sum(pg_total_relation_size(t))::bigint AS b FROM unnest(ARRAY['pcp_events', 'pcp_nonces', 'pcp_agents']::regclass[]) t")
      return Number(rows[0].b)
    })
  } finally { await store.close(); await c.end() }
}
