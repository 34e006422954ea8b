// Every weight, threshold and window of Vigil in one place, with the spec section it comes from
// (../shared/spec/vigil.md). Values are the reference's CODE values (vigil.md §9: the docs disagree and
// the code is what is deployed). Additions of ours are marked "ours" and explained in the README.

export const DAY = 86_400
export const HOUR = 3_600

export interface VigilConfig {
  /** §1: VRS = w.trust·(1−TS) + w.tsi·TSI_weight + w.a2c·A2C + w.chain·chain. */
  vrsWeights: { trust: number, tsi: number, a2c: number, chain: number }
  /** §1: TSI state → its value in the VRS sum. */
  tsiWeight: { STABLE: number, WATCH: number, UNSTABLE: number, CRITICAL: number }
  /** §1: lower bounds of WATCH, ALERT, CRITICAL. */
  vrsStates: { WATCH: number, ALERT: number, CRITICAL: number }
  /** §2: TS = Σ weight·sub-score. */
  tsWeights: { I: number, V_t: number, D_t: number, F: number, R: number }
  /** §2: I = Σ weight·part. */
  integrityWeights: { hashChain: number, fork: number, signature: number, rotation: number }
  /** §2: temporal half-life of V_t weights, and D_t's window. */
  tsHalfLife: number
  diversityWindow: number
  /** §2 R: a rotation sooner than this after the previous one loses rotationTooSoonPenalty. */
  rotationMinGap: number
  rotationUnattestedPenalty: number
  rotationTooSoonPenalty: number
  /** §3: TSI snapshot window and thresholds. */
  tsiWindow: number
  /** ours: one snapshot per slot instead of one per call (gaps.md #61: every poll polluted the baseline). */
  tsiSnapshotSlot: number
  tsiUnstableDrop24h: number
  tsiWatchDrop24h: number
  tsiUnstableZ: number
  tsiWatchZ: number
  tsiCriticalAfter: number
  /** ours: floor on the baseline stdev, so a 0.001 wobble over a flat history is not "3σ drift". */
  tsiMinStd: number
  /** §4: A2C windows and indicator parameters. */
  a2cShortWindow: number
  a2cLongWindow: number
  a2cWeights: { concentration: number, entropyDrop: number, synchronization: number, silenceBreak: number }
  concentrationThreshold: number
  entropyMinEvents: number
  syncTolerance: number
  syncMinEvents: number
  syncThreshold: number
  silenceMin: number
  silenceBurstWindow: number
  silenceBurstMin: number
  /** ours: bucket sizes of the sliding windows (bounded memory; see window.ts). */
  shortBucket: number
  longBucket: number
  /** ours: caps that keep per-agent state bounded whatever the input. */
  maxPeersPerAgent: number
  maxAlertsPerAgent: number
  /** History: §1 keeps 30 days; ours: one point per slot for 24 h, then hourly (history.ts). */
  historyRetention: number
  historySlot: number
  /** ours: an agent that anchors (RFC 3161) and has events unanchored for longer raises anchor_overdue. */
  anchorOverdueSeconds: number
}

export const DEFAULT_CONFIG: VigilConfig = Object.freeze({
  vrsWeights: { trust: 0.20, tsi: 0.35, a2c: 0.30, chain: 0.15 },
  tsiWeight: { STABLE: 0, WATCH: 0.25, UNSTABLE: 1, CRITICAL: 1 },
  vrsStates: { WATCH: 0.25, ALERT: 0.50, CRITICAL: 0.75 },
  tsWeights: { I: 0.30, V_t: 0.25, D_t: 0.15, F: 0.15, R: 0.15 },
  integrityWeights: { hashChain: 0.30, fork: 0.25, signature: 0.25, rotation: 0.20 },
  tsHalfLife: 30 * DAY,
  diversityWindow: 30 * DAY,
  rotationMinGap: 7 * DAY,
  rotationUnattestedPenalty: 0.60,
  rotationTooSoonPenalty: 0.30,
  tsiWindow: 30 * DAY,
  tsiSnapshotSlot: HOUR,
  tsiUnstableDrop24h: 0.15,
  tsiWatchDrop24h: 0.08,
  tsiUnstableZ: 3.0,
  tsiWatchZ: 1.8,
  tsiCriticalAfter: 48 * HOUR,
  tsiMinStd: 0.01,
  a2cShortWindow: 48 * HOUR,
  a2cLongWindow: 30 * DAY,
  a2cWeights: { concentration: 0.30, entropyDrop: 0.25, synchronization: 0.25, silenceBreak: 0.20 },
  concentrationThreshold: 0.70,
  entropyMinEvents: 5,
  syncTolerance: 5,
  syncMinEvents: 3,
  syncThreshold: 0.92,
  silenceMin: 7 * DAY,
  silenceBurstWindow: HOUR,
  silenceBurstMin: 5,
  shortBucket: 60,
  longBucket: HOUR,
  maxPeersPerAgent: 256,
  maxAlertsPerAgent: 200,
  historyRetention: 30 * DAY,
  historySlot: 600,
  anchorOverdueSeconds: DAY
}) as VigilConfig

export function makeConfig (overrides: Partial<VigilConfig> = {}): VigilConfig {
  if (overrides === null || typeof overrides !== 'object') throw new TypeError(`"config" expected an object, got ${overrides === null ? 'null' : typeof overrides}`)
  const cfg = { ...DEFAULT_CONFIG, ...overrides }
  for (const [k, v] of Object.entries(cfg)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) throw new RangeError(`"config.${k}" expected a finite number ≥ 0, got ${v}`)
  }
  for (const k of ['shortBucket', 'longBucket', 'tsiSnapshotSlot', 'historySlot'] as const) {
    if (!(cfg[k] > 0)) throw new RangeError(`"config.${k}" expected > 0, got ${cfg[k]}`)
  }
  return cfg
}

/** Rounded to 4 decimals, as every reported number of the reference is. */
export function round4 (x: number): number {
  return Math.round(x * 10_000) / 10_000
}

export function clamp01 (x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x
}
