import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { canonicalize, parseJson, stringifyJson, Float, pyFloatRepr, PcpError } from '../runtime/index.js'
import { randomValue, seededRandom } from './helpers.js'

const Canonical = suite('canonical')

// protocol.md §6.1: what the reference writes, demonstrated by running it.
Canonical('floats are written as Python repr', () => {
  const cases: Array<[number, string]> = [
    [25, '25.0'], [100, '100.0'], [-0, '-0.0'], [1e-7, '1e-07'], [1e-6, '1e-06'], [1e-5, '1e-05'], [0.0001, '0.0001'],
    [1e15, '1000000000000000.0'], [1e16, '1e+16'], [1e21, '1e+21'], [1.5e300, '1.5e+300'], [0.1, '0.1'], [5e-324, '5e-324'],
    [123456789.125, '123456789.125'], [-2.5e-5, '-2.5e-05'], [1.7976931348623157e308, '1.7976931348623157e+308']
  ]
  for (const [x, text] of cases) {
    assert.is(pyFloatRepr(x), text, String(x))
    assert.is(canonicalize(new Float(x)), text)
  }
})

Canonical('integers are exact at any size; integral JS numbers are ints', () => {
  assert.is(canonicalize(parseJson('9007199254740993')), '9007199254740993')
  assert.is(canonicalize(parseJson('12345678901234567890')), '12345678901234567890')
  assert.is(canonicalize(parseJson('-0')), '0')
  assert.is(canonicalize(25), '25')
  assert.is(canonicalize(1e21), '1000000000000000000000')
  assert.is(canonicalize(1800000000000000000n), '1800000000000000000')
})

Canonical('the int/float nature of parsed numbers survives a round trip', () => {
  const text = '{"a":25.0,"b":25,"c":1e-07,"d":1E+16,"e":-0.0,"f":[1.0,2]}'
  const value = parseJson(text)
  assert.is(canonicalize(value), '{"a":25.0,"b":25,"c":1e-07,"d":1e+16,"e":-0.0,"f":[1.0,2]}')
  assert.is(canonicalize(parseJson(stringifyJson(value, 2))), canonicalize(value))
})

Canonical('keys sort by code point, not UTF-16 unit', () => {
  assert.is(canonicalize({ '😀': 1, '｡': 2 }), '{"｡":2,"😀":1}')
  assert.is(canonicalize({ b: 1, a: 2, B: 3 }), '{"B":3,"a":2,"b":1}')
})

Canonical('strings escape as the reference', () => {
  assert.is(canonicalize('é\u2028\x7f\x1f"\\/\n'), '"é\u2028\x7f\\u001f\\"\\\\/\\n"')
})

Canonical('unsupported values are refused with a code and a path', () => {
  for (const bad of [{ x: NaN }, { x: Infinity }, { x: '\uD800' }, { x: new Uint8Array(1) }, { x: () => 1 }]) {
    try { canonicalize(bad); assert.unreachable() } catch (err) {
      assert.instance(err, PcpError)
      assert.is((err as PcpError).code, 'CANONICAL_UNSUPPORTED')
    }
  }
  try { parseJson('{"x": 1e400}'); assert.unreachable() } catch (err) { assert.is((err as PcpError).code, 'JSON_INVALID') }
  try { parseJson('{"x": ', 'file.json'); assert.unreachable() } catch (err) {
    assert.is((err as PcpError).code, 'JSON_INVALID'); assert.match((err as Error).message, 'file.json')
  }
})

// Property test: random documents keep byte-identical canonical text through our JSON writer and parser
// (cborg-style re-encode equality), and canonical text parses back to the same canonical text.
Canonical('property: 3000 random documents round-trip byte-identically', () => {
  const rnd = seededRandom(42)
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(rnd, 0)
    const c = canonicalize(v)
    assert.is(canonicalize(parseJson(c)), c)
    assert.is(canonicalize(parseJson(stringifyJson(v as object, 2))), c)
  }
})

// The printable-ASCII fast path of string writing (runtime/canonical.ts PLAIN) against JSON.stringify, for
// every UTF-16 code unit alone, as a key, and between plain text; lone surrogates stay refused.
Canonical('strings: every code unit is written as JSON.stringify writes it, as a value and as a key', () => {
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c)
    if (c >= 0xd800 && c <= 0xdfff) {
      assert.throws(() => canonicalize(ch), (e: unknown) => (e as PcpError).code === 'CANONICAL_UNSUPPORTED')
      continue
    }
    for (const s of [ch, `ab${ch}cd`, `${ch}${ch}`]) {
      assert.is(canonicalize(s), JSON.stringify(s), `U+${c.toString(16)}`)
      assert.is(canonicalize({ [s]: s }), `{${JSON.stringify(s)}:${JSON.stringify(s)}}`, `key U+${c.toString(16)}`)
    }
  }
  assert.is(canonicalize('\u{1F600} plain "quoted" back\\slash'), JSON.stringify('\u{1F600} plain "quoted" back\\slash'))
})

Canonical.run()
