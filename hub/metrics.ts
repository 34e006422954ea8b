// The hub's Prometheus registry: prom-client, on a Registry of the hub's own (never prom-client's global
// one) and with no default collectors (an operator scrapes the hub's figures, not Node's heap; add
// prom-client's collectDefaultMetrics({ register: metrics.registry }) if you want them).
// This wrapper adds what prom-client leaves to its caller:
// - get-or-create by name, so ingest, Vigil, TrustGate and the API ask for the same metric;
// - argument checks with RangeError/TypeError naming the metric (prom-client throws plain Errors);
// - a bound on series: label values come from the wire (agent ids, reason codes), so past `maxSeries`
//   a metric drops new label combinations and counts them in pcp_metrics_dropped_series_total;
// - scrape-time collectors (onCollect) for gauges read from live state (VRS per agent, open alerts).
import { Registry, Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, type LabelValues } from 'prom-client'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export type Labels = Record<string, string | number>
type Kind = 'counter' | 'gauge' | 'histogram'
type PromMetric = PromCounter<string> | PromGauge<string> | PromHistogram<string>

/** Latency buckets in seconds: 50 µs (a policy evaluation) to 10 s (a verify queue under a backlog). */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

class Metric<P extends PromMetric = PromMetric> {
  /** Series keys this metric holds, for the bound (prom-client keeps no count we could read). */
  readonly #keys = new Set<string>()

  constructor (readonly registry: MetricsRegistry, readonly name: string, readonly kind: Kind, readonly labelNames: readonly string[], readonly prom: P) {}

  /** Series held now. */
  get size (): number { return this.#keys.size }

  /** Labels in declared order (so {a,b} and {b,a} are one series) and the series key. */
  #ordered (labels: Labels | undefined): { labels: LabelValues<string>, key: string } {
    const given = labels ?? {}
    for (const k of Object.keys(given)) {
      if (!this.labelNames.includes(k)) throw new RangeError(`metric ${this.name}: unknown label "${k}" (declared: ${this.labelNames.join(', ') || 'none'})`)
    }
    const out: LabelValues<string> = {}
    let key = ''
    for (const k of this.labelNames) {
      const v = given[k]
      if (v === undefined) continue
      out[k] = v
      key += `${k}\u0000${String(v)}\u0001`
    }
    return { labels: out, key }
  }

  /** The labels to record under, or null when this would be a new series and the set is full. */
  protected labels (labels: Labels | undefined): LabelValues<string> | null {
    const o = this.#ordered(labels)
    if (!this.#keys.has(o.key)) {
      if (this.#keys.size >= this.registry.maxSeries) { this.registry.countDropped(); return null }
      this.#keys.add(o.key)
    }
    return o.labels
  }

  remove (labels: Labels = {}): void {
    const o = this.#ordered(labels)
    if (this.#keys.delete(o.key)) this.prom.remove(o.labels)
  }

  reset (): void { this.prom.reset(); this.#keys.clear() }

  /** The value of one series (a histogram's: its sample count), as the next scrape shows it. */
  async get (labels: Labels = {}): Promise<number | undefined> {
    const want = Object.entries(labels).map(([k, v]) => [k, String(v)])
    const { values } = await this.prom.get()
    const match = values.find((s) => {
      if (this.kind === 'histogram' && !(s as { metricName?: string }).metricName?.endsWith('_count')) return false
      const have = Object.entries(s.labels)
      return have.length === want.length && want.every(([k, v]) => String(s.labels[k!]) === v)
    })
    return match?.value
  }
}

function checkAmount (name: string, n: unknown, min: number): number {
  if (typeof n !== 'number' || Number.isNaN(n) || n < min) throw new RangeError(`metric ${name}: "n" expected a number${min === 0 ? ' ≥ 0' : ''}, got ${String(n)}`)
  return n
}

export class Counter extends Metric<PromCounter<string>> {
  inc (labels?: Labels, n = 1): void {
    checkAmount(this.name, n, 0)
    const l = this.labels(labels)
    if (l !== null) this.prom.inc(l, n)
  }
}

export class Gauge extends Metric<PromGauge<string>> {
  set (labels: Labels | undefined, value: number): void {
    if (typeof value !== 'number') throw new TypeError(`gauge ${this.name}: "value" expected a number, got ${typeof value}`)
    const l = this.labels(labels)
    if (l !== null) this.prom.set(l, value)
  }

  inc (labels?: Labels, n = 1): void { const l = this.labels(labels); if (l !== null) this.prom.inc(l, checkAmount(this.name, n, -Infinity)) }
  dec (labels?: Labels, n = 1): void { const l = this.labels(labels); if (l !== null) this.prom.dec(l, checkAmount(this.name, n, -Infinity)) }
}

export class Histogram extends Metric<PromHistogram<string>> {
  /** One observation, in the metric's unit (seconds for every *_seconds metric of the hub). */
  observe (labels: Labels | undefined, value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`histogram ${this.name}: "value" expected a finite number, got ${String(value)}`)
    const l = this.labels(labels)
    if (l !== null) this.prom.observe(l, value)
  }

  /** Observes the seconds from now until the returned function is called. */
  startTimer (labels?: Labels): (more?: Labels) => void {
    const t0 = process.hrtime.bigint()
    return (more) => this.observe({ ...labels, ...more }, Number(process.hrtime.bigint() - t0) / 1e9)
  }
}

export interface MetricsOptions {
  /** Series per metric before new label combinations are dropped (default 10 000). */
  maxSeries?: number
}

export class MetricsRegistry {
  readonly maxSeries: number
  /** prom-client's registry holding every hub metric (for merging with an application's own). */
  readonly registry = new Registry()
  readonly #metrics = new Map<string, Metric>()
  readonly #collectors: Array<() => void> = []
  readonly #dropped: PromCounter<string>
  #droppedCount = 0

  constructor (opts: MetricsOptions = {}) {
    const max = opts.maxSeries ?? 10_000
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`"maxSeries" expected an integer ≥ 1, got ${String(max)}`)
    this.maxSeries = max
    this.#dropped = new PromCounter({ name: 'pcp_metrics_dropped_series_total', help: 'Label combinations refused because a metric reached its series limit.', registers: [this.registry] })
  }

  /** Label combinations refused so far. */
  get dropped (): number { return this.#droppedCount }

  /** @internal a metric refused a new series. */
  countDropped (): void { this.#droppedCount++; this.#dropped.inc() }

  /** Get-or-create: ingest and the API ask for the same counter by name. */
  counter (name: string, help = '', labelNames: readonly string[] = []): Counter {
    return this.#define(name, 'counter', help, labelNames) as Counter
  }

  gauge (name: string, help = '', labelNames: readonly string[] = []): Gauge {
    return this.#define(name, 'gauge', help, labelNames) as Gauge
  }

  /** `buckets`: upper bounds, ascending (default LATENCY_BUCKETS, in seconds). Used only on creation. */
  histogram (name: string, help = '', labelNames: readonly string[] = [], buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
    if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new RangeError(`histogram ${name}: "buckets" expected ascending finite numbers, got ${JSON.stringify(buckets)}`)
    }
    if (labelNames.includes('le')) throw new RangeError(`histogram ${name}: label name "le" is reserved`)
    return this.#define(name, 'histogram', help, labelNames, buckets) as Histogram
  }

  /** Runs before each render: for gauges read from live state (VRS per agent, open alerts). */
  onCollect (fn: () => void): void {
    if (typeof fn !== 'function') throw new TypeError(`"fn" expected a function, got ${typeof fn}`)
    this.#collectors.push(fn)
  }

  metric (name: string): Counter | Gauge | Histogram | undefined { return this.#metrics.get(name) as Counter | Gauge | Histogram | undefined }

  /** The Content-Type of render()'s text (exposition format 0.0.4). */
  get contentType (): string { return this.registry.contentType }

  /** The text exposition format 0.0.4, as prom-client writes it. */
  async render (): Promise<string> {
    for (const fn of this.#collectors) fn()
    return await this.registry.metrics()
  }

  #define (name: string, kind: Kind, help: string, labelNames: readonly string[], buckets?: readonly number[]): Metric {
    const existing = this.#metrics.get(name)
    if (existing !== undefined) {
      if (existing.kind !== kind) throw new TypeError(`metric ${name} is already a ${existing.kind}, not a ${kind}`)
      return existing
    }
    if (typeof name !== 'string' || !METRIC_NAME.test(name) || name === 'pcp_metrics_dropped_series_total') throw new RangeError(`"name" expected a Prometheus metric name, got ${JSON.stringify(name)}`)
    if (typeof help !== 'string') throw new TypeError(`"help" expected a string, got ${typeof help}`)
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new RangeError(`metric ${name}: label name ${JSON.stringify(l)} is not allowed`)
    }
    // prom-client refuses an empty help; the exposition format allows it.
    const config = { name, help: help === '' ? name : help, labelNames: [...labelNames], registers: [this.registry] }
    const m = kind === 'counter'
      ? new Counter(this, name, kind, labelNames, new PromCounter(config))
      : kind === 'gauge'
        ? new Gauge(this, name, kind, labelNames, new PromGauge(config))
        : new Histogram(this, name, kind, labelNames, new PromHistogram({ ...config, buckets: [...buckets!] }))
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
  storeWriteErrors: { name: 'pcp_hub_store_write_errors_total', help: 'Failed writes to the hub store, per error code (STORE_NO_SPACE, STORE_WRITE_FAILED).', labels: ['code'] },
  /** Registered at the first lost race only, so a hub on its own store does not show it. */
  raceNacks: { name: 'pcp_hub_race_nacks_total', help: 'Batches nacked because another hub stored events of the agent first (lost head compare-and-set on a shared store); the device resends from the new head.', labels: [] }
} as const

/** The hub's latency histograms (seconds). */
export const HUB_HISTOGRAMS = {
  verifyBatch: { name: 'pcp_verify_batch_seconds', help: 'One events batch from submission to the verify pool (or the main thread) until its signatures and hashes are checked, queueing included.', labels: [] },
  ack: { name: 'pcp_ack_seconds', help: 'An events message from its arrival at the hub until its ack is published (verify, chain checks and the durable write).', labels: [] },
  gateDecision: { name: 'pcp_gate_decision_seconds', help: 'A TrustGate decision from request to journalled record, per source (gate: a device over MQTT, api: HTTP, vigil: forced by Vigil) and outcome.', labels: ['source', 'outcome'] }
} as const

export function hubCounter (reg: MetricsRegistry, m: { name: string, help: string, labels: readonly string[] }): Counter {
  return reg.counter(m.name, m.help, m.labels)
}

export function hubGauge (reg: MetricsRegistry, m: { name: string, help: string, labels: readonly string[] }): Gauge {
  return reg.gauge(m.name, m.help, m.labels)
}

export function hubHistogram (reg: MetricsRegistry, m: { name: string, help: string, labels: readonly string[] }): Histogram {
  return reg.histogram(m.name, m.help, m.labels)
}
