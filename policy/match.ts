// Matching dangerous patterns with RE2 (re2js: a pure-JS port of RE2, linear time in the text whatever
// the pattern), under a step budget that keeps the outcome deterministic. pattern.ts has already turned
// the policy's Python-dialect pattern into RE2 syntax with the same meaning.
//
// The budget. RE2 bounds the time of a search by (text length) × (program size), but it does not say how
// much of that bound a given search used, and a figure read from the clock would make the decision depend
// on the machine. So a search is charged its bound, in advance: (characters + 1) × weight, where the
// weight is the pattern's automaton size in units of STEP_STATES states. Ordinary patterns (rm\s+-rf,
// DROP\s+TABLE) weigh 2 or 3, so the strictest shipped profile (16 patterns) scans a 65,536-character
// payload whose strings need no JSON escapes within the default budget (such strings are searched once,
// inside the JSON text; see firstMatch); a pattern such as (.*){60}x weighs 31 and spends it ten times
// faster. Same patterns and same text lengths, same charge: a budget verdict never depends on timing or
// on what earlier searches left in RE2's caches.
// Why 4: typical text costs ~50 ns a character for the whole 16-pattern set (one pass, DFA), far below
// any budget; RE2's worst case is a pattern whose DFA keeps building states ([a-q][^u-z]{13}x on random
// letters, weight 4): ~0.66 µs a character on the shared 2-core machine, so 4,000,000 steps can take
// ~0.7 s of one core. The old automaton metered its real work and stopped near 0.07 s at the default
// limits; a smaller unit would keep that bound but block large ordinary payloads that pass today.
import { RE2JS, RE2Set } from 're2js'
import { translatePattern, MAX_STATES } from './pattern.js'

export { MAX_STATES }
/** Automaton states one budget step pays for (see the header). */
export const STEP_STATES = 4

export interface CompiledPattern {
  /** The pattern as the policy wrote it (what a decision reports). */
  readonly source: string
  /** The RE2 translation that runs. */
  readonly re2: string
  /** Automaton size: bounds a policy's patterns at load (schema.ts MAX_TOTAL_STATES). */
  readonly size: number
  /** Budget steps per scanned character. */
  readonly weight: number
  /** Uses ^, $, \A or \Z (see firstMatch). */
  readonly anchored: boolean
  readonly regex: RE2JS
}

/** Thrown by search() when the budget runs out; evaluate() turns it into a fail-closed BLOCK. */
export class ScanBudgetExceeded extends Error {
  constructor () { super('pattern scan exceeded its step budget') }
}

export interface Budget { remaining: number }

/** Translates and compiles one dangerous pattern. Throws PatternSyntaxError or RangeError (too large). */
export function compilePattern (source: string): CompiledPattern {
  const { re2, size, anchored } = translatePattern(source)
  const regex = RE2JS.compile(re2, RE2JS.CASE_INSENSITIVE)
  return { source, re2, size, weight: Math.ceil(size / STEP_STATES), anchored, regex }
}

function charge (budget: Budget, cost: number): void {
  budget.remaining -= cost
  if (budget.remaining < 0) throw new ScanBudgetExceeded()
}

/** Unanchored search (Python re.search) of one text, charged to `budget` before it runs. */
export function search (p: CompiledPattern, text: string, budget: Budget): boolean {
  charge(budget, (text.length + 1) * p.weight)
  return p.regex.test(text)
}

/** All of a policy's patterns, for the scan: one RE2 set runs them together in a single pass per text. */
export interface PatternList {
  readonly patterns: readonly CompiledPattern[]
  /** Sum of the weights: the cost per character of the one-pass set. */
  readonly weight: number
  readonly anchored: boolean
  readonly set: RE2Set | null
}

const lists = new WeakMap<readonly CompiledPattern[], PatternList>()

/** The set for a policy's patterns, built once per pattern array (a LoadedPolicy's is frozen with it). */
export function patternList (patterns: readonly CompiledPattern[]): PatternList {
  let l = lists.get(patterns)
  if (l === undefined) {
    let set: RE2Set | null = null
    if (patterns.length > 0) {
      set = new RE2Set(RE2Set.UNANCHORED, RE2JS.CASE_INSENSITIVE)
      for (const p of patterns) set.add(p.re2)
      set.compile()
    }
    l = { patterns, weight: patterns.reduce((n, p) => n + p.weight, 0), anchored: patterns.some((p) => p.anchored), set }
    lists.set(patterns, l)
  }
  return l
}

/**
 * The index of the first pattern (in policy order, as the reference's first-match loop) that matches one
 * of the texts, or -1. Each text is one string: no match spans two. `verbatim` are texts that also occur
 * unchanged inside one of `texts` (a JSON string needing no escapes, inside the JSON text): a pattern
 * without anchors matches them there if at all, so only anchored patterns search them again.
 * If the whole set's charge fits the budget it runs in one pass per text; otherwise pattern by pattern,
 * each charged before it runs, so a pattern early in the list is still found when the whole list would
 * not fit (the reference's order).
 */
export function firstMatch (list: PatternList, texts: readonly string[], verbatim: readonly string[], budget: Budget): number {
  let chars = 0; let verbatimChars = 0
  for (const t of texts) chars += t.length + 1
  for (const t of verbatim) verbatimChars += t.length + 1
  const setChars = list.anchored ? chars + verbatimChars : chars
  if (list.set !== null && setChars * list.weight <= budget.remaining) {
    budget.remaining -= setChars * list.weight
    let first = -1
    for (const t of list.anchored ? [...texts, ...verbatim] : texts) {
      for (const i of list.set.match(t)) if (first < 0 || i < first) first = i
      if (first === 0) break
    }
    return first
  }
  for (let i = 0; i < list.patterns.length; i++) {
    const p = list.patterns[i]!
    charge(budget, (p.anchored ? chars + verbatimChars : chars) * p.weight)
    for (const t of texts) if (p.regex.test(t)) return i
    if (p.anchored) for (const t of verbatim) if (p.regex.test(t)) return i
  }
  return -1
}
