// VRS history per agent (vigil.md §1: 30 days), downsampled in two tiers: one point per 10 min for the
// last 24 h, one per hour before that (≈ 864 points per agent, not 4 320). Each point keeps the last
// value AND the worst of its span: downsampling must never hide a spike, so a chart drawn from
// `max`/`worst` shows every CRITICAL moment even when `vrs` (the last value) went back down.
import { HOUR, type VigilConfig } from './config.js'
import { VRS_STATES, type VrsState } from './vrs.js'

export interface HistoryPoint {
  /** Start of the span (Unix seconds) and its length in seconds. */
  t: number
  span: number
  /** Last VRS computed in the span, and its state. */
  vrs: number
  state: VrsState
  max: number
  min: number
  worst: VrsState
  samples: number
}

export interface HistoryQuery { since?: number, until?: number, maxPoints?: number }

const FINE_SPAN = 24 * HOUR
const rank = (s: VrsState): number => VRS_STATES.indexOf(s)

/** Folds `p` into `into` (p is later in time). */
function merge (into: HistoryPoint, p: HistoryPoint): void {
  into.vrs = p.vrs; into.state = p.state; into.samples += p.samples
  if (p.max > into.max) into.max = p.max
  if (p.min < into.min) into.min = p.min
  if (rank(p.worst) > rank(into.worst)) into.worst = p.worst
}

export class VrsHistory {
  coarse: HistoryPoint[] = []
  fine: HistoryPoint[] = []

  constructor (private readonly cfg: VigilConfig) {}

  record (now: number, vrs: number, state: VrsState): void {
    const slot = this.cfg.historySlot
    const t = Math.floor(now / slot) * slot
    const last = this.fine[this.fine.length - 1]
    const point: HistoryPoint = { t, span: slot, vrs, state, max: vrs, min: vrs, worst: state, samples: 1 }
    if (last !== undefined && last.t >= t) merge(last, point); else this.fine.push(point)
    // Fine points older than 24 h fold into hourly points; hourly points older than the retention go.
    while (this.fine.length > 0 && this.fine[0].t + slot <= now - FINE_SPAN) {
      const p = this.fine.shift() as HistoryPoint
      const ht = Math.floor(p.t / HOUR) * HOUR
      const c = this.coarse[this.coarse.length - 1]
      if (c !== undefined && c.t === ht) merge(c, p); else this.coarse.push({ ...p, t: ht, span: Math.max(HOUR, slot) })
    }
    let drop = 0
    while (drop < this.coarse.length && this.coarse[drop].t + this.coarse[drop].span <= now - this.cfg.historyRetention) drop++
    if (drop > 0) this.coarse.splice(0, drop)
  }

  /** Points overlapping [since, until], oldest first, merged evenly down to at most maxPoints. */
  query (q: HistoryQuery = {}): HistoryPoint[] {
    const since = q.since ?? -Infinity
    const until = q.until ?? Infinity
    const sel = [...this.coarse, ...this.fine].filter((p) => p.t + p.span > since && p.t <= until).map((p) => ({ ...p }))
    const max = q.maxPoints
    if (max === undefined || sel.length <= max) return sel
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`"maxPoints" expected an integer ≥ 1, got ${max}`)
    const k = Math.ceil(sel.length / max)
    const out: HistoryPoint[] = []
    for (let i = 0; i < sel.length; i += k) {
      const group = sel.slice(i, i + k)
      const head = { ...group[0] }
      for (const p of group.slice(1)) merge(head, p)
      const tail = group[group.length - 1]
      head.span = tail.t + tail.span - head.t
      out.push(head)
    }
    return out
  }

  /** Compact rows [t, span, vrs, state, max, min, worst, samples]: history is the largest part of the state. */
  toJSON (): { coarse: HistoryRow[], fine: HistoryRow[] } {
    return { coarse: this.coarse.map(toRow), fine: this.fine.map(toRow) }
  }

  static fromJSON (json: { coarse: HistoryRow[], fine: HistoryRow[] }, cfg: VigilConfig): VrsHistory {
    const h = new VrsHistory(cfg)
    h.coarse = json.coarse.map(fromRow)
    h.fine = json.fine.map(fromRow)
    return h
  }
}

export type HistoryRow = [number, number, number, number, number, number, number, number]

function toRow (p: HistoryPoint): HistoryRow {
  return [p.t, p.span, p.vrs, rank(p.state), p.max, p.min, rank(p.worst), p.samples]
}

function fromRow (r: HistoryRow): HistoryPoint {
  return { t: r[0], span: r[1], vrs: r[2], state: VRS_STATES[r[3]], max: r[4], min: r[5], worst: VRS_STATES[r[6]], samples: r[7] }
}
