// The dangerous-pattern dialect, translated to RE2 at policy load. Policies are written for Python `re`
// (the reference runs re.search(p, text, IGNORECASE), trustgate.md §3); they are matched by RE2 (re2js),
// whose linear-time guarantee is why a hostile pattern such as (a+)+$ cannot hang the hub (issue 8). The
// two dialects differ, so every pattern is read here token by token, each construct either translated
// to the RE2 that means what Python means, or refused with its column (README "TrustGate", patterns):
//   refused     backreferences \1 (?P=n), lookaround (?= (?! (?<= (?<!, atomic groups (?>, possessive
//               quantifiers, conditionals, inline flags other than i, unknown escapes (\p, \q: bad escape
//               in Python), and a `$` that more pattern must follow (see below)
//   `$`         Python: at the end, or before a final "\n". RE2 `$` is the end only. Written `\n?\z`,
//               which consumes that newline: the same verdict as long as nothing has to match after the `$`
//               (search only asks whether a match exists), so a `$` with more to match after it is refused
//   `\Z`        Python: the very end (RE2 `\z`; RE2 has no `\Z`)
//   `{,n}`      Python: {0,n}. RE2 reads `{,n}` as four literal characters
//   `\d \w \s`  Python str patterns are Unicode: \d any Nd digit, \w letters, numbers and _, \s the
//               characters str.isspace() accepts. RE2's are ASCII: written out as Unicode classes.
//               `\W \S` inside [...] cannot be written as RE2 class items and are refused there
//   `(?P<n>`    named and plain groups become (?: — nothing reads captures, and RE2 is faster without
//   (?i) (?i:   patterns always run case-insensitively, so these are no-ops
//   ı ſ K …     Python's IGNORECASE lets a letter match its one-to-one upper and lower forms (`ı` matches
//               `I`); RE2 folds by Unicode orbits, which leave ı alone: such literals carry their forms
//   [[:a:]]     POSIX classes are RE2 only: every literal character is emitted as \x{…}, never as syntax
// Known and kept: `\b` is RE2's ASCII word boundary; Python's counts non-ASCII letters as word characters,
// so next to one (`é`, `ж`) the two can disagree. test/policy-pattern.test.ts pins this.
// The automaton size the old matcher had (one state per character test, copies for bounded repeats) is
// computed along the way: it bounds load time (MAX_STATES) and weighs a pattern's scan cost (match.ts).

/** Thrown for an unusable pattern; the policy loader turns it into a POLICY_INVALID problem. */
export class PatternSyntaxError extends Error {
  readonly column: number
  constructor (message: string, column: number) {
    super(`${message} (at column ${column + 1})`)
    this.column = column
  }
}

/** Longest pattern accepted: keeps translating (and its error messages) cheap whatever the policy holds. */
export const MAX_PATTERN_LENGTH = 1024
/** Largest {m,n} bound accepted (RE2's own limit too). */
export const MAX_REPEAT = 1000
/** Upper bound on automaton states per pattern; `{m,n}` unrolls, so `(x{1000}){1000}` is refused here. */
export const MAX_STATES = 20_000

export interface TranslatedPattern {
  readonly re2: string
  readonly size: number
  /** Uses ^, $, \A or \Z: whether a string is searched on its own or inside the JSON text matters. */
  readonly anchored: boolean
}

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`
const lit = (cp: number): string => (cp < 128 && /[A-Za-z0-9_ ]/.test(String.fromCharCode(cp)) ? String.fromCharCode(cp) : hex(cp))
const SIMPLE_ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, v: 11, a: 7 }
// Python's \s for str patterns: what str.isspace() accepts (Unicode White_Space minus nothing, plus \x1c-\x1f).
const SPACE_ITEMS = '\\x{9}-\\x{d}\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}'
const WORD_ITEMS = '\\p{L}\\p{N}_'
/** Class escapes as items inside [...]; null where RE2 has no item for it. */
const CLASS_ITEMS: Record<string, string | null> = { d: '\\p{Nd}', D: '\\P{Nd}', w: WORD_ITEMS, W: null, s: SPACE_ITEMS, S: null }
const CLASS_ATOMS: Record<string, string> = { d: '\\p{Nd}', D: '\\P{Nd}', w: `[${WORD_ITEMS}]`, W: `[^${WORD_ITEMS}]`, s: `[${SPACE_ITEMS}]`, S: `[^${SPACE_ITEMS}]` }

/** A literal's one-to-one upper and lower forms that RE2's case folding would not reach (ı → I). */
function caseForms (cp: number): number[] {
  if (cp < 128) return []
  const s = String.fromCodePoint(cp)
  const out: number[] = []
  for (const v of [s.toLowerCase(), s.toUpperCase()]) if ([...v].length === 1 && v.codePointAt(0) !== cp) out.push(v.codePointAt(0)!)
  return out
}
const literalAtom = (cp: number): string => { const f = caseForms(cp); return f.length === 0 ? lit(cp) : `[${[cp, ...f].map(hex).join('')}]` }

interface Piece { re2: string, size: number, consumes: boolean }

class Translator {
  private i = 0
  private readonly cps: number[]
  /** Per open group depth, the column of a `$` whose branch must end with nothing more to match, or -1. */
  private readonly dollar: number[] = [-1]
  private anchored = false
  constructor (private readonly src: string) { this.cps = Array.from(src, (c) => c.codePointAt(0)!) }

  private fail (msg: string, at = this.i): never { throw new PatternSyntaxError(msg, at) }
  private peek (k = 0): string | undefined { const c = this.cps[this.i + k]; return c === undefined ? undefined : String.fromCodePoint(c) }
  private eat (s: string): boolean {
    for (let k = 0; k < s.length; k++) if (this.peek(k) !== s[k]) return false
    this.i += s.length
    return true
  }
  private rest (): string { return this.cps.slice(this.i).map((c) => String.fromCodePoint(c)).join('') }

  translate (): TranslatedPattern {
    const { re2, size } = this.alternation()
    if (this.i < this.cps.length) this.fail(this.peek() === ')' ? 'unbalanced parenthesis' : 'unexpected character')
    return { re2, size: size + 1, anchored: this.anchored } // + the final match state
  }

  private alternation (): Piece {
    const branches = [this.sequence()]
    while (this.eat('|')) { this.dollar[this.dollar.length - 1] = -1; branches.push(this.sequence()) }
    const size = branches.reduce((n, b) => n + b.size, 0) + branches.length - 1
    return { re2: branches.map((b) => b.re2).join('|'), size, consumes: branches.some((b) => b.consumes) }
  }

  private sequence (): Piece {
    let re2 = ''; let size = 0; let consumes = false
    while (this.i < this.cps.length && this.peek() !== '|' && this.peek() !== ')') {
      const start = this.i
      const atom = this.atom()
      if (atom === null) continue // a comment or an inline (?i) flag: matches nothing, repeats nothing
      const q = this.quantified(atom, start)
      // Something that must match after a `$` of this branch (see the header): Python and RE2 differ there.
      const d = this.dollar[this.dollar.length - 1]!
      if (q.consumes && d >= 0) this.fail('"$" followed by more to match: Python and RE2 disagree before a final newline', d)
      if (atom.re2 === DOLLAR && this.cps[start] === 36) this.dollar[this.dollar.length - 1] = start
      re2 += q.re2; size += q.size; consumes ||= q.consumes
    }
    return { re2, size, consumes }
  }

  private quantified (atom: Piece, start: number): Piece {
    let min: number; let max: number; let text: string
    if (this.eat('*')) { min = 0; max = Infinity; text = '*' } else if (this.eat('+')) { min = 1; max = Infinity; text = '+' } else if (this.eat('?')) { min = 0; max = 1; text = '?' } else {
      const q = this.braces()
      if (q === null) return atom
      ;[min, max] = q
      text = max === Infinity ? `{${min},}` : min === max ? `{${min}}` : `{${min},${max}}`
    }
    // Python refuses a bare `^*` but accepts a quantified group holding only an assertion, `(?:^)*`.
    if (!atom.consumes && atom.size === 1 && this.cps[start] !== 40) this.fail('nothing to repeat', start)
    if (this.peek() === '+') this.fail('possessive quantifiers are not supported')
    this.eat('?') // laziness changes which match is found, not whether one exists
    const next = this.peek()
    if (next === '*' || next === '+' || next === '?' || (next === '{' && this.braces(false) !== null)) this.fail('multiple repeat')
    const size = max === Infinity ? atom.size * Math.max(min, 1) + 1 : atom.size * max + (max - min)
    if (size > MAX_STATES) throw new RangeError(`pattern needs more than ${MAX_STATES} automaton states`)
    return { re2: `(?:${atom.re2})${text}`, size, consumes: atom.consumes && min > 0 }
  }

  /** `{m}`, `{m,}`, `{,n}`, `{m,n}`; anything else starting with `{` is a literal brace, as in Python. */
  private braces (consume = true): [number, number] | null {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.rest())
    if (!m || (m[1] === '' && m[2] === '')) return null
    const min = m[1] === '' ? 0 : Number(m[1])
    const max = m[2] === '' ? min : (m[3] === '' ? Infinity : Number(m[3]))
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`repeat bound above ${MAX_REPEAT}`)
    if (max < min) this.fail('min repeat greater than max repeat')
    if (consume) this.i += m[0].length
    return [min, max]
  }

  private atom (): Piece | null {
    const at = this.i
    const c = this.peek()!
    if (c === '(') return this.group()
    if (c === '[') return { re2: this.charClass(), size: 1, consumes: true }
    if (c === '*' || c === '+' || c === '?') this.fail('nothing to repeat')
    if (c === '{' && this.braces(false) !== null) this.fail('nothing to repeat', at)
    this.i++
    if (c === '.') return { re2: '.', size: 1, consumes: true } // both: any character but "\n"
    if (c === '^' || c === '$') this.anchored = true
    if (c === '^') return { re2: '^', size: 1, consumes: false } // both: start of the text (no multiline)
    if (c === '$') return { re2: DOLLAR, size: 1, consumes: false }
    if (c === '\\') {
      const e = this.peek()
      if (e === 'A' || e === 'Z') this.anchored = true
      if (e === 'A') { this.i++; return { re2: '\\A', size: 1, consumes: false } }
      if (e === 'Z') { this.i++; return { re2: '\\z', size: 1, consumes: false } }
      if (e === 'b' || e === 'B') { this.i++; return { re2: '\\' + e, size: 1, consumes: false } }
      if (e !== undefined && e in CLASS_ATOMS) { this.i++; return { re2: CLASS_ATOMS[e]!, size: 1, consumes: true } }
      return { re2: literalAtom(this.escape(false)), size: 1, consumes: true }
    }
    return { re2: literalAtom(this.cps[at]!), size: 1, consumes: true }
  }

  private group (): Piece | null {
    const at = this.i
    this.i++ // (
    if (this.eat('?')) {
      if (this.eat('#')) { while (this.i < this.cps.length && this.peek() !== ')') this.i++; if (!this.eat(')')) this.fail('missing ), unterminated comment', at); return null }
      if (this.eat('=') || this.eat('!') || this.eat('<=') || this.eat('<!')) this.fail('lookaround assertions are not supported (no linear-time match)', at)
      if (this.eat('P=')) this.fail('backreferences are not supported (no linear-time match)', at)
      if (this.eat('>')) this.fail('atomic groups are not supported', at)
      if (this.eat('(')) this.fail('conditional groups are not supported', at)
      if (this.eat('P<') || this.eat('<')) {
        if (!/^[A-Za-z_]\w*>/.test(this.rest())) this.fail('bad group name', at)
        while (this.peek() !== '>') this.i++
        this.i++
      } else if (!this.eat(':')) {
        // Inline flags. Patterns always run case-insensitively (reference behaviour), so only `i` is a no-op;
        // any other flag would change the meaning in ways the translation does not model.
        while (this.peek() === 'i') this.i++
        if (this.eat(')')) return null
        if (!this.eat(':')) this.fail('unsupported inline flag (only "i" is accepted)', at)
      }
    }
    this.dollar.push(-1)
    const inner = this.alternation()
    if (!this.eat(')')) this.fail('missing ), unterminated subpattern', at)
    // A `$` still open at the group's end binds what follows the group.
    const d = this.dollar.pop()!
    if (d >= 0 && this.dollar[this.dollar.length - 1]! < 0) this.dollar[this.dollar.length - 1] = d
    return { re2: `(?:${inner.re2})`, size: inner.size, consumes: inner.consumes }
  }

  private charClass (): string {
    const at = this.i
    this.i++ // [
    const negated = this.eat('^')
    const items: string[] = []
    let first = true
    for (;;) {
      if (this.i >= this.cps.length) this.fail('unterminated character set', at)
      if (this.peek() === ']' && !first) { this.i++; break }
      first = false
      const lo = this.classAtom()
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++
        const hi = this.classAtom()
        if (typeof lo === 'string' || typeof hi === 'string' || hi < lo) this.fail('bad character range')
        items.push(`${hex(lo)}-${hex(hi)}`)
      } else {
        items.push(typeof lo === 'string' ? lo : [lo, ...caseForms(lo)].map(hex).join(''))
      }
    }
    return `[${negated ? '^' : ''}${items.join('')}]`
  }

  /** A code point, or the RE2 items of a class escape. */
  private classAtom (): number | string {
    if (this.peek() === '\\') {
      const at = this.i
      this.i++
      const e = this.peek()
      if (e === 'b') { this.i++; return 8 } // backspace inside a class, as in Python
      if (e !== undefined && e in CLASS_ITEMS) {
        this.i++
        const items = CLASS_ITEMS[e]
        if (items === null) this.fail(`\\${e} inside [...] is not supported (write it outside the set)`, at)
        return items
      }
      return this.escape(true)
    }
    return this.cps[this.i++]!
  }

  /** After a backslash: the code point of a character escape. Python rejects unknown ASCII-letter escapes; so do we. */
  private escape (inClass: boolean): number {
    const at = this.i - 1
    const e = this.peek()
    if (e === undefined) this.fail('bad escape (end of pattern)', at)
    this.i++
    if (e in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[e]!
    if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const digits = this.cps.slice(this.i, this.i + len).map((c) => String.fromCodePoint(c)).join('')
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) this.fail(`bad escape \\${e}`, at)
      this.i += len
      const cp = parseInt(digits, 16)
      if (cp > 0x10ffff) this.fail(`bad escape \\${e}`, at)
      return cp
    }
    if (e === '0') { // octal: \0, \0d, \0dd
      let v = 0; let n = 0
      while (n < 2 && /[0-7]/.test(this.peek() ?? '')) { v = v * 8 + Number(this.peek()); this.i++; n++ }
      return v
    }
    if (/[1-9]/.test(e)) this.fail(inClass ? 'octal escapes in classes are not supported' : 'backreferences are not supported (no linear-time match)', at)
    if (/[A-Za-z]/.test(e)) this.fail(`bad escape \\${e}`, at)
    return e.codePointAt(0)!
  }
}

/** Python's `$` (no MULTILINE): the end, or just before a final newline, which it consumes here. */
const DOLLAR = '(?:\\n?\\z)'

/** Translates one pattern. Throws PatternSyntaxError naming the column for anything outside the dialect. */
export function translatePattern (source: string): TranslatedPattern {
  if (typeof source !== 'string') throw new TypeError(`"source" expected a string, got ${typeof source}`)
  if (source.length > MAX_PATTERN_LENGTH) throw new PatternSyntaxError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH)
  return new Translator(source).translate()
}
