// Trust Score TS (vigil.md §2), "higher = better", kept as running counters so each event costs O(1).
// Differences from the reference, each for a gaps.md entry:
//  * hash_chain is 0 once a link break was seen (the reference gave 0.5 because its check raised, #62);
//  * sig_score is the share of events whose signature VERIFIED (ingest passes verified events and reports
//    bad ones as anomalies) instead of the share that merely carry a `signature` field (#62);
//  * F counts `trusted_timestamp` tokens too (#64), rotation attestation as in event-fields.ts (#14).
import { type VigilConfig, round4, clamp01 } from './config.js'
import type { EventFacts } from './event-fields.js'
import { PeerWindow } from './window.js'

export type Tier = 'Elite' | 'A+' | 'A' | 'B' | 'At Risk'

export interface TrustScoreResult {
  score: number
  tier: Tier
  components: { I: number, V_t: number, D_t: number, F: number, R: number }
  /** The inputs behind each sub-score, so every number can be recomputed by hand. */
  details: {
    I: { hashChain: number, forkScore: number, sigScore: number, rotationScore: number, linkBreaks: number, forks: number, verifiedEvents: number, invalidSignatures: number, rotations: number, attestedRotations: number }
    V_t: { interactions: number, weightedVerified: number, weightedTotal: number, halfLifeDays: number }
    D_t: { interactions: number, uniquePeers: number, entropy: number, topPeer: string | null, topPeerRatio: number, windowDays: number }
    F: { eligible: number, finalized: number }
    R: { rotations: number, healthSum: number }
  }
  eventCount: number
}

export function tierOf (score: number): Tier {
  return score >= 0.95 ? 'Elite' : score >= 0.90 ? 'A+' : score >= 0.80 ? 'A' : score >= 0.70 ? 'B' : 'At Risk'
}

export interface TrustScoreJSON {
  events: number; invalidSignatures: number; linkBreaks: number; forks: number
  rotations: number; attestedRotations: number; rotationHealth: number; lastRotationAt: number | null
  eligible: number; finalized: number
  a2a: number; vRef: number | null; vW: number; vWV: number
  diversity: ReturnType<PeerWindow['toJSON']>
}

export class TrustScoreState {
  events = 0
  invalidSignatures = 0
  linkBreaks = 0
  forks = 0
  rotations = 0
  attestedRotations = 0
  rotationHealth = 0
  lastRotationAt: number | null = null
  eligible = 0
  finalized = 0
  a2a = 0
  // V_t as exponentially decayed sums normalised to time vRef. V_t is a ratio of two sums decayed by the
  // same factor, so it does not depend on "now" and needs no per-event pass (§2 half-life 30 days).
  vRef: number | null = null
  vW = 0
  vWV = 0
  diversity: PeerWindow

  constructor (private readonly cfg: VigilConfig) {
    this.diversity = new PeerWindow(cfg.longBucket, cfg.diversityWindow, cfg.maxPeersPerAgent)
  }

  onEvent (f: EventFacts): void {
    this.events++
    if (f.finalizable) { this.eligible++; if (f.anchored) this.finalized++ }
    if (f.rotation) {
      this.rotations++
      let health = 1
      if (f.rotationAttested) this.attestedRotations++; else health -= this.cfg.rotationUnattestedPenalty
      if (this.lastRotationAt !== null && f.timestamp - this.lastRotationAt < this.cfg.rotationMinGap) health -= this.cfg.rotationTooSoonPenalty
      this.rotationHealth += Math.max(0, health)
      this.lastRotationAt = f.timestamp
    }
    if (f.tsA2a) {
      this.a2a++
      const k = Math.LN2 / this.cfg.tsHalfLife
      if (this.vRef === null) this.vRef = f.timestamp
      if (f.timestamp > this.vRef) {
        const decay = Math.exp(-k * (f.timestamp - this.vRef))
        this.vW *= decay; this.vWV *= decay; this.vRef = f.timestamp
      }
      const w = Math.exp(-k * (this.vRef - f.timestamp))
      this.vW += w
      if (f.verified) this.vWV += w
      this.diversity.add(f.timestamp, f.peer ?? 'unknown')
    }
  }

  compute (now: number): TrustScoreResult {
    const cfg = this.cfg
    const hashChain = this.linkBreaks > 0 ? 0 : 1
    const forkScore = Math.max(0, 1 - this.forks / 5)
    const signed = this.events + this.invalidSignatures
    const sigScore = signed === 0 ? 1 : this.events / signed
    const rotationScore = this.rotations === 0 ? 1 : this.attestedRotations / this.rotations
    const iw = cfg.integrityWeights
    const I = iw.hashChain * hashChain + iw.fork * forkScore + iw.signature * sigScore + iw.rotation * rotationScore
    const V_t = this.a2a === 0 || this.vW === 0 ? 1 : this.vWV / this.vW
    const div = this.diversity.stats(now)
    const D_t = div.total === 0 ? 1 : div.unique <= 1 ? 0 : div.entropy
    const F = this.eligible === 0 ? 1 : this.finalized / this.eligible
    const R = this.rotations === 0 ? 1 : this.rotationHealth / this.rotations
    const w = cfg.tsWeights
    const sumW = w.I + w.V_t + w.D_t + w.F + w.R
    const raw = this.events === 0 && this.invalidSignatures === 0 && this.linkBreaks === 0 && this.forks === 0
      ? 1
      : (w.I * I + w.V_t * V_t + w.D_t * D_t + w.F * F + w.R * R) / (sumW > 0 ? sumW : 1)
    const score = round4(clamp01(raw))
    return {
      score,
      tier: tierOf(score),
      components: { I: round4(I), V_t: round4(V_t), D_t: round4(D_t), F: round4(F), R: round4(R) },
      details: {
        I: { hashChain, forkScore: round4(forkScore), sigScore: round4(sigScore), rotationScore: round4(rotationScore), linkBreaks: this.linkBreaks, forks: this.forks, verifiedEvents: this.events, invalidSignatures: this.invalidSignatures, rotations: this.rotations, attestedRotations: this.attestedRotations },
        V_t: { interactions: this.a2a, weightedVerified: this.vWV, weightedTotal: this.vW, halfLifeDays: cfg.tsHalfLife / 86_400 },
        D_t: { interactions: div.total, uniquePeers: div.unique, entropy: round4(div.entropy), topPeer: div.topPeer, topPeerRatio: round4(div.topRatio), windowDays: cfg.diversityWindow / 86_400 },
        F: { eligible: this.eligible, finalized: this.finalized },
        R: { rotations: this.rotations, healthSum: round4(this.rotationHealth) }
      },
      eventCount: this.events
    }
  }

  toJSON (): TrustScoreJSON {
    const { events, invalidSignatures, linkBreaks, forks, rotations, attestedRotations, rotationHealth, lastRotationAt, eligible, finalized, a2a, vRef, vW, vWV } = this
    return { events, invalidSignatures, linkBreaks, forks, rotations, attestedRotations, rotationHealth, lastRotationAt, eligible, finalized, a2a, vRef, vW, vWV, diversity: this.diversity.toJSON() }
  }

  static fromJSON (json: TrustScoreJSON, cfg: VigilConfig): TrustScoreState {
    const s = new TrustScoreState(cfg)
    const { diversity, ...counters } = json
    Object.assign(s, counters)
    s.diversity = PeerWindow.fromJSON(diversity, cfg.longBucket, cfg.diversityWindow, cfg.maxPeersPerAgent)
    return s
  }
}
