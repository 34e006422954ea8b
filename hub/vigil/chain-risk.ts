// Chain risk (vigil.md §1.1) from the anomalies the hub's ingest reports. The reference's linkage and
// timestamp penalties were dead code and it never checked signatures (gaps.md #62: a tampered chain
// scored SAFE). Here every kind of fault counts, and tampering puts a floor under the VRS state:
//   fork → CRITICAL (spec); signature/linkage/replay/identity faults → at least ALERT (ours);
//   time going backwards, gaps, malformed or unknown input → at least WATCH (ours).
import { type VigilConfig, round4, clamp01 } from './config.js'

export type AnomalyKind = 'fork' | 'replay' | 'chain_break' | 'bad_signature' | 'identity' | 'timestamp_anomaly' | 'gap' | 'malformed' |
  'interaction_mismatch' | 'interaction_unconfirmed' | 'other'
export type AnomalySeverity = 'CRITICAL' | 'HIGH' | 'MEDIUM'
export type FloorState = 'WATCH' | 'ALERT' | 'CRITICAL'

export interface AnomalyInput { code: string, index?: number | null, message?: string, at?: number }

interface KindRule { score: (n: number) => number, severity: AnomalySeverity, floor: FloorState }

/** How each kind adds to the score (§1.1 for fork/replay/chain_break/timestamp; the rest ours). */
export const KIND_RULES: Record<AnomalyKind, KindRule> = {
  fork: { score: (n) => 0.4 * Math.min(1, n / 3), severity: 'CRITICAL', floor: 'CRITICAL' },
  replay: { score: (n) => 0.4 * Math.min(1, n / 2), severity: 'CRITICAL', floor: 'ALERT' },
  chain_break: { score: (n) => (n > 0 ? 0.3 : 0), severity: 'HIGH', floor: 'ALERT' },
  bad_signature: { score: (n) => (n > 0 ? 0.3 : 0), severity: 'HIGH', floor: 'ALERT' },
  identity: { score: (n) => (n > 0 ? 0.3 : 0), severity: 'HIGH', floor: 'ALERT' },
  timestamp_anomaly: { score: (n) => (n > 0 ? 0.1 : 0), severity: 'MEDIUM', floor: 'WATCH' },
  gap: { score: (n) => (n > 0 ? 0.2 : 0), severity: 'MEDIUM', floor: 'WATCH' },
  malformed: { score: (n) => (n > 0 ? 0.1 : 0), severity: 'MEDIUM', floor: 'WATCH' },
  // Two chains that each verify but disagree on one interaction: one side recorded something else.
  interaction_mismatch: { score: (n) => (n > 0 ? 0.3 : 0), severity: 'HIGH', floor: 'ALERT' },
  // One side claims an interaction the other never recorded (yet, past the grace period).
  interaction_unconfirmed: { score: (n) => (n > 0 ? 0.1 : 0), severity: 'MEDIUM', floor: 'WATCH' },
  other: { score: (n) => (n > 0 ? 0.1 : 0), severity: 'MEDIUM', floor: 'WATCH' }
}

/** Ingest error codes (runtime/errors.ts) → kind. */
export function kindOf (code: string): AnomalyKind {
  switch (code) {
    case 'FORK_DETECTED': case 'FORK_AFTER_FINALIZATION': return 'fork'
    case 'NONCE_REPLAYED': return 'replay'
    case 'CHAIN_LINK_BROKEN': return 'chain_break'
    case 'SIGNATURE_INVALID': case 'SIGNATURE_ENCODING': return 'bad_signature'
    // AISS-2 (runtime/profile.ts): a missing or invalid post-quantum half, a downgrade, a round-3 signature
    // are signature faults of the chain; an unusable upgrade is about which keys speak for the agent.
    case 'PROFILE_MISMATCH': case 'PROFILE_DOWNGRADE': case 'PQ_SIGNATURE_ROUND3': case 'PQ_UNAVAILABLE': return 'bad_signature'
    case 'PROFILE_UPGRADE_INVALID': return 'identity'
    case 'AGENT_ID_MISMATCH': case 'ROTATION_INVALID': return 'identity'
    case 'TIMESTAMP_BACKWARDS': return 'timestamp_anomaly'
    case 'CHAIN_GAP': case 'SEQUENCE_GAP': case 'GAP': return 'gap'
    case 'EVENT_MALFORMED': return 'malformed'
    case 'INTERACTION_MISMATCH': return 'interaction_mismatch'
    case 'INTERACTION_UNCONFIRMED': return 'interaction_unconfirmed'
    default: return 'other'
  }
}

const RANK: Record<FloorState, number> = { WATCH: 1, ALERT: 2, CRITICAL: 3 }
const SEEN_CAP = 4096
const RECENT_CAP = 20

export interface RecordedAnomaly { kind: AnomalyKind, code: string, index: number | null, message: string, at: number, severity: AnomalySeverity }

export interface ChainRiskResult {
  score: number
  counts: Record<AnomalyKind, number>
  contributions: Partial<Record<AnomalyKind, number>>
  floor: FloorState | null
  recent: RecordedAnomaly[]
}

export interface ChainRiskJSON { counts: Record<AnomalyKind, number>, seen: string[], recent: RecordedAnomaly[] }

function zeroCounts (): Record<AnomalyKind, number> {
  return { fork: 0, replay: 0, chain_break: 0, bad_signature: 0, identity: 0, timestamp_anomaly: 0, gap: 0, malformed: 0, interaction_mismatch: 0, interaction_unconfirmed: 0, other: 0 }
}

export class ChainRisk {
  counts = zeroCounts()
  /** (code, index) already counted: the hub may report one fault twice (re-sync, re-verify). Bounded FIFO. */
  seen = new Set<string>()
  recent: RecordedAnomaly[] = []

  constructor (private readonly _cfg: VigilConfig) {}

  /** Records one anomaly; returns it, or null when it duplicates one already counted. */
  record (a: AnomalyInput, now: number): RecordedAnomaly | null {
    const index = typeof a.index === 'number' && Number.isFinite(a.index) ? a.index : null
    const key = `${a.code}:${index ?? '-'}`
    if (index !== null && this.seen.has(key)) return null
    if (index !== null) {
      this.seen.add(key)
      if (this.seen.size > SEEN_CAP) this.seen.delete(this.seen.values().next().value as string)
    }
    const kind = kindOf(a.code)
    this.counts[kind]++
    const rec: RecordedAnomaly = { kind, code: a.code, index, message: a.message ?? a.code, at: a.at ?? now, severity: KIND_RULES[kind].severity }
    this.recent.push(rec)
    if (this.recent.length > RECENT_CAP) this.recent.shift()
    return rec
  }

  compute (): ChainRiskResult {
    let sum = 0
    let floor: FloorState | null = null
    const contributions: Partial<Record<AnomalyKind, number>> = {}
    for (const kind of Object.keys(this.counts) as AnomalyKind[]) {
      const n = this.counts[kind]
      if (n === 0) continue
      const rule = KIND_RULES[kind]
      const c = rule.score(n)
      contributions[kind] = round4(c)
      sum += c
      if (floor === null || RANK[rule.floor] > RANK[floor]) floor = rule.floor
    }
    return { score: round4(clamp01(sum)), counts: { ...this.counts }, contributions, floor, recent: this.recent.slice() }
  }

  toJSON (): ChainRiskJSON { return { counts: { ...this.counts }, seen: [...this.seen], recent: this.recent.slice() } }

  static fromJSON (json: ChainRiskJSON, cfg: VigilConfig): ChainRisk {
    const c = new ChainRisk(cfg)
    c.counts = { ...zeroCounts(), ...json.counts }
    c.seen = new Set(json.seen)
    c.recent = json.recent.slice()
    return c
  }
}
