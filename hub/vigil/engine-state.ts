// Serialised form of one agent's Vigil state (engine.ts toJSON/fromJSON). Plain JSON: the hub stores it
// as it likes. Its size is bounded by the windows and caps in config.ts, never by the chain length.
import type { AgentRecord } from './agent-record.js'
import { A2cState, type A2cJSON, type A2cSeverity, type IndicatorName } from './a2c.js'
import { ChainRisk, type ChainRiskJSON } from './chain-risk.js'
import { AnchorWatch, type AnchoringJSON } from './anchoring.js'
import type { VigilConfig } from './config.js'
import { VrsHistory } from './history.js'
import { TrustScoreState, type TrustScoreJSON } from './trust-score.js'
import { TsiTracker, type TsiJSON } from './tsi.js'
import type { VrsReport } from './vrs.js'

export interface AgentJSON {
  id: string
  name: string
  trust: TrustScoreJSON
  tsi: TsiJSON
  a2c: A2cJSON
  chain: ChainRiskJSON
  history: ReturnType<VrsHistory['toJSON']>
  last: VrsReport | null
  lastEventAt: number | null
  a2cSeverity: Record<IndicatorName, A2cSeverity>
  trustBand: 0 | 1 | 2
  pushedKey: string | null
  /** Absent in states saved before trusted time. */
  anchoring?: AnchoringJSON
}

export function agentToJSON (r: AgentRecord): AgentJSON {
  return {
    id: r.id,
    name: r.name,
    trust: r.trust.toJSON(),
    tsi: r.tsi.toJSON(),
    a2c: r.a2c.toJSON(),
    chain: r.chain.toJSON(),
    history: r.history.toJSON(),
    last: r.last === null ? null : structuredClone(r.last),
    lastEventAt: r.lastEventAt,
    a2cSeverity: { ...r.a2cSeverity },
    trustBand: r.trustBand,
    pushedKey: r.pushedKey,
    anchoring: r.anchoring.toJSON()
  }
}

export function agentFromJSON (j: AgentJSON, cfg: VigilConfig): AgentRecord {
  return {
    id: j.id,
    name: j.name,
    trust: TrustScoreState.fromJSON(j.trust, cfg),
    tsi: TsiTracker.fromJSON(j.tsi, cfg),
    a2c: A2cState.fromJSON(j.a2c, cfg),
    chain: ChainRisk.fromJSON(j.chain, cfg),
    history: VrsHistory.fromJSON(j.history, cfg),
    last: j.last === null ? null : structuredClone(j.last),
    lastEventAt: j.lastEventAt,
    a2cSeverity: { ...j.a2cSeverity },
    trustBand: j.trustBand,
    pushedKey: j.pushedKey,
    anchoring: AnchorWatch.fromJSON(j.anchoring)
  }
}
