// What Vigil pushes to TrustGate's POST /api/vigil/agent-state (vigil.md §7.1, trustgate.md §3, §8).
// The reference sent trust_score = VRS and derived tsi_state from the VRS as if high were good, so a
// healthy agent (VRS 0.03) arrived as CRITICAL (gaps.md #56). Here every field is what its name says:
// `vrs` is the risk (TrustGate's vrs_require_human / vrs_block compare it, high = bad), `trust_score` is
// the trust score, `tsi_state` is the TSI state. The one deliberate exception keeps the reference's fork
// push: a forked identity is sent with tsi_state CRITICAL so the policy's tsi_critical_action applies.
import type { AlertSeverity } from './alerts.js'
import type { TsiState } from './tsi.js'
import type { VrsReport, VrsState } from './vrs.js'

export type AlertLevel = 'critical' | 'high' | 'medium' | 'none'

export interface TrustGateUpdate {
  agent_id: string
  agent_name: string
  vrs: number
  vigil_state: VrsState
  trust_score: number
  tsi_state: TsiState
  a2c_score: number
  alert_level: AlertLevel
  fork_detected: boolean
  source: 'vigil'
  /** ISO 8601, as the reference sends it. */
  timestamp: string
}

export function alertLevelOf (worst: AlertSeverity | null): AlertLevel {
  switch (worst) {
    case 'CRITICAL': return 'critical'
    case 'HIGH': case 'ALERT': return 'high'
    case 'MEDIUM': case 'WATCH': return 'medium'
    default: return 'none'
  }
}

export function trustGateUpdate (report: VrsReport, agentName: string, worstOpenAlert: AlertSeverity | null): TrustGateUpdate {
  const fork = report.components.chain.counts.fork > 0
  return {
    agent_id: report.agentId,
    agent_name: agentName,
    vrs: report.vrs,
    vigil_state: report.state,
    trust_score: report.components.trust.score,
    tsi_state: fork ? 'CRITICAL' : report.components.tsi.state,
    a2c_score: report.components.a2c.risk,
    alert_level: fork ? 'critical' : alertLevelOf(worstOpenAlert),
    fork_detected: fork,
    source: 'vigil',
    timestamp: new Date(report.computedAt * 1000).toISOString()
  }
}
