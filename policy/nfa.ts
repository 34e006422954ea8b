// Thompson automaton for the pattern dialect of regex.ts, run by simultaneous state-set simulation:
// each input character is looked at once per live state, so a search costs at most
// (text length + 1) × (automaton size) steps whatever the pattern or the text — no backtracking exists
// to explode. On top of that bound, every search draws on a caller-supplied step budget, so the total
// work of one policy evaluation is capped by a number and the outcome stays deterministic.
import { parsePattern, type AssertKind, type CharSet, type ClassItem, type Node } from './regex.js'

/** Upper bound on automaton states per pattern; `{m,n}` unrolls, so `(x{1000}){1000}` is refused here. */
export const MAX_STATES = 20_000

const CHAR = 0; const SPLIT = 1; const ASSERT = 2; const MATCH = 3

export interface CompiledPattern {
  readonly source: string
  /** Number of automaton states: the per-character cost of a search. */
  readonly size: number
  readonly op: Uint8Array
  readonly out1: Int32Array
  readonly out2: Int32Array
  readonly sets: Array<CharSet | AssertKind | null>
  /** Per CHAR state, a 128-entry answer table for ASCII input (case folding included): the hot path. */
  readonly ascii: Array<Uint8Array | null>
  readonly start: number
  /**
   * When no thread is alive, the search may jump to the next position whose character can start a match:
   * `first` answers for ASCII (non-ASCII always stops the jump). Null when the start closure holds an
   * assertion or accepts the empty string, where position matters on its own.
   */
  readonly first: Uint8Array | null
}

/** Thrown by search() when the budget runs out; evaluate() turns it into a fail-closed BLOCK. */
export class ScanBudgetExceeded extends Error {
  constructor () { super('pattern scan exceeded its step budget') }
}

export interface Budget { remaining: number }


class Builder {
  op: number[] = []; out1: number[] = []; out2: number[] = []; sets: Array<CharSet | AssertKind | null> = []
  add (op: number, set: CharSet | AssertKind | null, o1 = -1, o2 = -1): number {
    if (this.op.length >= MAX_STATES) throw new RangeError(`pattern needs more than ${MAX_STATES} automaton states`)
    this.op.push(op); this.sets.push(set); this.out1.push(o1); this.out2.push(o2)
    return this.op.length - 1
  }

  /** Compiles `node` so that it continues to state `next`; returns its entry state (built back to front). */
  emit (node: Node, next: number): number {
    switch (node.t) {
      case 'char': return this.add(CHAR, withCaseVariants(node.set), next)
      case 'assert': return this.add(ASSERT, node.kind, next)
      case 'cat': {
        let entry = next
        for (let k = node.items.length - 1; k >= 0; k--) entry = this.emit(node.items[k]!, entry)
        return entry
      }
      case 'alt': {
        const entries = node.items.map((n) => this.emit(n, next))
        let entry = entries[entries.length - 1]!
        for (let k = entries.length - 2; k >= 0; k--) entry = this.add(SPLIT, null, entries[k]!, entry)
        return entry
      }
      case 'rep': {
        let entry = next
        if (node.max === Infinity) {
          // loop: split → (body → split) | next
          const loop = this.add(SPLIT, null, -1, next)
          const body = this.emit(node.node, loop)
          this.out1[loop] = body
          entry = loop
        } else {
          // x{m,n}: n-m nested optional copies, each of which may leave straight for `next`.
          for (let k = node.max - node.min; k > 0; k--) entry = this.add(SPLIT, null, this.emit(node.node, entry), next)
        }
        for (let k = 0; k < node.min; k++) entry = this.emit(node.node, entry)
        return entry
      }
    }
  }
}

/** Parses and compiles one dangerous pattern. Throws PatternSyntaxError or RangeError (too large). */
export function compilePattern (source: string): CompiledPattern {
  const ast = parsePattern(source)
  const b = new Builder()
  const match = b.add(MATCH, null)
  const start = b.emit(ast, match)
  const ascii = b.sets.map((set, s) => {
    if (b.op[s] !== CHAR) return null
    const table = new Uint8Array(128)
    for (let cp = 0; cp < 128; cp++) table[cp] = inSet(set as CharSet, cp) ? 1 : 0
    return table
  })
  return {
    source, size: b.op.length, start, sets: b.sets, ascii, first: firstTable(b, ascii, start),
    op: Uint8Array.from(b.op), out1: Int32Array.from(b.out1), out2: Int32Array.from(b.out2)
  }
}

/**
 * Literal characters also match their simple upper/lower forms (so `ı` matches `I`, as Python's
 * IGNORECASE does); inSet() covers the input side by testing the input's own variants.
 */
function withCaseVariants (set: CharSet): CharSet {
  const extra: ClassItem[] = []
  for (const it of set.items) {
    if (!('lo' in it) || it.lo !== it.hi) continue
    for (const v of [caseVariant(it.lo, false), caseVariant(it.lo, true)]) if (v !== it.lo) extra.push({ lo: v, hi: v })
  }
  return extra.length === 0 ? set : { negated: set.negated, items: [...set.items, ...extra] }
}

function firstTable (b: Builder, ascii: Array<Uint8Array | null>, start: number): Uint8Array | null {
  const first = new Uint8Array(128)
  const seen = new Set<number>()
  const stack = [start]
  while (stack.length > 0) {
    const s = stack.pop()!
    if (seen.has(s)) continue
    seen.add(s)
    if (b.op[s] === SPLIT) { stack.push(b.out1[s]!, b.out2[s]!); continue }
    if (b.op[s] !== CHAR) return null
    for (let cp = 0; cp < 128; cp++) first[cp] = first[cp]! | ascii[s]![cp]!
  }
  return first
}

// ---- character tests (Python str-pattern semantics with IGNORECASE) ----

const WORD = /[\p{L}\p{N}_]/u
const DIGIT = /\p{Nd}/u
const SPACE = /[\s\x1c-\x1f]/u

function isWord (cp: number): boolean {
  if (cp < 128) return (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95
  return WORD.test(String.fromCodePoint(cp))
}
function isDigit (cp: number): boolean { return cp < 128 ? cp >= 48 && cp <= 57 : DIGIT.test(String.fromCodePoint(cp)) }
function isSpace (cp: number): boolean {
  if (cp < 128) return cp === 32 || (cp >= 9 && cp <= 13) || (cp >= 28 && cp <= 31)
  return SPACE.test(String.fromCodePoint(cp))
}

function inSetRaw (set: CharSet, cp: number): boolean {
  for (const it of set.items) {
    if ('lo' in it) { if (cp >= it.lo && cp <= it.hi) return true; continue }
    switch (it.cls) {
      case 'd': if (isDigit(cp)) return true; break
      case 'D': if (!isDigit(cp)) return true; break
      case 'w': if (isWord(cp)) return true; break
      case 'W': if (!isWord(cp)) return true; break
      case 's': if (isSpace(cp)) return true; break
      case 'S': if (!isSpace(cp)) return true; break
    }
  }
  return false
}

function caseVariant (cp: number, upper: boolean): number {
  if (cp < 128) {
    if (upper) return cp >= 97 && cp <= 122 ? cp - 32 : cp
    return cp >= 65 && cp <= 90 ? cp + 32 : cp
  }
  const s = String.fromCodePoint(cp)
  const v = upper ? s.toUpperCase() : s.toLowerCase()
  // Only one-to-one mappings count (ß → SS does not), as in Python's simple case folding.
  return v.length === s.length || [...v].length === 1 ? v.codePointAt(0)! : cp
}

function inSetUncached (set: CharSet, cp: number): boolean {
  const hit = inSetRaw(set, cp) || inSetRaw(set, caseVariant(cp, false)) || inSetRaw(set, caseVariant(cp, true))
  return set.negated ? !hit : hit
}

// A non-ASCII test costs case mappings and Unicode regexes (String.fromCodePoint each), asked for every
// live state at every position: a budget step cost up to 60× more on astral characters than on ASCII,
// so the step budget did not bound time (issue 14 #7). The answer per set and code point is kept
// instead (sets are the compiled pattern's, shared by its states; each memo is bounded).
const MEMO_MAX = 4096
const memos = new WeakMap<CharSet, Map<number, boolean>>()

function inSet (set: CharSet, cp: number): boolean {
  let m = memos.get(set)
  if (m === undefined) { m = new Map(); memos.set(set, m) }
  let hit = m.get(cp)
  if (hit === undefined) {
    if (m.size >= MEMO_MAX) m.clear()
    hit = inSetUncached(set, cp)
    m.set(cp, hit)
  }
  return hit
}

/**
 * A scan text may hold several strings separated by SEPARATOR (-1, not a code point): no character test
 * accepts it, so no match spans two strings, and anchors treat it as a string boundary.
 */
export const SEPARATOR = -1

function assertHolds (kind: AssertKind, cps: readonly number[], i: number): boolean {
  const n = cps.length
  const atStart = i === 0 || cps[i - 1] === SEPARATOR
  const atEnd = i === n || cps[i] === SEPARATOR
  switch (kind) {
    case 'start': case 'A': return atStart
    case 'Z': return atEnd
    case 'end': return atEnd || (cps[i] === 10 && (i + 1 === n || cps[i + 1] === SEPARATOR))
    case 'b': case 'B': {
      const before = i > 0 && isWord(cps[i - 1]!)
      const after = i < n && isWord(cps[i]!)
      return (before !== after) === (kind === 'b')
    }
  }
}

export function toCodePoints (text: string): number[] { return Array.from(text, (c) => c.codePointAt(0)!) }

/**
 * One pattern's simulation state. Work arrays are reused between searches (search is synchronous, so a
 * runner is never re-entered); the generation counter carries on, so stale marks never collide.
 */
class Runner {
  readonly a: Int32Array; readonly b: Int32Array; readonly mark: Int32Array; readonly stack: Int32Array
  gen = 0; matched = false; work = 0
  cps: readonly number[] = []
  constructor (readonly p: CompiledPattern) {
    this.a = new Int32Array(p.size); this.b = new Int32Array(p.size)
    this.mark = new Int32Array(p.size).fill(-1); this.stack = new Int32Array(p.size)
  }

  /** Adds state s0 and its epsilon closure at position i to `list`; assertions are checked at i. */
  add (list: Int32Array, len: number, s0: number, i: number): number {
    const { p, mark, stack, gen } = this
    let sp = 0
    stack[sp++] = s0
    while (sp > 0) {
      const s = stack[--sp]!
      if (mark[s] === gen) continue
      mark[s] = gen
      this.work++ // states visited, closures included: the honest measure of cost
      const op = p.op[s]
      if (op === SPLIT) { stack[sp++] = p.out2[s]!; stack[sp++] = p.out1[s]!; continue }
      if (op === ASSERT) { if (assertHolds(p.sets[s] as AssertKind, this.cps, i)) stack[sp++] = p.out1[s]!; continue }
      if (op === MATCH) { this.matched = true; continue }
      list[len++] = s
    }
    return len
  }

  run (cps: readonly number[], budget: Budget): boolean {
    const p = this.p
    this.cps = cps; this.matched = false; this.work = 0
    if (this.gen > 0x3fff0000 - 2 * (cps.length + 2)) { this.mark.fill(-1); this.gen = 0 }
    let cur = this.a; let curLen = 0
    let nxt = this.b; let nxtLen = 0
    const first = p.first
    const mark = this.mark
    try {
      for (let i = 0; i <= cps.length; i++) {
        if (curLen === 0 && first !== null) {
          // Nothing alive: skip what cannot start a match (SEPARATOR is < 128 and in no table: skipped).
          while (i < cps.length && cps[i]! < 128 && first[cps[i]!] !== 1) i++
        }
        const gen = ++this.gen
        // Re-seeding the start state at every position makes the search unanchored. States carried over
        // from i-1 take the new generation mark first, so nothing is added twice.
        for (let k = 0; k < curLen; k++) mark[cur[k]!] = gen
        curLen = this.add(cur, curLen, p.start, i)
        budget.remaining -= this.work + curLen + 1
        this.work = 0
        if (budget.remaining < 0) throw new ScanBudgetExceeded()
        if (this.matched || i === cps.length) break
        const cp = cps[i]!
        this.gen++
        nxtLen = 0
        for (let k = 0; k < curLen; k++) {
          const s = cur[k]!
          if (cp < 128 ? p.ascii[s]![cp] === 1 : inSet(p.sets[s] as CharSet, cp)) nxtLen = this.add(nxt, nxtLen, p.out1[s]!, i + 1)
        }
        if (this.matched) break
        const t = cur; cur = nxt; nxt = t
        curLen = nxtLen
      }
    } finally {
      this.cps = []
    }
    return this.matched
  }
}

const runners = new WeakMap<CompiledPattern, Runner>()

/**
 * Unanchored search (Python re.search) over the code points of `text`. True as soon as any match ends.
 * Draws the states it visits (closures included) from `budget` per position and throws
 * ScanBudgetExceeded when it is spent.
 */
export function search (p: CompiledPattern, text: string | readonly number[], budget: Budget): boolean {
  // Callers scanning one text with many patterns pass the code points once (toCodePoints).
  const cps = typeof text === 'string' ? toCodePoints(text) : text
  let r = runners.get(p)
  if (r === undefined) { r = new Runner(p); runners.set(p, r) }
  return r.run(cps, budget)
}
