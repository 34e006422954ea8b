// Vigil's figures on /metrics: VRS per agent and open alerts are read from the engine at scrape time
// (gauges, so a forgotten agent disappears); alerts raised are counted as they happen (countAlert is
// the engine's onAlert, or part of it).
import { HUB_METRICS, hubCounter, hubGauge, type MetricsRegistry } from '../metrics.js'
import type { Alert } from './alerts.js'
import type { VigilEngine } from './engine.js'

export function countAlert (metrics: MetricsRegistry, alert: Alert): void {
  hubCounter(metrics, HUB_METRICS.alerts).inc({ severity: alert.severity })
}

const installed = new WeakMap<MetricsRegistry, WeakSet<VigilEngine>>()

/** Registers the scrape-time collector once per (registry, engine). */
export function installVigilMetrics (metrics: MetricsRegistry, vigil: VigilEngine): void {
  let engines = installed.get(metrics)
  if (engines === undefined) { engines = new WeakSet(); installed.set(metrics, engines) }
  if (engines.has(vigil)) return
  engines.add(vigil)
  // Declared up front so a scrape before the first event still shows every family.
  hubCounter(metrics, HUB_METRICS.eventsIngested)
  hubCounter(metrics, HUB_METRICS.eventsRejected)
  hubCounter(metrics, HUB_METRICS.alerts)
  const vrs = hubGauge(metrics, HUB_METRICS.vrs)
  const info = hubGauge(metrics, HUB_METRICS.agentInfo)
  const byState = hubGauge(metrics, HUB_METRICS.agentsByState)
  const open = hubGauge(metrics, HUB_METRICS.alertsOpen)
  metrics.onCollect(() => {
    const summary = vigil.summary()
    vrs.reset(); info.reset(); byState.reset(); open.reset()
    for (const a of summary.agents) {
      vrs.set({ agent: a.agentId }, a.vrs)
      info.set({ agent: a.agentId, name: a.name, state: a.state }, 1)
    }
    for (const [state, n] of Object.entries(summary.counts)) byState.set({ state }, n)
    for (const a of vigil.alerts({ unacknowledged: true })) open.inc({ severity: a.severity })
  })
}
