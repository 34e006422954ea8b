// How every ratio of the bench is measured (issue 18): the limit and the figure in the same process,
// interleaved (limit, figure, limit for each repetition, so both see the same machine at the same time:
// on a shared machine a limit measured once, minutes apart, swung the printed ratio from 46% to 86%), one
// warm-up run of each first that is reported on its own and never counted, and min/median/max over the
// repetitions. The ratio of a repetition is its figure over the mean of the limit runs around it.

export interface Spread { min: number, median: number, max: number, runs: number[] }

export function spread (runs: number[]): Spread {
  if (runs.length === 0) throw new RangeError('"runs" expected at least one value')
  const s = [...runs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return { min: s[0]!, median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, max: s[s.length - 1]!, runs }
}

export interface Interleaved {
  figure: Spread
  limit: Spread
  ratio: Spread
  /** The excluded first run of each (JIT, thread start, LevelDB's first log file). */
  warmup: { figure: number, limit: number }
}

/**
 * `figure` and `limit` return rates (higher is better); `reps` ≥ 3 repetitions after one warm-up each.
 * With `lowerIsBetter` (costs per event), the ratio is limit / figure, so that 100% still means "at the limit".
 */
export async function interleaved (o: { reps?: number, figure: () => Promise<number> | number, limit: () => Promise<number> | number, lowerIsBetter?: boolean }): Promise<Interleaved> {
  const reps = Math.max(3, o.reps ?? 3)
  const warmLimit = await o.limit()
  const warmFigure = await o.figure()
  const figures: number[] = []; const limits: number[] = []; const ratios: number[] = []
  let before = await o.limit()
  for (let r = 0; r < reps; r++) {
    const f = await o.figure()
    const after = await o.limit()
    const l = (before + after) / 2
    figures.push(f); limits.push(l); ratios.push(o.lowerIsBetter ? l / f : f / l)
    before = after
  }
  return { figure: spread(figures), limit: spread(limits), ratio: spread(ratios), warmup: { figure: warmFigure, limit: warmLimit } }
}
