// The dangerous-pattern matcher: policies written for Python `re` (IGNORECASE), translated to RE2 at load
// (policy/pattern.ts) and run by re2js in linear time (policy/match.ts), with a deterministic work budget.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compilePattern, search, firstMatch, patternList, ScanBudgetExceeded } from '../policy/match.js'
import { PatternSyntaxError, translatePattern } from '../policy/pattern.js'

const Nfa = suite('policy patterns (Python dialect on RE2)')

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

const matches = (p: string, t: string): boolean => search(compilePattern(p), t, { remaining: 1e9 })
const refusal = (p: string): string => { try { compilePattern(p); return 'accepted' } catch (err) { assert.instance(err, PatternSyntaxError, p); return (err as Error).message } }

// Each place where Python `re` and RE2 read the same pattern differently: translated, or refused at load.
// The expected verdicts are CPython 3's re.search(p, t, re.IGNORECASE); under RE2's own reading of the
// pattern text each of these would come out the other way (or fail to compile).
Nfa('`$` before a final newline: translated where the verdict is the same, refused where more must match', () => {
  assert.ok(matches('a$', 'a\n')) // RE2's `$` alone: false
  assert.not.ok(matches('a$', 'a\nb'))
  assert.ok(matches('a$|b', 'xb'), 'a `$` ends only its own branch')
  assert.ok(matches('a$b*', 'a\n'), 'what may match nothing can follow')
  // Refused even where Python could never use the `$` branch ((?:a$)?c): the rule reads the text, not the automaton.
  for (const p of ['a$\n', '(a$)b', 'x$y', '(?:a$)?c']) assert.match(refusal(p), /"\$" followed by more to match.*at column \d+/, p)
  assert.match(refusal('(a$)b'), /at column 3\)/)
})

Nfa('`\\Z` is the very end (RE2 has no \\Z), `{,n}` is {0,n} (RE2 reads it as text)', () => {
  assert.ok(matches('b\\Z', 'ab'))
  assert.not.ok(matches('b\\Z', 'b\n'))
  assert.match(translatePattern('b\\Z').re2, /\\z$/)
  assert.ok(matches('x{,2}y', 'y'))
  assert.ok(matches('^x{,2}y', 'xxy'))
  assert.not.ok(matches('^x{,2}y', 'xxxy'))
  assert.not.ok(matches('x{,2}y', 'x{,2}y'.replace('y', '')), 'not the literal text')
  assert.match(translatePattern('x{,2}').re2, /\{0,2\}/)
})

Nfa('\\d \\w \\s are Unicode as in Python str patterns (RE2: ASCII); \\W \\S inside [...] are refused', () => {
  assert.ok(matches('\\d', '\u0663')) // ARABIC-INDIC DIGIT THREE
  assert.ok(matches('[\\d]', '\u0663'))
  assert.not.ok(matches('\\D', '\u0663'))
  assert.ok(matches('^\\w+$', '\u00e9t\u00e9_1'))
  assert.not.ok(matches('\\W', '\u00e9'))
  assert.ok(matches('\\s', '\u3000'))
  assert.ok(matches('\\s', '\u000b')) // \v: Python's \s has it, RE2's does not
  assert.ok(matches('\\S', 'a'))
  for (const p of ['[\\W]', '[a\\S]']) assert.match(refusal(p), /inside \[\.\.\.\] is not supported.*at column \d+/, p)
})

Nfa('groups and flags: (?P<n>...) and (?<n>...) are plain groups, (?i) is the default, other flags are refused', () => {
  assert.ok(matches('(?P<cmd>rm)\\s+-rf', 'RM -rf'))
  assert.ok(matches('(?<cmd>rm) -rf', 'rm -rf'))
  assert.ok(matches('(?i:drop) table', 'DROP TABLE'))
  for (const p of ['(?s)a', '(?m)^a', '(?x)a b', '(?a)\\w']) assert.match(refusal(p), /inline flag.*at column 1\)/, p)
  assert.match(refusal('(?P=cmd)'), /backreferences/)
})

Nfa('RE2-only syntax stays literal: [[:alpha:]] is Python\'s set of "[:alph" then "]"; \\p{L} is a bad escape', () => {
  assert.ok(matches('[[:alpha:]]', 'a]'))
  assert.not.ok(matches('[[:alpha:]]', 'b'))
  assert.match(refusal('\\p{L}'), /bad escape \\p/)
  assert.match(refusal('\\z'), /bad escape \\z/)
})

Nfa('IGNORECASE: a letter matches its one-to-one upper and lower forms (ı matches I; RE2 alone: no)', () => {
  assert.ok(matches('k\u0131', 'KI'))
  assert.ok(matches('[\u0131]', 'I'))
  assert.ok(matches('\u00e9+', '\u00c9\u00e9'))
})

Nfa('kept difference, pinned: \\b is RE2\'s ASCII word boundary (Python counts \u00e9 as a word character)', () => {
  assert.ok(matches('\\bfoo\\b', 'a foo.'))
  // CPython: re.search(r'\bfoo', '\u00e9foo') is None. RE2: \u00e9 is not an ASCII word character.
  assert.ok(matches('\\bfoo', '\u00e9foo'))
})

Nfa('first match in policy order, also when only part of the list fits the budget', () => {
  const texts = ['abc' + 'x'.repeat(3000)]
  const cheapFirst = patternList(['abc', '(.*){60}x'].map(compilePattern))
  const dearFirst = patternList(['(.*){60}x', 'abc'].map(compilePattern))
  assert.is(firstMatch(cheapFirst, texts, [], { remaining: 1e9 }), 0)
  assert.is(firstMatch(dearFirst, texts, [], { remaining: 1e9 }), 0)
  // (.*){60}x weighs 31 steps a character: the set does not fit 10,000 steps, `abc` alone does.
  assert.is(firstMatch(cheapFirst, texts, [], { remaining: 10_000 }), 0)
  assert.throws(() => firstMatch(dearFirst, texts, [], { remaining: 10_000 }), (e: unknown) => e instanceof ScanBudgetExceeded)
  // Anchored patterns also search the strings that sit unchanged inside the JSON text; others need not.
  const anchored = patternList(['^rm'].map(compilePattern))
  assert.is(firstMatch(anchored, ['{"cmd":"rm -rf"}'], ['rm -rf'], { remaining: 1e9 }), 0)
  assert.is(firstMatch(anchored, ['{"cmd":"rm -rf"}'], [], { remaining: 1e9 }), -1)
})

Nfa.run()
