// Vigil's engine: the hub feeds it every verified event (onEvent) and every rejected or suspicious input
// (onAnomaly); it keeps bounded per-agent state, re-scores the agent on each call (O(1) amortised: no
// chain is ever re-read), journals alerts on changes and reports VRS changes for TrustGate. tick()
// re-scores every agent at the clock's time so windows slide and the TSI 48 h timer fires without events.
// Pure: no I/O; the clock (Unix seconds) is injected; state round-trips through toJSON()/fromJSON().
// Each agent's state is an AgentRecord (agent-record.ts); which alerts a re-score raises is alert-rules.ts.
import type { AissEvent } from '../../runtime/types.js'
import { AlertJournal, type Alert, type AlertFilter, type AlertType } from './alerts.js'
import type { AnomalyInput, RecordedAnomaly } from './chain-risk.js'
import { makeConfig, type VigilConfig } from './config.js'
import { eventFacts } from './event-fields.js'
import type { HistoryPoint, HistoryQuery } from './history.js'
import { buildSummary, chainLabel, type InstallationSummary } from './summary.js'
import { SyncPairs } from './sync.js'
import { trustGateUpdate, type TrustGateUpdate } from './trustgate.js'
import { combineVrs, type VrsReport } from './vrs.js'
import { agentToJSON, agentFromJSON, type AgentJSON } from './engine-state.js'
import { newAgentRecord, type AgentRecord } from './agent-record.js'
import { raiseAlerts } from './alert-rules.js'

export type { AgentRecord } from './agent-record.js'

export interface EventMeta {
  /** Human name of the agent (the hub's registry name); defaults to the agent id. */
  name?: string
}

export interface VigilOptions {
  /** Unix seconds. Defaults to the wall clock. */
  now?: () => number
  config?: Partial<VigilConfig>
  /** Called after a change of the rounded VRS, the VRS state, the TSI state or the alert level. */
  onVrsChange?: (update: TrustGateUpdate, report: VrsReport) => void
  onAlert?: (alert: Alert) => void
  /** Errors thrown by the callbacks above: they never undo or abort the scoring. */
  onCallbackError?: (err: unknown) => void
}

export const STATE_VERSION = 1

export class VigilEngine {
  readonly config: VigilConfig
  readonly #now: () => number
  readonly #opts: VigilOptions
  readonly #agents = new Map<string, AgentRecord>()
  #sync: SyncPairs
  #alerts: AlertJournal
  callbackErrors = 0

  constructor (options: VigilOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`"options" expected an object, got ${options === null ? 'null' : typeof options}`)
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('"options.now" expected a function returning Unix seconds')
    this.config = makeConfig(options.config)
    this.#now = options.now ?? (() => Date.now() / 1000)
    this.#opts = options
    this.#sync = new SyncPairs(this.config)
    this.#alerts = new AlertJournal(this.config.maxAlertsPerAgent)
  }

  /** An event that passed verification, in chain order. */
  onEvent (agentId: string, event: AissEvent, meta: EventMeta = {}): VrsReport {
    return this.onEvents(agentId, [event], meta)
  }

  /**
   * A batch of one agent's verified events, in chain order, scored once at the end: the hub ingests in
   * batches that arrive at one instant, so the states in between were never observable anyway, and
   * scoring once per batch instead of per event is most of Vigil's cost at ingest rates.
   */
  onEvents (agentId: string, events: readonly AissEvent[], meta: EventMeta = {}): VrsReport {
    checkId(agentId)
    if (!Array.isArray(events)) throw new TypeError(`"events" expected an array, got ${typeof events}`)
    const rec = this.#agent(agentId, meta.name)
    for (const event of events) {
      if (event === null || typeof event !== 'object' || typeof event.payload !== 'object' || event.payload === null) {
        throw new TypeError(`"event" expected an AISS event object with a payload, got ${event === null ? 'null' : typeof event}`)
      }
      const f = eventFacts(event)
      rec.trust.onEvent(f)
      rec.a2c.onEvent(f)
      if (f.a2cA2a && f.peer !== null) this.#sync.link(agentId, f.peer)
      this.#sync.onEvent(agentId, f.timestamp)
      rec.anchoring.onEvent(event, f.timestamp)
      if (rec.lastEventAt === null || f.timestamp > rec.lastEventAt) rec.lastEventAt = f.timestamp
    }
    return this.#evaluate(rec, this.#clock(), [])
  }

  /** Rejected or suspicious input (a verifier error code, the event's index, a message, when). */
  onAnomaly (agentId: string, anomaly: AnomalyInput, meta: EventMeta = {}): VrsReport {
    checkId(agentId)
    if (anomaly === null || typeof anomaly !== 'object' || typeof anomaly.code !== 'string' || anomaly.code.length === 0) {
      throw new TypeError('"anomaly" expected { code: string, index?, message?, at? }')
    }
    const now = this.#clock()
    const rec = this.#agent(agentId, meta.name)
    const recorded = rec.chain.record(anomaly, now)
    if (recorded !== null) {
      // The trust score's integrity part reads the same facts (vigil.md §2 I).
      if (recorded.kind === 'fork') rec.trust.forks++
      if (recorded.kind === 'chain_break') rec.trust.linkBreaks++
      if (recorded.kind === 'bad_signature') rec.trust.invalidSignatures++
    }
    return this.#evaluate(rec, now, recorded === null ? [] : [recorded])
  }

  /** Makes an agent known before its first event (it then scores as an empty chain: TS 1, SAFE). */
  registerAgent (agentId: string, meta: EventMeta = {}): VrsReport {
    checkId(agentId)
    const rec = this.#agent(agentId, meta.name)
    return rec.last ?? this.#evaluate(rec, this.#clock(), [])
  }

  /** Re-scores every agent at the clock's time. The hub calls it periodically (e.g. every 60 s). */
  tick (): void {
    const now = this.#clock()
    for (const rec of this.#agents.values()) this.#evaluate(rec, now, [])
  }

  /** The last report of an agent (from its latest event, anomaly or tick), or undefined if unknown. */
  vrs (agentId: string): VrsReport | undefined {
    return this.#agents.get(agentId)?.last ?? undefined
  }

  history (agentId: string, query: HistoryQuery = {}): HistoryPoint[] {
    return this.#agents.get(agentId)?.history.query(query) ?? []
  }

  agents (): Array<{ agentId: string, name: string }> {
    return [...this.#agents.values()].map((r) => ({ agentId: r.id, name: r.name }))
  }

  summary (): InstallationSummary {
    const now = this.#clock()
    const rows = []
    for (const rec of this.#agents.values()) {
      const r = rec.last ?? this.#evaluate(rec, now, [])
      rows.push({
        agentId: rec.id,
        name: rec.name,
        vrs: r.vrs,
        state: r.state,
        trustScore: r.components.trust.score,
        tier: r.components.trust.tier,
        tsiState: r.components.tsi.state,
        a2cRisk: r.components.a2c.risk,
        a2cSeverity: r.components.a2c.severity,
        chainScore: r.components.chain.score,
        chainLabel: chainLabel(r),
        openAlerts: this.#alerts.openCount(rec.id),
        eventCount: r.components.trust.eventCount,
        anchoring: rec.anchoring.state(now, this.config.anchorOverdueSeconds),
        lastEventAt: rec.lastEventAt,
        peers: rec.a2c.topPeers(r.computedAt),
        computedAt: r.computedAt
      })
    }
    const active = this.#alerts.list({ minSeverity: 'HIGH', unacknowledged: true, limit: 50 })
    return buildSummary(rows, active, now, this.config)
  }

  alerts (filter: AlertFilter = {}): Alert[] { return this.#alerts.list(filter) }

  acknowledge (alertId: string, principal: string): Alert {
    return this.#alerts.acknowledge(alertId, principal, this.#clock())
  }

  /** Current TrustGate payload of an agent, for the hub's periodic re-push (TrustGate forgets after 120 s). */
  trustGateState (agentId: string): TrustGateUpdate | undefined {
    const rec = this.#agents.get(agentId)
    if (rec?.last == null) return undefined
    return trustGateUpdate(rec.last, rec.name, this.#alerts.worstOpen(rec.id))
  }

  #clock (): number {
    const now = this.#now()
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError(`the injected clock returned ${String(now)}, expected Unix seconds`)
    return now
  }

  #agent (agentId: string, name?: string): AgentRecord {
    let rec = this.#agents.get(agentId)
    if (rec === undefined) {
      rec = newAgentRecord(agentId, name ?? agentId, this.config)
      this.#agents.set(agentId, rec)
    } else if (name !== undefined) {
      rec.name = name
    }
    return rec
  }

  #evaluate (rec: AgentRecord, now: number, anomalies: RecordedAnomaly[]): VrsReport {
    const trust = rec.trust.compute(now)
    const tsi = rec.tsi.evaluate(now, trust.score)
    const sync = this.#sync.result(rec.id, now, (id, t) => this.#agents.get(id)?.a2c.windowCounts(t) ?? { events: 0, unanchored: 0 })
    const a2c = rec.a2c.compute(now, sync)
    const chain = rec.chain.compute()
    const report = combineVrs(rec.id, trust, tsi, a2c, chain, now, this.config)
    const prev = rec.last
    rec.last = report
    rec.history.record(now, report.vrs, report.state)

    const raised: Alert[] = []
    const raise = (type: AlertType, severity: Alert['severity'], message: string, details: Record<string, unknown>): void => {
      raised.push(this.#alerts.raise(rec.id, type, severity, message, details, now))
    }
    raiseAlerts(rec, prev, report, { trust, tsi, a2c }, anomalies, now, this.config, raise)

    const update = trustGateUpdate(report, rec.name, this.#alerts.worstOpen(rec.id))
    const key = `${update.vrs}|${update.vigil_state}|${update.tsi_state}|${update.alert_level}`
    const pushed = key !== rec.pushedKey
    rec.pushedKey = key
    for (const a of raised) this.#call(() => this.#opts.onAlert?.(a))
    if (pushed) this.#call(() => this.#opts.onVrsChange?.(update, report))
    return report
  }

  #call (fn: () => void): void {
    try { fn() } catch (err) {
      this.callbackErrors++
      this.#opts.onCallbackError?.(err)
    }
  }

  toJSON (): { version: number, alerts: ReturnType<AlertJournal['toJSON']>, sync: ReturnType<SyncPairs['toJSON']>, agents: AgentJSON[] } {
    return { version: STATE_VERSION, alerts: this.#alerts.toJSON(), sync: this.#sync.toJSON(), agents: [...this.#agents.values()].map(agentToJSON) }
  }

  /** Restores an engine; the config must be the one the state was built with (window sizes). */
  static fromJSON (json: ReturnType<VigilEngine['toJSON']>, options: VigilOptions = {}): VigilEngine {
    if (json === null || typeof json !== 'object' || json.version !== STATE_VERSION) {
      throw new TypeError(`"json" expected Vigil state version ${STATE_VERSION}, got ${json === null || typeof json !== 'object' ? String(json) : String(json.version)}`)
    }
    const e = new VigilEngine(options)
    e.#alerts = AlertJournal.fromJSON(json.alerts, e.config.maxAlertsPerAgent)
    e.#sync = SyncPairs.fromJSON(json.sync, e.config)
    for (const a of json.agents) e.#agents.set(a.id, agentFromJSON(a, e.config))
    return e
  }
}

function checkId (agentId: unknown): asserts agentId is string {
  if (typeof agentId !== 'string' || agentId.length === 0) throw new TypeError(`"agentId" expected a non-empty string, got ${typeof agentId === 'string' ? 'an empty string' : typeof agentId}`)
}

