// A tiny Prometheus registry (text exposition format 0.0.4) shared by the hub's ingest and its HTTP
// API: counters and gauges with labels, rendered on scrape. No dependency: the format is a few lines
// of escaping rules, and prom-client would pull a default process collector we do not want.
// Label values can come from the wire (agent names, reason codes), so every series set is bounded:
// past `maxSeries` a metric drops new label combinations and counts them in pcp_metrics_dropped_series_total.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export type Labels = Record<string, string | number>
type Kind = 'counter' | 'gauge'

/** Label values: backslash, double quote and line feed are escaped (format 0.0.4). */
export function escapeLabelValue (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text: backslash and line feed only. */
export function escapeHelp (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

export function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

class Metric {
  readonly series = new Map<string, { labels: string, value: number }>()

  constructor (readonly registry: MetricsRegistry, readonly name: string, readonly kind: Kind, readonly help: string, readonly labelNames: readonly string[]) {}

  /** The series key, or null when the series set is full (then the drop is counted). */
  protected entry (labels: Labels | undefined): { labels: string, value: number } | null {
    const text = this.#labelText(labels ?? {})
    let e = this.series.get(text)
    if (e === undefined) {
      if (this.series.size >= this.registry.maxSeries) { this.registry.dropped++; return null }
      e = { labels: text, value: 0 }
      this.series.set(text, e)
    }
    return e
  }

  #labelText (labels: Labels): string {
    const keys = Object.keys(labels)
    for (const k of keys) {
      if (!this.labelNames.includes(k)) throw new RangeError(`metric ${this.name}: unknown label "${k}" (declared: ${this.labelNames.join(', ') || 'none'})`)
    }
    // Declared order, so {a,b} and {b,a} are one series.
    const parts: string[] = []
    for (const k of this.labelNames) {
      const v = labels[k]
      if (v === undefined) continue
      parts.push(`${k}="${escapeLabelValue(String(v))}"`)
    }
    return parts.length === 0 ? '' : `{${parts.join(',')}}`
  }

  remove (labels: Labels = {}): void { this.series.delete(this.#labelText(labels)) }
  reset (): void { this.series.clear() }

  get (labels: Labels = {}): number | undefined { return this.series.get(this.#labelText(labels))?.value }

  render (): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.kind}\n`
    for (const s of this.series.values()) out += `${this.name}${s.labels} ${formatValue(s.value)}\n`
    return out
  }
}

export class Counter extends Metric {
  inc (labels?: Labels, n = 1): void {
    if (typeof n !== 'number' || !(n >= 0)) throw new RangeError(`counter ${this.name}: "n" expected a number ≥ 0, got ${String(n)}`)
    const e = this.entry(labels)
    if (e !== null) e.value += n
  }
}

export class Gauge extends Metric {
  set (labels: Labels | undefined, value: number): void {
    if (typeof value !== 'number') throw new TypeError(`gauge ${this.name}: "value" expected a number, got ${typeof value}`)
    const e = this.entry(labels)
    if (e !== null) e.value = value
  }

  inc (labels?: Labels, n = 1): void { const e = this.entry(labels); if (e !== null) e.value += n }
  dec (labels?: Labels, n = 1): void { const e = this.entry(labels); if (e !== null) e.value -= n }
}

export interface MetricsOptions {
  /** Series per metric before new label combinations are dropped (default 10 000). */
  maxSeries?: number
}

export class MetricsRegistry {
  readonly maxSeries: number
  dropped = 0
  readonly #metrics = new Map<string, Metric>()
  readonly #collectors: Array<() => void> = []

  constructor (opts: MetricsOptions = {}) {
    const max = opts.maxSeries ?? 10_000
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`"maxSeries" expected an integer ≥ 1, got ${String(max)}`)
    this.maxSeries = max
  }

  /** Get-or-create: ingest and the API ask for the same counter by name. */
  counter (name: string, help = '', labelNames: readonly string[] = []): Counter {
    return this.#define(name, 'counter', help, labelNames) as Counter
  }

  gauge (name: string, help = '', labelNames: readonly string[] = []): Gauge {
    return this.#define(name, 'gauge', help, labelNames) as Gauge
  }

  /** Runs before each render: for gauges read from live state (VRS per agent, open alerts). */
  onCollect (fn: () => void): void {
    if (typeof fn !== 'function') throw new TypeError(`"fn" expected a function, got ${typeof fn}`)
    this.#collectors.push(fn)
  }

  metric (name: string): Counter | Gauge | undefined { return this.#metrics.get(name) as Counter | Gauge | undefined }

  /** The text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4). */
  render (): string {
    for (const fn of this.#collectors) fn()
    let out = ''
    for (const m of this.#metrics.values()) out += m.render()
    out += '# HELP pcp_metrics_dropped_series_total Label combinations refused because a metric reached its series limit.\n'
    out += '# TYPE pcp_metrics_dropped_series_total counter\n'
    out += `pcp_metrics_dropped_series_total ${this.dropped}\n`
    return out
  }

  #define (name: string, kind: Kind, help: string, labelNames: readonly string[]): Metric {
    const existing = this.#metrics.get(name)
    if (existing !== undefined) {
      if (existing.kind !== kind) throw new TypeError(`metric ${name} is already a ${existing.kind}, not a ${kind}`)
      return existing
    }
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) throw new RangeError(`"name" expected a Prometheus metric name, got ${JSON.stringify(name)}`)
    if (typeof help !== 'string') throw new TypeError(`"help" expected a string, got ${typeof help}`)
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new RangeError(`metric ${name}: label name ${JSON.stringify(l)} is not allowed`)
    }
    const m = kind === 'counter' ? new Counter(this, name, kind, help, labelNames) : new Gauge(this, name, kind, help, labelNames)
    this.#metrics.set(name, m)
    return m
  }
}

/** The hub's metric names, in one place so ingest and the API agree. */
export const HUB_METRICS = {
  eventsIngested: { name: 'pcp_events_ingested_total', help: 'Events that passed verification and were stored, per agent.', labels: ['agent'] },
  eventsRejected: { name: 'pcp_events_rejected_total', help: 'Events refused by the hub, per reason (verifier error code).', labels: ['reason'] },
  eventsDuplicate: { name: 'pcp_events_duplicate_total', help: 'Events received again that the hub already held (resends after a lost ack or a reconnect), dropped.', labels: [] },
  vrs: { name: 'pcp_vrs', help: 'Vigil Risk Score per agent (0 safe .. 1 compromised).', labels: ['agent'] },
  agentInfo: { name: 'pcp_agent_info', help: 'Agent id to registered name (value always 1).', labels: ['agent', 'name', 'state'] },
  agentsByState: { name: 'pcp_agents', help: 'Agents per VRS state.', labels: ['state'] },
  alerts: { name: 'pcp_alerts_total', help: 'Alerts raised by Vigil, per severity.', labels: ['severity'] },
  alertsOpen: { name: 'pcp_alerts_open', help: 'Unacknowledged alerts in the journal, per severity.', labels: ['severity'] },
  storeFailing: { name: 'pcp_hub_store_failing', help: 'The hub store refuses writes after a write error until it has reopened (1), or accepts them (0).', labels: [] },
  storeWriteErrors: { name: 'pcp_hub_store_write_errors_total', help: 'Failed writes to the hub store, per error code (STORE_NO_SPACE, STORE_WRITE_FAILED).', labels: ['code'] }
} as const

export function hubCounter (reg: MetricsRegistry, m: { name: string, help: string, labels: readonly string[] }): Counter {
  return reg.counter(m.name, m.help, m.labels)
}

export function hubGauge (reg: MetricsRegistry, m: { name: string, help: string, labels: readonly string[] }): Gauge {
  return reg.gauge(m.name, m.help, m.labels)
}
