// FORK_AFTER_FINALIZATION (README "Trusted time"): an event covered by an anchor whose token verifies
// is final: the token proves that exactly this history existed at genTime. Two histories of one
// agent that diverge at an index ≤ the `to` of such an anchor rewrite final history; a fork beyond
// every verified anchor is an ordinary FORK_DETECTED. (tsa.md §7 counts any fork after the earliest
// final event; issue 21 asks for "diverge before an anchored point", which is what this checks: only
// then does a token contradict one of the two histories.) Pure.
import type { AnchorVerdict } from './verify-anchors.js'

export interface FinalityFork {
  code: 'FORK_AFTER_FINALIZATION'
  /** First index where the histories differ. */
  index: number
  /** The anchor event that makes the diverging event final, in the history holding it. */
  anchorIndex: number
  /** Last event that anchor covers (≥ index). */
  anchoredTo: number
  genTime: string
  /** Which of the two histories holds the verified anchor: 'first', 'second' (both: two reports). */
  heldBy: 'first' | 'second'
  message: string
}

/** The first index where two hash lists differ, or -1 when one is a prefix of the other. */
export function divergence (a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return -1
}

/**
 * The earliest verified anchor at or after `index`. One whose range starts later still finalizes
 * `index`: its covered events link back by previous_hash through every earlier event, so the token
 * proves this history's event `index` existed by genTime too.
 */
export function finalizingAnchor (anchors: readonly AnchorVerdict[], index: number): AnchorVerdict | undefined {
  let best: AnchorVerdict | undefined
  for (const a of anchors) {
    if (!a.ok || a.genTime === undefined || a.to < index) continue
    if (best === undefined || a.genTime < best.genTime!) best = a
  }
  return best
}

export function forkAfterFinalization (first: { hashes: readonly string[], anchors: readonly AnchorVerdict[] }, second: { hashes: readonly string[], anchors: readonly AnchorVerdict[] }): FinalityFork[] {
  const d = divergence(first.hashes, second.hashes)
  if (d < 0) return []
  const out: FinalityFork[] = []
  for (const [heldBy, h] of [['first', first], ['second', second]] as const) {
    const a = finalizingAnchor(h.anchors, d)
    if (a === undefined) continue
    const genTime = a.genTime!.toISOString()
    out.push({
      code: 'FORK_AFTER_FINALIZATION', index: d, anchorIndex: a.index, anchoredTo: a.to, genTime, heldBy,
      message: `the histories diverge at event ${d}, which the ${heldBy} history's anchor (event ${a.index}, covering ${a.from}..${a.to}) made final at ${genTime} (anchored point ${a.to})`
    })
  }
  return out
}
