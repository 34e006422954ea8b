// One agent's Vigil state as the engine keeps it in memory (engine.ts): each part's bounded window or
// tracker, the last report, and what alerts were last raised for (alert-rules.ts), so that the next one
// fires only on a change. engine-state.ts is its JSON form.
import { A2cState, type A2cSeverity, type IndicatorName } from './a2c.js'
import { ChainRisk } from './chain-risk.js'
import type { VigilConfig } from './config.js'
import { VrsHistory } from './history.js'
import { TrustScoreState } from './trust-score.js'
import { TsiTracker } from './tsi.js'
import type { VrsReport } from './vrs.js'
import { AnchorWatch } from './anchoring.js'

export interface AgentRecord {
  id: string
  name: string
  trust: TrustScoreState
  tsi: TsiTracker
  a2c: A2cState
  chain: ChainRisk
  history: VrsHistory
  last: VrsReport | null
  lastEventAt: number | null
  /** What alerts were last raised for, so the next one fires only on a change. */
  a2cSeverity: Record<IndicatorName, A2cSeverity>
  trustBand: 0 | 1 | 2
  pushedKey: string | null
  anchoring: AnchorWatch
}

/** A new agent: it scores as an empty chain until its first event. */
export function newAgentRecord (agentId: string, name: string, cfg: VigilConfig): AgentRecord {
  return {
    id: agentId,
    name,
    trust: new TrustScoreState(cfg),
    tsi: new TsiTracker(cfg),
    a2c: new A2cState(cfg),
    chain: new ChainRisk(cfg),
    history: new VrsHistory(cfg),
    last: null,
    lastEventAt: null,
    a2cSeverity: { concentration: 'NONE', entropy_drop: 'NONE', synchronization: 'NONE', silence_break: 'NONE' },
    trustBand: 0,
    pushedKey: null,
    anchoring: new AnchorWatch()
  }
}
