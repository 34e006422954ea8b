// Vigil Risk Score (vigil.md §1): risk in [0, 1], higher = worse, from the four components. The report
// carries each component's weight, value and contribution, and reasons in the reference's narrative
// order (fork → replay → TSI → A2C → the rest), so every number can be traced to its inputs.
import { type VigilConfig, round4, clamp01 } from './config.js'
import type { A2cResult } from './a2c.js'
import type { ChainRiskResult } from './chain-risk.js'
import type { TrustScoreResult } from './trust-score.js'
import type { TsiResult, TsiState } from './tsi.js'

export type VrsState = 'SAFE' | 'WATCH' | 'ALERT' | 'CRITICAL'
export const VRS_STATES: readonly VrsState[] = ['SAFE', 'WATCH', 'ALERT', 'CRITICAL']

export interface Reason {
  component: 'trust' | 'tsi' | 'a2c' | 'chain' | 'vrs'
  severity: 'INFO' | 'WATCH' | 'MEDIUM' | 'HIGH' | 'ALERT' | 'CRITICAL'
  text: string
}

export interface VrsReport {
  agentId: string
  vrs: number
  state: VrsState
  /** VRS before the chain floor (fork / tampering) was applied. */
  rawVrs: number
  components: {
    trust: TrustScoreResult & { weight: number, contribution: number }
    tsi: TsiResult & { weight: number, weightValue: number, contribution: number }
    a2c: A2cResult & { weight: number, contribution: number }
    chain: ChainRiskResult & { weight: number, contribution: number }
  }
  reasons: Reason[]
  computedAt: number
}

export function stateOf (vrs: number, cfg: VigilConfig): VrsState {
  const t = cfg.vrsStates
  return vrs >= t.CRITICAL ? 'CRITICAL' : vrs >= t.ALERT ? 'ALERT' : vrs >= t.WATCH ? 'WATCH' : 'SAFE'
}

export function combineVrs (agentId: string, trust: TrustScoreResult, tsi: TsiResult, a2c: A2cResult, chain: ChainRiskResult, now: number, cfg: VigilConfig): VrsReport {
  const w = cfg.vrsWeights
  const tsiValue = cfg.tsiWeight[tsi.state as TsiState] ?? 0
  const cTrust = w.trust * (1 - trust.score)
  const cTsi = w.tsi * tsiValue
  const cA2c = w.a2c * a2c.risk
  const cChain = w.chain * chain.score
  const rawVrs = round4(clamp01(cTrust + cTsi + cA2c + cChain))
  let vrs = rawVrs
  const reasons: Reason[] = []
  const floorValue = chain.floor === null ? 0 : cfg.vrsStates[chain.floor]
  if (chain.floor !== null && vrs < floorValue) vrs = floorValue

  const c = chain.counts
  if (c.fork > 0) reasons.push({ component: 'chain', severity: 'CRITICAL', text: `fork: ${c.fork} point(s) where two events claim the same predecessor — state forced to CRITICAL (VRS ≥ ${cfg.vrsStates.CRITICAL})` })
  if (c.replay > 0) reasons.push({ component: 'chain', severity: 'CRITICAL', text: `replay: ${c.replay} reused nonce(s)` })
  if (c.bad_signature > 0) reasons.push({ component: 'chain', severity: 'HIGH', text: `${c.bad_signature} event(s) with a signature that does not verify` })
  if (c.chain_break > 0) reasons.push({ component: 'chain', severity: 'HIGH', text: `${c.chain_break} broken hash link(s): the chain was altered or truncated` })
  if (c.identity > 0) reasons.push({ component: 'chain', severity: 'HIGH', text: `${c.identity} identity fault(s) (agent_id not bound to the key, or invalid rotation)` })
  if (tsi.state === 'CRITICAL' || tsi.state === 'UNSTABLE') {
    reasons.push({ component: 'tsi', severity: tsi.state === 'CRITICAL' ? 'CRITICAL' : 'ALERT', text: `TSI ${tsi.state}: ${tsi.driftReasons.join('; ')}` })
  }
  for (const ind of Object.values(a2c.indicators)) {
    if (ind.severity === 'HIGH' || ind.severity === 'CRITICAL') reasons.push({ component: 'a2c', severity: ind.severity, text: `A2C ${ind.indicator} ${ind.score} (${ind.severity})` })
  }
  if (c.timestamp_anomaly > 0) reasons.push({ component: 'chain', severity: 'MEDIUM', text: `${c.timestamp_anomaly} timestamp(s) going backwards` })
  if (c.gap > 0) reasons.push({ component: 'chain', severity: 'MEDIUM', text: `${c.gap} gap(s) in the chain` })
  if (c.malformed + c.other > 0) reasons.push({ component: 'chain', severity: 'MEDIUM', text: `${c.malformed + c.other} other rejected input(s)` })
  if (tsi.state === 'WATCH') reasons.push({ component: 'tsi', severity: 'WATCH', text: `TSI WATCH: ${tsi.driftReasons.join('; ')}` })
  for (const ind of Object.values(a2c.indicators)) {
    if (ind.severity === 'MEDIUM' || ind.severity === 'LOW') reasons.push({ component: 'a2c', severity: ind.severity === 'MEDIUM' ? 'MEDIUM' : 'INFO', text: `A2C ${ind.indicator} ${ind.score} (${ind.severity})` })
  }
  if (trust.score < 0.5) reasons.push({ component: 'trust', severity: trust.score < 0.3 ? 'CRITICAL' : 'ALERT', text: `trust score ${trust.score} (${trust.tier})` })
  // The arithmetic, always last: the same numbers as `components`, as one line a human can check.
  reasons.push({
    component: 'vrs',
    severity: 'INFO',
    text: `VRS ${vrs} = ${w.trust}×(1−${trust.score}) + ${w.tsi}×${tsiValue} [TSI ${tsi.state}] + ${w.a2c}×${a2c.risk} + ${w.chain}×${chain.score} = ${rawVrs}` +
      (vrs !== rawVrs ? `, raised to ${vrs} by the ${chain.floor} floor for chain anomalies` : '')
  })
  const state = chain.floor === 'CRITICAL' ? 'CRITICAL' : stateOf(vrs, cfg)
  return {
    agentId,
    vrs,
    state,
    rawVrs,
    components: {
      trust: { ...trust, weight: w.trust, contribution: round4(cTrust) },
      tsi: { ...tsi, weight: w.tsi, weightValue: tsiValue, contribution: round4(cTsi) },
      a2c: { ...a2c, weight: w.a2c, contribution: round4(cA2c) },
      chain: { ...chain, weight: w.chain, contribution: round4(cChain) }
    },
    reasons,
    computedAt: now
  }
}
