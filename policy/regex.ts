// Parser for the dangerous-pattern dialect: the subset of Python `re` syntax (the reference runs its patterns
// with re.search(p, text, IGNORECASE), trustgate.md §3) that a finite automaton can run in linear time.
// Why our own parser and not RegExp: a backtracking engine lets one hostile pattern such as (a+)+$ or one
// hostile payload hang the hub (issue 8: "bound regex cost"). Everything that needs backtracking —
// backreferences, lookaround, atomic groups, possessive quantifiers — is refused here, at policy load,
// with the column of the offending construct. Semantics follow Python, not JS, where they differ:
// `.` excludes only "\n", `$` also matches before a final "\n", `{,n}` is a quantifier, `\Z` is the end.

export type ClassItem = { lo: number, hi: number } | { cls: 'd' | 'D' | 'w' | 'W' | 's' | 'S' }
export interface CharSet { negated: boolean, items: ClassItem[] }
export type AssertKind = 'start' | 'end' | 'A' | 'Z' | 'b' | 'B'

export type Node =
  | { t: 'char', set: CharSet }
  | { t: 'cat', items: Node[] }
  | { t: 'alt', items: Node[] }
  | { t: 'rep', node: Node, min: number, max: number } // max = Infinity for unbounded
  | { t: 'assert', kind: AssertKind }

/** Thrown for an unusable pattern; the policy loader turns it into a POLICY_INVALID problem. */
export class PatternSyntaxError extends Error {
  readonly column: number
  constructor (message: string, column: number) {
    super(`${message} (at column ${column + 1})`)
    this.column = column
  }
}

/** Longest pattern accepted: keeps parsing (and its error messages) cheap whatever the policy holds. */
export const MAX_PATTERN_LENGTH = 1024

/** Largest {m,n} bound accepted: a bound is unrolled into automaton states (see nfa.ts MAX_STATES). */
export const MAX_REPEAT = 1000

const DOT: CharSet = { negated: true, items: [{ lo: 10, hi: 10 }] }
const single = (cp: number): CharSet => ({ negated: false, items: [{ lo: cp, hi: cp }] })

const SIMPLE_ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, v: 11, a: 7 }

class Parser {
  private i = 0
  private readonly cps: number[]
  constructor (private readonly src: string) { this.cps = Array.from(src, (c) => c.codePointAt(0)!) }

  private fail (msg: string, at = this.i): never { throw new PatternSyntaxError(msg, at) }
  private peek (k = 0): string | undefined { const c = this.cps[this.i + k]; return c === undefined ? undefined : String.fromCodePoint(c) }
  private eat (s: string): boolean {
    for (let k = 0; k < s.length; k++) if (this.peek(k) !== s[k]) return false
    this.i += s.length
    return true
  }

  parse (): Node {
    const node = this.alternation()
    if (this.i < this.cps.length) this.fail(this.peek() === ')' ? 'unbalanced parenthesis' : 'unexpected character')
    return node
  }

  private alternation (): Node {
    const items = [this.sequence()]
    while (this.eat('|')) items.push(this.sequence())
    return items.length === 1 ? items[0]! : { t: 'alt', items }
  }

  private sequence (): Node {
    const items: Node[] = []
    while (this.i < this.cps.length && this.peek() !== '|' && this.peek() !== ')') {
      const start = this.i
      const atom = this.atom()
      if (atom === null) continue // a comment or an inline (?i) flag: matches nothing, repeats nothing
      items.push(this.quantified(atom, start))
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items }
  }

  private quantified (atom: Node, start: number): Node {
    let min: number; let max: number
    if (this.eat('*')) { min = 0; max = Infinity } else if (this.eat('+')) { min = 1; max = Infinity } else if (this.eat('?')) { min = 0; max = 1 } else {
      const q = this.braces()
      if (q === null) return atom
      ;[min, max] = q
    }
    // Python refuses a bare `^*` but accepts a quantified group holding only an assertion, `(?:^)*`.
    if (atom.t === 'assert' && this.cps[start] !== 40) this.fail('nothing to repeat', start)
    if (this.peek() === '+') this.fail('possessive quantifiers are not supported')
    this.eat('?') // laziness changes which match is found, not whether one exists
    const next = this.peek()
    if (next === '*' || next === '+' || next === '?' || (next === '{' && this.braces() !== null)) this.fail('multiple repeat')
    return { t: 'rep', node: atom, min, max }
  }

  /** `{m}`, `{m,}`, `{,n}`, `{m,n}`; anything else starting with `{` is a literal brace, as in Python. */
  private braces (): [number, number] | null {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.offsetOf(this.i)))
    if (!m || (m[1] === '' && m[2] === '')) return null
    const min = m[1] === '' ? 0 : Number(m[1])
    const max = m[2] === '' ? min : (m[3] === '' ? Infinity : Number(m[3]))
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`repeat bound above ${MAX_REPEAT}`)
    if (max < min) this.fail('min repeat greater than max repeat')
    this.i += Array.from(m[0]).length
    return [min, max]
  }

  private offsetOf (cpIndex: number): number {
    let off = 0
    for (let k = 0; k < cpIndex; k++) off += this.cps[k]! > 0xffff ? 2 : 1
    return off
  }

  private atom (): Node | null {
    const at = this.i
    const c = this.peek()!
    if (c === '(') return this.group()
    if (c === '[') return { t: 'char', set: this.charClass() }
    if (c === '*' || c === '+' || c === '?') this.fail('nothing to repeat')
    if (c === '{' && this.braces() !== null) this.fail('nothing to repeat', at)
    this.i++
    if (c === '.') return { t: 'char', set: DOT }
    if (c === '^') return { t: 'assert', kind: 'start' }
    if (c === '$') return { t: 'assert', kind: 'end' }
    if (c === '\\') {
      const e = this.peek()
      if (e === 'A' || e === 'Z' || e === 'b' || e === 'B') { this.i++; return { t: 'assert', kind: e } }
      return { t: 'char', set: this.escape(false) }
    }
    return { t: 'char', set: single(this.cps[at]!) }
  }

  private group (): Node | null {
    const at = this.i
    this.i++ // (
    if (this.eat('?')) {
      if (this.eat('#')) { while (this.i < this.cps.length && this.peek() !== ')') this.i++; if (!this.eat(')')) this.fail('missing ), unterminated comment', at); return null }
      if (this.eat('=') || this.eat('!') || this.eat('<=') || this.eat('<!')) this.fail('lookaround assertions are not supported (no linear-time match)', at)
      if (this.eat('P=')) this.fail('backreferences are not supported (no linear-time match)', at)
      if (this.eat('>')) this.fail('atomic groups are not supported', at)
      if (this.eat('(')) this.fail('conditional groups are not supported', at)
      if (this.eat('P<') || this.eat('<')) {
        if (!/^[A-Za-z_]\w*>/.test(this.src.slice(this.offsetOf(this.i)))) this.fail('bad group name', at)
        while (this.peek() !== '>') this.i++
        this.i++
      } else if (this.eat(':')) {
        // non-capturing group
      } else {
        // Inline flags. Patterns always run case-insensitively (reference behaviour), so only `i` is a no-op;
        // any other flag would change the meaning in ways this matcher does not model.
        while (this.peek() === 'i') this.i++
        if (this.eat(')')) return null
        if (this.eat(':')) {
          // (?i:...) scoped flag: same as a non-capturing group here
        } else {
          this.fail('unsupported inline flag (only "i" is accepted)', at)
        }
      }
    }
    const inner = this.alternation()
    if (!this.eat(')')) this.fail('missing ), unterminated subpattern', at)
    return inner
  }

  private charClass (): CharSet {
    const at = this.i
    this.i++ // [
    const negated = this.eat('^')
    const items: ClassItem[] = []
    let first = true
    for (;;) {
      if (this.i >= this.cps.length) this.fail('unterminated character set', at)
      if (this.peek() === ']' && !first) { this.i++; break }
      first = false
      const lo = this.classAtom()
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++
        const hi = this.classAtom()
        if (!('lo' in lo) || !('lo' in hi)) this.fail('bad character range')
        if (hi.lo < lo.lo) this.fail('bad character range')
        items.push({ lo: lo.lo, hi: hi.lo })
      } else {
        items.push(lo)
      }
    }
    return { negated, items }
  }

  private classAtom (): ClassItem {
    if (this.peek() === '\\') {
      this.i++
      if (this.peek() === 'b') { this.i++; return { lo: 8, hi: 8 } } // backspace inside a class, as in Python
      const set = this.escape(true)
      return set.items[0]!
    }
    const cp = this.cps[this.i++]!
    return { lo: cp, hi: cp }
  }

  /** After a backslash. Python rejects unknown ASCII-letter escapes; so do we. */
  private escape (inClass: boolean): CharSet {
    const at = this.i - 1
    const e = this.peek()
    if (e === undefined) this.fail('bad escape (end of pattern)', at)
    this.i++
    if ('dDwWsS'.includes(e)) return { negated: false, items: [{ cls: e as 'd' }] }
    if (e in SIMPLE_ESCAPES) return single(SIMPLE_ESCAPES[e]!)
    if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const hex = this.src.slice(this.offsetOf(this.i), this.offsetOf(this.i) + len)
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`bad escape \\${e}`, at)
      this.i += len
      const cp = parseInt(hex, 16)
      if (cp > 0x10ffff) this.fail(`bad escape \\${e}`, at)
      return single(cp)
    }
    if (e === '0') { // octal: \0, \0d, \0dd
      let v = 0; let n = 0
      while (n < 2 && /[0-7]/.test(this.peek() ?? '')) { v = v * 8 + Number(this.peek()); this.i++; n++ }
      return single(v)
    }
    if (/[1-9]/.test(e)) this.fail(inClass ? 'octal escapes in classes are not supported' : 'backreferences are not supported (no linear-time match)', at)
    if (/[A-Za-z]/.test(e)) this.fail(`bad escape \\${e}`, at)
    return single(e.codePointAt(0)!)
  }
}

/** Parses one pattern. Throws PatternSyntaxError naming the column for anything outside the dialect. */
export function parsePattern (source: string): Node {
  if (typeof source !== 'string') throw new TypeError(`"source" expected a string, got ${typeof source}`)
  if (source.length > MAX_PATTERN_LENGTH) throw new PatternSyntaxError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH)
  return new Parser(source).parse()
}
