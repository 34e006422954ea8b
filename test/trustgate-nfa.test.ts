// The dangerous-pattern matcher: Python `re` semantics (IGNORECASE) in linear time, with a work budget.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compilePattern, search, ScanBudgetExceeded } from '../policy/nfa.js'
import { PatternSyntaxError } from '../policy/regex.js'

const Nfa = suite('trustgate nfa')

// Frozen from CPython 3: [pattern, text, bool(re.search(pattern, text, re.I))].
const GOLDEN: Array<[string, string, boolean]> = [["rm\\s+-rf", "RM  -Rf /", true], ["rm\\s+-rf", "rm-rf", false], ["DROP\\s+TABLE", "drop\ttable users", true], ["curl.*\\|.*bash", "curl x | sh", false], ["curl.*\\|.*bash", "CURL http://x|BASH", true], ["exec\\(", "exec (x)", false], ["exec\\(", "EXEC(x)", true], ["os\\.system", "osXsystem", false], ["^a", "ba", false], ["^a", "ab", true], ["a$", "ba\n", true], ["a$", "a\nb", false], ["\\bfoo\\b", "a foo.", true], ["\\bfoo\\b", "food", false], ["x{2,3}y", "xy", false], ["x{2,3}y", "xxxxy", true], ["(ab|cd)+e", "abcde", true], ["[^a-c]z", "cz", false], ["[^a-c]z", "Cz", false], ["[a-]x", "-x", true], ["a{,2}b", "b", true], ["colou?r", "COLOR", true], ["\\d{3}-\\d{4}", "call 555-1234", true], ["\\d", "\u0663", true], ["\\w+", "\u00e9", true], ["\\s", "\u00a0", true], ["\u00e9+", "\u00c9", true], ["[\u00e0-\u00ff]", "\u00c0", true], ["(?i)abc", "ABC", true], ["a.c", "a\nc", false], ["a.c", "a\tc", true], ["\\x41b", "ab", true], ["[]a]", "]", true], ["(a|)*b", "aab", true], ["\\Bb", "ab", true], ["\\Bb", "b", false], ["\\Ab", "ab", false], ["b\\Z", "b\n", false], ["b$", "b\n", true], ["__import__", "__IMPORT__(\"os\")", true], ["base64.*decode.*exec", "Base64 DECODE then exec", true], ["GRANT\\s+ALL", "grant\nall", true], ["a{2}", "a", false], ["(?:ab){2,}", "ababab", true], ["(?P<x>ab)c", "abc", true], ["[\\d.]+", "1.5", true], ["\\.", "a", false], ["a|b|c", "zzc", true], ["\\u00e9", "\u00c9", true], ["\\t", "\t", true], ["[\\s]+x", " \t x", true], ["k\\u0131", "KI", true], ["stra\u00dfe", "STRASSE", false], ["(?#c)ab", "ab", true], ["x*", "", true], ["^$", "", true], ["$", "abc", true], ["\\\\", "a\\b", true], ["\\\\n", "\\n", true], ["\\n", "\\n", false]]

Nfa('agrees with CPython re.search(IGNORECASE) on the frozen table', () => {
  for (const [p, t, want] of GOLDEN) {
    assert.is(search(compilePattern(p), t, { remaining: 1e9 }), want, `${JSON.stringify(p)} on ${JSON.stringify(t)}`)
  }
})

Nfa('refuses what needs backtracking, naming the column', () => {
  const cases: Array<[string, RegExp]> = [
    ['(a)\\1', /backreferences/], ['(?P<n>a)(?P=n)', /backreferences/], ['a(?=b)', /lookaround/], ['(?<!a)b', /lookaround/],
    ['(?>a)', /atomic/], ['a++', /possessive/], ['*a', /nothing to repeat/], ['a**', /multiple repeat/], ['(ab', /missing \)/],
    ['ab)', /unbalanced/], ['[ab', /unterminated/], ['\\q', /bad escape/], ['a{3,2}', /min repeat/], ['a{1001}', /repeat bound/],
    ['(?s)a', /inline flag/], ['[z-a]', /bad character range/]
  ]
  for (const [p, why] of cases) {
    try { compilePattern(p); assert.unreachable(`${p} should be refused`) } catch (err) {
      assert.instance(err, PatternSyntaxError, p)
      assert.match((err as Error).message, why, p)
      assert.match((err as Error).message, /at column \d+/)
    }
  }
  assert.throws(() => compilePattern('(x{1000}){1000}'), (e: unknown) => e instanceof RangeError && /automaton states/.test((e as Error).message))
})

Nfa('classic catastrophic patterns run in linear time on a large hostile input', () => {
  const hostile = 'a'.repeat(100_000) + '!'
  for (const p of ['(a+)+$', '(a|a)*b', '(a|aa)+$', '(\\w+\\s?)+$', '(.*a){12}']) {
    const t0 = performance.now()
    const hit = search(compilePattern(p), hostile, { remaining: Number.MAX_SAFE_INTEGER })
    const ms = performance.now() - t0
    // A backtracking engine needs ~2^100000 steps for the first one; this needs ~10 per character.
    assert.ok(ms < 2000, `${p} took ${ms.toFixed(0)} ms`)
    assert.is(hit, new RegExp(p).test('a'.repeat(20) + '!'), p) // same verdict as JS on a small instance
  }
})

Nfa('the step budget stops a search and is deterministic', () => {
  const p = compilePattern('(a+)+$')
  const text = 'a'.repeat(10_000) + '!'
  const run = (): number => { const b = { remaining: 1e9 }; search(p, text, b); return 1e9 - b.remaining }
  const spent = run()
  assert.is(run(), spent, 'same input, same cost')
  assert.ok(spent > 10_000 && spent < 20 * 10_000, `linear cost, got ${spent}`)
  assert.throws(() => search(p, text, { remaining: spent - 1 }), (e: unknown) => e instanceof ScanBudgetExceeded)
  assert.not.throws(() => search(p, text, { remaining: spent }))
})

Nfa.run()
