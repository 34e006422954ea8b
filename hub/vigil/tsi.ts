// Trust Stability Index (vigil.md §3): drift of the trust score against the agent's own 30-day baseline.
// Fixes of gaps.md #61/#63, each a deliberate change from the reference:
//  * one snapshot per slot (1 h), the last evaluation of the slot, not one per call: polling the API
//    can no longer flatten the baseline; the baseline is every earlier slot within 30 days;
//  * z is signed (baseline mean − current) / stdev: a trust score going UP is not drift;
//  * the stdev has a floor (tsiMinStd) so a flat history does not turn a 0.001 wobble into "3σ";
//  * the 48 h timer arms on ANY entry into UNSTABLE (also from WATCH) and CRITICAL holds while the agent
//    stays unstable, instead of flipping back to UNSTABLE on the next call; the timer clears on STABLE.
import { type VigilConfig, round4 } from './config.js'

export type TsiState = 'STABLE' | 'WATCH' | 'UNSTABLE' | 'CRITICAL'

export interface Snapshot { slot: number, t: number, score: number }

export interface TsiResult {
  state: TsiState
  previousState: TsiState
  currentScore: number
  baselineMean: number | null
  baselineStd: number | null
  baselineCount: number
  delta24h: number | null
  delta7d: number | null
  zScore: number | null
  unstableSince: number | null
  driftReasons: string[]
  snapshotCount: number
  windowDays: number
}

export interface TsiJSON { snapshots: Array<[number, number, number]>, lastState: TsiState, unstableSince: number | null }

export class TsiTracker {
  snapshots: Snapshot[] = []
  lastState: TsiState = 'STABLE'
  unstableSince: number | null = null
  #baseKey = ''
  #base: { n: number, mean: number | null, std: number | null } = { n: 0, mean: null, std: null }

  constructor (private readonly cfg: VigilConfig) {}

  evaluate (now: number, score: number): TsiResult {
    const cfg = this.cfg
    const slot = Math.floor(now / cfg.tsiSnapshotSlot)
    const snaps = this.snapshots
    let drop = 0
    while (drop < snaps.length && snaps[drop].t < now - cfg.tsiWindow) drop++
    if (drop > 0) snaps.splice(0, drop)
    // A clock that stepped back lands in the last slot rather than unsorting the snapshots.
    const baseEnd = snaps.length > 0 && snaps[snaps.length - 1].slot >= slot ? snaps.length - 1 : snaps.length
    const base = this.#baseline(baseEnd)
    const ago24 = this.#scoreAt(now - 86_400)
    const ago7d = this.#scoreAt(now - 7 * 86_400)
    const delta24h = ago24 === null ? null : round4(score - ago24)
    const delta7d = ago7d === null ? null : round4(score - ago7d)
    const zScore = base.n >= 2 && base.mean !== null && base.std !== null
      ? round4((base.mean - score) / Math.max(base.std, cfg.tsiMinStd))
      : null
    const reasons: string[] = []
    let level: TsiState = 'STABLE'
    if ((delta24h !== null && delta24h < -cfg.tsiUnstableDrop24h) || (zScore !== null && zScore > cfg.tsiUnstableZ)) {
      level = 'UNSTABLE'
    } else if ((delta24h !== null && delta24h < -cfg.tsiWatchDrop24h) || (zScore !== null && zScore > cfg.tsiWatchZ)) {
      level = 'WATCH'
    }
    if (delta24h !== null && delta24h < -cfg.tsiWatchDrop24h) reasons.push(`trust score fell ${-delta24h} in 24 h (WATCH > ${cfg.tsiWatchDrop24h}, UNSTABLE > ${cfg.tsiUnstableDrop24h})`)
    if (zScore !== null && zScore > cfg.tsiWatchZ) reasons.push(`trust score ${zScore}σ below its ${base.n}-snapshot baseline ${round4(base.mean ?? 0)} (WATCH > ${cfg.tsiWatchZ}σ, UNSTABLE > ${cfg.tsiUnstableZ}σ)`)
    if (level === 'STABLE') this.unstableSince = null
    else if (level === 'UNSTABLE' && this.unstableSince === null) this.unstableSince = now
    let state: TsiState = level
    if (level === 'UNSTABLE' && this.unstableSince !== null && now - this.unstableSince > cfg.tsiCriticalAfter) {
      state = 'CRITICAL'
      reasons.push(`unstable since ${this.unstableSince}, more than ${cfg.tsiCriticalAfter / 3600} h`)
    }
    const previousState = this.lastState
    this.lastState = state
    const last = snaps[snaps.length - 1]
    if (last !== undefined && last.slot >= slot) { last.t = Math.max(last.t, now); last.score = score } else snaps.push({ slot, t: now, score })
    return {
      state,
      previousState,
      currentScore: score,
      baselineMean: base.mean === null ? null : round4(base.mean),
      baselineStd: base.std === null ? null : round4(base.std),
      baselineCount: base.n,
      delta24h,
      delta7d,
      zScore,
      unstableSince: this.unstableSince,
      driftReasons: reasons,
      snapshotCount: snaps.length,
      windowDays: cfg.tsiWindow / 86_400
    }
  }

  /** Mean and sample stdev of snapshots[0, end): recomputed only when that set changes (≤ once a slot). */
  #baseline (end: number): { n: number, mean: number | null, std: number | null } {
    const s = this.snapshots
    const key = end === 0 ? '0' : `${end}:${s[0].t}:${s[end - 1].t}:${s[end - 1].score}`
    if (key === this.#baseKey) return this.#base
    let sum = 0
    for (let i = 0; i < end; i++) sum += s[i].score
    const mean = end > 0 ? sum / end : null
    let std: number | null = null
    if (end >= 2 && mean !== null) {
      let ss = 0
      for (let i = 0; i < end; i++) ss += (s[i].score - mean) ** 2
      std = Math.sqrt(ss / (end - 1))
    }
    this.#baseKey = key
    this.#base = { n: end, mean, std }
    return this.#base
  }

  /** Score of the latest snapshot taken at or before `t` (binary search; snapshots are time-ordered). */
  #scoreAt (t: number): number | null {
    const s = this.snapshots
    let lo = 0; let hi = s.length - 1; let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (s[mid].t <= t) { found = mid; lo = mid + 1 } else hi = mid - 1
    }
    return found < 0 ? null : s[found].score
  }

  toJSON (): TsiJSON {
    return { snapshots: this.snapshots.map((x) => [x.slot, x.t, x.score]), lastState: this.lastState, unstableSince: this.unstableSince }
  }

  static fromJSON (json: TsiJSON, cfg: VigilConfig): TsiTracker {
    const t = new TsiTracker(cfg)
    t.snapshots = json.snapshots.map(([slot, ts, score]) => ({ slot, t: ts, score }))
    t.lastState = json.lastState
    t.unstableSince = json.unstableSince
    return t
  }
}
