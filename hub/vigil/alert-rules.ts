// Which alerts one re-score of an agent raises (engine.ts calls it after every event batch, anomaly and
// tick). Each rule fires on a change, never on a level that merely persists, and records what it last
// fired for in the agent's record (agent-record.ts): a rising VRS state (and an INFO when it falls back),
// a TSI drift into UNSTABLE or CRITICAL, the trust score crossing a band, an A2C indicator rising to
// MEDIUM or above, anchors overdue, and every chain anomaly as it is recorded.
import type { Alert, AlertType } from './alerts.js'
import type { A2cResult, A2cSeverity } from './a2c.js'
import type { RecordedAnomaly } from './chain-risk.js'
import type { VigilConfig } from './config.js'
import type { TrustScoreResult } from './trust-score.js'
import type { TsiResult } from './tsi.js'
import { VRS_STATES, type VrsReport } from './vrs.js'
import type { AgentRecord } from './agent-record.js'

export type Raise = (type: AlertType, severity: Alert['severity'], message: string, details: Record<string, unknown>) => void

const SEVERITY_RANK_A2C: Record<A2cSeverity, number> = { NONE: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 }
const TSI_RANK = { STABLE: 0, WATCH: 1, UNSTABLE: 2, CRITICAL: 3 }

/** `prev`: the agent's report before this one (null: its first). */
export function raiseAlerts (rec: AgentRecord, prev: VrsReport | null, report: VrsReport, parts: { trust: TrustScoreResult, tsi: TsiResult, a2c: A2cResult }, anomalies: RecordedAnomaly[], now: number, config: VigilConfig, raise: Raise): void {
  const { trust, tsi, a2c } = parts
  for (const a of anomalies) {
    raise((a.kind === 'chain_break' ? 'chain_break' : `chain_${a.kind}`) as AlertType, a.severity, `${a.code}${a.index === null ? '' : ` at event ${a.index}`}: ${a.message}`, { code: a.code, index: a.index, anomalyAt: a.at })
  }
  const prevState = prev?.state ?? 'SAFE'
  const up = VRS_STATES.indexOf(report.state) - VRS_STATES.indexOf(prevState)
  if (up > 0) raise('vigil_state', report.state as Alert['severity'], `VRS ${report.vrs} — ${report.state} (was ${prevState})`, { vrs: report.vrs, state: report.state, previous: prevState, reasons: report.reasons.map((r) => r.text) })
  if (up < 0) raise('vigil_state', 'INFO', `VRS ${report.vrs} — back to ${report.state} (was ${prevState})`, { vrs: report.vrs, state: report.state, previous: prevState })
  if ((tsi.state === 'UNSTABLE' || tsi.state === 'CRITICAL') && TSI_RANK[tsi.state] > TSI_RANK[tsi.previousState]) {
    raise('tsi_drift', tsi.state === 'CRITICAL' ? 'CRITICAL' : 'ALERT', `TSI ${tsi.previousState} → ${tsi.state}: ${tsi.driftReasons.join('; ')}`, { tsi_state: tsi.state, previous: tsi.previousState, current_score: tsi.currentScore, delta_24h: tsi.delta24h, z_score: tsi.zScore, unstable_since: tsi.unstableSince })
  }
  const band = trust.score < 0.3 ? 2 : trust.score < 0.5 ? 1 : 0
  if (band > rec.trustBand) raise('trust_score_low', band === 2 ? 'CRITICAL' : 'ALERT', `trust score ${trust.score} (${trust.tier})`, { trust_score: trust.score, components: trust.components })
  rec.trustBand = band
  for (const ind of Object.values(a2c.indicators)) {
    const before = rec.a2cSeverity[ind.indicator]
    if (SEVERITY_RANK_A2C[ind.severity] >= SEVERITY_RANK_A2C.MEDIUM && SEVERITY_RANK_A2C[ind.severity] > SEVERITY_RANK_A2C[before]) {
      raise('a2c', ind.severity as 'MEDIUM' | 'HIGH' | 'CRITICAL', `A2C ${ind.indicator} ${ind.score} (${ind.severity})`, { indicator: ind.indicator, score: ind.score, anchored: ind.anchored, ...ind.details })
    }
    rec.a2cSeverity[ind.indicator] = ind.severity
  }
  // Trusted time: raised once when an anchoring agent's unanchored events pass the limit, and an INFO
  // when an anchor arrives again. WATCH, not higher: late time evidence is no sign of compromise, and
  // the alert level reaches TrustGate.
  const anch = rec.anchoring.state(now, config.anchorOverdueSeconds)
  if (anch.overdue && !rec.anchoring.alerted) {
    raise('anchor_overdue', 'WATCH', `no RFC 3161 anchor for ${Math.round(anch.pendingSeconds / 60)} min: ${anch.unanchored} events since the last anchor (the device's TSA may be unreachable; pcp sync status on it shows the queue)`, { unanchored: anch.unanchored, oldest_unanchored_at: anch.oldestUnanchoredAt, last_anchor_at: anch.lastAnchorAt, limit_seconds: config.anchorOverdueSeconds })
    rec.anchoring.alerted = true
  } else if (!anch.overdue && rec.anchoring.alerted) {
    raise('anchor_overdue', 'INFO', 'anchored again', { last_anchor_at: anch.lastAnchorAt })
    rec.anchoring.alerted = false
  }
}
