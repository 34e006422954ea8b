// Agent-to-agent coordination risk (vigil.md §4): concentration, entropy drop, synchronisation, silence
// break, combined as the reference's code does (weighted sum, not the docstring's max). Per-agent state
// is three bounded windows and the last silence gap; synchronisation lives in sync.ts (it spans agents).
import { type VigilConfig, round4, clamp01 } from './config.js'
import type { EventFacts } from './event-fields.js'
import type { SyncResult } from './sync.js'
import { CountWindow, PeerWindow } from './window.js'

export type A2cSeverity = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL'
export type IndicatorName = 'concentration' | 'entropy_drop' | 'synchronization' | 'silence_break'

export function a2cSeverity (score: number): A2cSeverity {
  return score < 0.25 ? 'NONE' : score < 0.50 ? 'LOW' : score < 0.70 ? 'MEDIUM' : score < 0.90 ? 'HIGH' : 'CRITICAL'
}

export interface Indicator {
  indicator: IndicatorName
  score: number
  severity: A2cSeverity
  anchored: boolean
  details: Record<string, number | string | boolean | null>
}

export interface A2cResult {
  risk: number
  severity: A2cSeverity
  indicators: Record<IndicatorName, Indicator>
  weightedScores: Record<IndicatorName, number>
}

interface SilenceGap { start: number, end: number, burst: number, unanchored: number }

export interface A2cJSON {
  short: ReturnType<PeerWindow['toJSON']>
  long: ReturnType<PeerWindow['toJSON']>
  all: ReturnType<CountWindow['toJSON']>
  lastEventAt: number | null
  gap: SilenceGap | null
}

export class A2cState {
  short: PeerWindow
  long: PeerWindow
  /** All events of the agent in the short window: [count, unanchored count] (synchronisation inputs). */
  all: CountWindow
  lastEventAt: number | null = null
  /** The most recent silence of ≥ 7 days and the burst that ended it (§4 silence_break). */
  gap: SilenceGap | null = null

  constructor (private readonly cfg: VigilConfig) {
    this.short = new PeerWindow(cfg.shortBucket, cfg.a2cShortWindow, cfg.maxPeersPerAgent)
    this.long = new PeerWindow(cfg.longBucket, cfg.a2cLongWindow, cfg.maxPeersPerAgent)
    this.all = new CountWindow(cfg.shortBucket, cfg.a2cShortWindow, 2)
  }

  onEvent (f: EventFacts): void {
    const t = f.timestamp
    if (f.a2cA2a) { this.short.add(t, f.peer ?? 'unknown'); this.long.add(t, f.peer ?? 'unknown') }
    this.all.add(t, [1, f.anchored ? 0 : 1])
    const unanchored = f.anchored ? 0 : 1
    if (this.lastEventAt !== null && t - this.lastEventAt >= this.cfg.silenceMin) {
      this.gap = { start: this.lastEventAt, end: t, burst: 1, unanchored }
    } else if (this.gap !== null && t >= this.gap.end && t <= this.gap.end + this.cfg.silenceBurstWindow) {
      this.gap.burst++
      this.gap.unanchored += unanchored
    }
    if (this.lastEventAt === null || t > this.lastEventAt) this.lastEventAt = t
  }

  windowCounts (now: number): { events: number, unanchored: number } {
    const [events, unanchored] = this.all.totals(now)
    return { events, unanchored }
  }

  compute (now: number, sync: SyncResult): A2cResult {
    const cfg = this.cfg
    const s = this.short.stats(now)
    const l = this.long.stats(now)
    const conc = s.total === 0 || s.topRatio <= cfg.concentrationThreshold ? 0 : (s.topRatio - cfg.concentrationThreshold) / (1 - cfg.concentrationThreshold)
    // ours: no interaction at all in 48 h is not an entropy drop (the reference scored it as one, H_short = 0).
    const delta = l.entropy - s.entropy
    let ent = 0
    if (l.total >= cfg.entropyMinEvents && s.total > 0 && delta > 0) ent = delta <= 0.40 ? delta / 0.40 * 0.5 : Math.min(1, 0.5 + (delta - 0.40) * 2)
    let sil = 0
    const g = this.gap
    if (g !== null && g.burst >= cfg.silenceBurstMin) {
      const days = (g.end - g.start) / 86_400
      sil = 0.4 * Math.min(1, days / 21) + 0.6 * Math.min(1, (g.burst - cfg.silenceBurstMin) / 5)
      if (g.unanchored > 0) sil /= 2
    }
    const ind = (indicator: IndicatorName, score: number, anchored: boolean, details: Indicator['details']): Indicator => {
      const v = round4(clamp01(score))
      return { indicator, score: v, severity: a2cSeverity(v), anchored, details }
    }
    const indicators: Record<IndicatorName, Indicator> = {
      concentration: ind('concentration', conc, true, { window_h: cfg.a2cShortWindow / 3600, events: s.total, top_peer: s.topPeer, top_ratio: round4(s.topRatio), threshold: cfg.concentrationThreshold }),
      entropy_drop: ind('entropy_drop', ent, true, { entropy_long: round4(l.entropy), entropy_short: round4(s.entropy), delta: round4(delta), events_long: l.total, events_short: s.total, min_events: cfg.entropyMinEvents }),
      synchronization: ind('synchronization', sync.score, sync.anchored, { peer: sync.peer, correlation: sync.correlation, matched: sync.matched, agent_events: sync.agentEvents, peer_events: sync.peerEvents, tolerance_s: cfg.syncTolerance, pairs_checked: sync.pairsChecked }),
      silence_break: ind('silence_break', sil, g === null || g.unanchored === 0, g === null ? { silence_days: null, burst: null } : { silence_days: round4((g.end - g.start) / 86_400), silence_end: g.end, burst: g.burst, burst_min: cfg.silenceBurstMin })
    }
    const w = cfg.a2cWeights
    const weightedScores = {
      concentration: round4(w.concentration * indicators.concentration.score),
      entropy_drop: round4(w.entropyDrop * indicators.entropy_drop.score),
      synchronization: round4(w.synchronization * indicators.synchronization.score),
      silence_break: round4(w.silenceBreak * indicators.silence_break.score)
    }
    const risk = round4(clamp01(w.concentration * indicators.concentration.score + w.entropyDrop * indicators.entropy_drop.score +
      w.synchronization * indicators.synchronization.score + w.silenceBreak * indicators.silence_break.score))
    return { risk, severity: a2cSeverity(risk), indicators, weightedScores }
  }

  /** Peers of the last 30 days with their share (fixes the summary's always-empty a2c_peers, gaps.md #65). */
  topPeers (now: number, limit = 10): Array<[string, number]> {
    return this.long.peers(now, limit)
  }

  toJSON (): A2cJSON {
    return { short: this.short.toJSON(), long: this.long.toJSON(), all: this.all.toJSON(), lastEventAt: this.lastEventAt, gap: this.gap === null ? null : { ...this.gap } }
  }

  static fromJSON (json: A2cJSON, cfg: VigilConfig): A2cState {
    const s = new A2cState(cfg)
    s.short = PeerWindow.fromJSON(json.short, cfg.shortBucket, cfg.a2cShortWindow, cfg.maxPeersPerAgent)
    s.long = PeerWindow.fromJSON(json.long, cfg.longBucket, cfg.a2cLongWindow, cfg.maxPeersPerAgent)
    s.all = CountWindow.fromJSON(json.all, cfg.shortBucket, cfg.a2cShortWindow, 2)
    s.lastEventAt = json.lastEventAt
    s.gap = json.gap === null ? null : { ...json.gap }
    return s
  }
}
