// Installation-wide summary (vigil.md §6) built from each agent's last report: no recomputation, so
// the dashboard can poll it without side effects (gaps.md #61: the reference's polls added TSI snapshots).
import { type VigilConfig, round4 } from './config.js'
import type { Alert } from './alerts.js'
import { stateOf, type VrsReport, type VrsState } from './vrs.js'
import type { AnchoringState } from './anchoring.js'

export type ChainLabel = 'CANONICAL CHAIN' | 'FORKED IDENTITY' | 'CHAIN ANOMALY' | 'KEY ROTATION'

export interface AgentSummary {
  agentId: string
  name: string
  vrs: number
  state: VrsState
  trustScore: number
  tier: string
  tsiState: string
  a2cRisk: number
  a2cSeverity: string
  chainScore: number
  chainLabel: ChainLabel
  openAlerts: number
  eventCount: number
  /** Trusted time: events since the last anchor event and whether that is overdue (anchoring.ts). */
  anchoring: AnchoringState
  lastEventAt: number | null
  /** Peers named in A2A payloads over 30 days with their share (gaps.md #65: always empty in the reference). */
  peers: Array<[string, number]>
  computedAt: number
}

export interface InstallationSummary {
  agents: AgentSummary[]
  globalVrs: number
  installationState: VrsState
  counts: Record<VrsState, number>
  activeAlerts: Alert[]
  computedAt: number
}

/** §6 weights of the global VRS: worse states weigh more. */
const STATE_WEIGHT: Record<VrsState, number> = { SAFE: 1, WATCH: 2, ALERT: 3, CRITICAL: 4 }

export function chainLabel (report: VrsReport): ChainLabel {
  const c = report.components.chain.counts
  if (c.fork > 0) return 'FORKED IDENTITY'
  if (Object.values(c).some((n) => n > 0)) return 'CHAIN ANOMALY'
  if (report.components.trust.details.R.rotations > 0) return 'KEY ROTATION'
  return 'CANONICAL CHAIN'
}

export function buildSummary (agents: AgentSummary[], activeAlerts: Alert[], now: number, cfg: VigilConfig): InstallationSummary {
  const sorted = agents.slice().sort((a, b) => b.vrs - a.vrs || (a.agentId < b.agentId ? -1 : 1))
  let num = 0; let den = 0
  const counts: Record<VrsState, number> = { SAFE: 0, WATCH: 0, ALERT: 0, CRITICAL: 0 }
  for (const a of sorted) {
    num += a.vrs * STATE_WEIGHT[a.state]
    den += STATE_WEIGHT[a.state]
    counts[a.state]++
  }
  const globalVrs = den === 0 ? 0 : round4(num / den)
  // A CRITICAL agent makes the installation at least ALERT even if many SAFE agents dilute the mean (ours).
  let installationState = stateOf(globalVrs, cfg)
  if (counts.CRITICAL > 0 && (installationState === 'SAFE' || installationState === 'WATCH')) installationState = 'ALERT'
  return { agents: sorted, globalVrs, installationState, counts, activeAlerts, computedAt: now }
}
