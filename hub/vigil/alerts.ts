// Alert journal (vigil.md §5). Alerts are raised on CHANGES (a state getting worse, a new anomaly), so
// the reference's wall-clock cooldowns are not needed and the journal is deterministic under an
// injected clock. An operator acknowledges an alert; it stays in the journal (bounded per agent, FIFO).
import { PcpError } from '../../runtime/errors.js'

export type AlertSeverity = 'INFO' | 'WATCH' | 'MEDIUM' | 'ALERT' | 'HIGH' | 'CRITICAL'

/** §5 ranks: WATCH 1, MEDIUM 2, ALERT/HIGH 3, CRITICAL 4; INFO (ours: recoveries) 0. */
export const SEVERITY_RANK: Record<AlertSeverity, number> = { INFO: 0, WATCH: 1, MEDIUM: 2, ALERT: 3, HIGH: 3, CRITICAL: 4 }

/** Stable error code for an unknown alert id; to be listed in runtime/errors.ts ErrorCodes. */
export const ALERT_NOT_FOUND = 'ALERT_NOT_FOUND'

export type AlertType = 'vigil_state' | 'trust_score_low' | 'tsi_drift' | 'a2c' |
'chain_fork' | 'chain_replay' | 'chain_break' | 'chain_bad_signature' | 'chain_identity' | 'chain_timestamp_anomaly' | 'chain_gap' | 'chain_malformed' |
'chain_interaction_mismatch' | 'chain_interaction_unconfirmed' | 'chain_other' | 'anchor_overdue'

export interface Alert {
  id: string
  agentId: string
  type: AlertType
  severity: AlertSeverity
  message: string
  details: Record<string, unknown>
  at: number
  acknowledged: { by: string, at: number } | null
}

export interface AlertFilter {
  agentId?: string
  /** Only alerts at least this severe. */
  minSeverity?: AlertSeverity
  since?: number
  unacknowledged?: boolean
  limit?: number
}

export interface AlertJSON { seq: number, alerts: Alert[] }

export class AlertJournal {
  seq = 0
  readonly #byAgent = new Map<string, Alert[]>()
  readonly #byId = new Map<string, Alert>()

  constructor (private readonly maxPerAgent: number) {}

  raise (agentId: string, type: AlertType, severity: AlertSeverity, message: string, details: Record<string, unknown>, at: number): Alert {
    const alert: Alert = { id: `a${++this.seq}`, agentId, type, severity, message, details, at, acknowledged: null }
    this.#insert(alert)
    return alert
  }

  #insert (alert: Alert): void {
    let list = this.#byAgent.get(alert.agentId)
    if (list === undefined) { list = []; this.#byAgent.set(alert.agentId, list) }
    list.push(alert)
    this.#byId.set(alert.id, alert)
    while (list.length > this.maxPerAgent) this.#byId.delete((list.shift() as Alert).id)
  }

  acknowledge (alertId: string, principal: string, at: number): Alert {
    if (typeof alertId !== 'string' || alertId.length === 0) throw new TypeError(`"alertId" expected a non-empty string, got ${typeof alertId}`)
    if (typeof principal !== 'string' || principal.trim().length === 0) throw new TypeError(`"principal" expected a non-empty string, got ${typeof principal}`)
    const alert = this.#byId.get(alertId)
    if (alert === undefined) throw new PcpError(ALERT_NOT_FOUND, `no alert ${alertId} in the journal (unknown, or rotated out)`, { key: alertId })
    // The first acknowledgement is the one that counts: a second one must not rewrite who and when.
    if (alert.acknowledged === null) alert.acknowledged = { by: principal, at }
    return alert
  }

  get (alertId: string): Alert | undefined { return this.#byId.get(alertId) }

  /** Newest first. */
  list (filter: AlertFilter = {}): Alert[] {
    const min = filter.minSeverity === undefined ? 0 : SEVERITY_RANK[filter.minSeverity]
    if (min === undefined) throw new RangeError(`"minSeverity" expected one of ${Object.keys(SEVERITY_RANK).join(', ')}, got ${String(filter.minSeverity)}`)
    const lists = filter.agentId === undefined ? [...this.#byAgent.values()] : [this.#byAgent.get(filter.agentId) ?? []]
    const out: Alert[] = []
    for (const list of lists) {
      for (const a of list) {
        if (SEVERITY_RANK[a.severity] < min) continue
        if (filter.since !== undefined && a.at < filter.since) continue
        if (filter.unacknowledged === true && a.acknowledged !== null) continue
        out.push(a)
      }
    }
    out.sort((x, y) => seqOf(y) - seqOf(x))
    return filter.limit === undefined ? out : out.slice(0, filter.limit)
  }

  /** Most severe unacknowledged alert of the agent (for TrustGate's alert_level), or null. */
  worstOpen (agentId: string): AlertSeverity | null {
    let worst: AlertSeverity | null = null
    for (const a of this.#byAgent.get(agentId) ?? []) {
      if (a.acknowledged === null && (worst === null || SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst])) worst = a.severity
    }
    return worst
  }

  openCount (agentId: string): number {
    let n = 0
    for (const a of this.#byAgent.get(agentId) ?? []) if (a.acknowledged === null) n++
    return n
  }

  toJSON (): AlertJSON {
    return { seq: this.seq, alerts: this.list().reverse().map((a) => ({ ...a, details: { ...a.details }, acknowledged: a.acknowledged === null ? null : { ...a.acknowledged } })) }
  }

  static fromJSON (json: AlertJSON, maxPerAgent: number): AlertJournal {
    const j = new AlertJournal(maxPerAgent)
    j.seq = json.seq
    for (const a of json.alerts) j.#insert({ ...a })
    return j
  }
}

function seqOf (a: Alert): number { return Number(a.id.slice(1)) }
