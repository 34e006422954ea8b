// One path from "an event arrived" to "it is stored and scored", shared by POST /api/agent/<a>/record
// and MQTT ingest. Unlike the reference (gaps.md #57: the record route raised a bogus trust_drift alert
// and never stored the event), the event is verified against the stored head first; only a verified
// event reaches Vigil's onEvent, and every problem becomes an onAnomaly with its code and index.
import type { ChainView, IngestResult } from '../chain-view.js'
import { HUB_METRICS, hubCounter, type MetricsRegistry } from '../metrics.js'
import type { VigilEngine } from './engine.js'
import type { VrsReport } from './vrs.js'

export interface RecordDeps {
  chain: ChainView
  vigil: VigilEngine
  metrics: MetricsRegistry
  /** Unix seconds (the hub's clock, for the anomaly's `at`). */
  now: () => number
}

export async function recordEvent (deps: RecordDeps, agentId: string, event: unknown): Promise<IngestResult & { report: VrsReport }> {
  const result = await deps.chain.ingest(agentId, event)
  const name = deps.chain.status(agentId)?.name
  const meta = name === undefined ? {} : { name }
  let report: VrsReport
  if (result.accepted) {
    report = deps.vigil.onEvent(agentId, event as Parameters<VigilEngine['onEvent']>[1], meta)
    hubCounter(deps.metrics, HUB_METRICS.eventsIngested).inc({ agent: agentId })
  } else if (result.hostile !== undefined) {
    // Not the agent's event: it says nothing about the agent (hub/hostile.ts); the hub counted it.
    report = deps.vigil.vrs(agentId) ?? deps.vigil.registerAgent(agentId, meta)
  } else {
    const at = deps.now()
    report = deps.vigil.vrs(agentId) ?? deps.vigil.registerAgent(agentId, meta)
    for (const p of result.problems) {
      report = deps.vigil.onAnomaly(agentId, { code: p.code, index: p.index, message: p.message, at }, meta)
    }
    // One count per refused event, under its first (most telling) problem, so the sum is the number
    // of refused events.
    hubCounter(deps.metrics, HUB_METRICS.eventsRejected).inc({ reason: result.problems[0]?.code ?? 'UNKNOWN' })
  }
  return { ...result, report }
}
