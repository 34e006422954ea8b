// fast-check arbitraries for lossless-JSON payloads: every value form that has broken a codec here
// (issue 13) or could. Used by test/lossless.test.ts (bounded, in `npm test`) and by `npm run fuzz`
// (PCP_FUZZ=1: many more runs). The seed comes from PCP_FUZZ_SEED or is random, and is printed.
import fc from 'fast-check'
import { Float, MAX_DEPTH, type JsonValue, type JsonObject } from '../../runtime/index.js'

export const FUZZ = process.env.PCP_FUZZ === '1'
export const SEED = process.env.PCP_FUZZ_SEED ? Number(process.env.PCP_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31)

/** fc.assert parameters: the seed (printed by fast-check with the failing case), and `runs`, or `fuzzRuns` under npm run fuzz. */
export function params (runs: number, fuzzRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: FUZZ ? fuzzRuns : runs, endOnFailure: !FUZZ, verbose: 1, includeErrorInReport: true }
}

const doubles = fc.double({ noNaN: true, noDefaultInfinity: true })
export const numberArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  // ints past 2^53 and 2^64, either sign: exact, as Python ints
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom<JsonValue>(new Float(-0), new Float(0), new Float(25), new Float(1e16), new Float(1e21), new Float(-1e22),
    5e-324, -5e-324, 2.2250738585072014e-308, 1e-7, 0.1, 1.7976931348623157e308, new Float(2 ** 53), new Float(2 ** 64)),
  // any double: integral ones as Float (the reference's `x.0`), the rest as plain numbers
  doubles.map((d) => Number.isInteger(d) ? new Float(d) : d)
)

// Astral (emoji, U+10FFFF), combining marks, escapes, NFC/NFD pairs: strings are signed byte for byte.
const specialStrings = fc.constantFrom('', 'e\u0301', '\u00e9', '😀', '\u{10FFFF}', 'a\u0000b', '"\\/\b\f\n\r\t', '\u2028\u2029', '｡', '\u007f', 'Å')
export const stringArb = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), specialStrings)
const keyArb = fc.oneof(stringArb, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'))

const leafArb: fc.Arbitrary<JsonValue> = fc.oneof(numberArb, stringArb, fc.boolean(), fc.constant(null))

/** An object built with defineProperty, so a "__proto__" key is an own key as JSON.parse makes it. */
function object (entries: Array<[string, JsonValue]>): JsonObject {
  const o: JsonObject = {}
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  return o
}

const { value: treeArb } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 6 }).map(object))
}))

/** A chain of `depth` containers (arrays and objects mixed), the innermost holding `leaf`. */
export function nested (depth: number, leaf: JsonValue, kinds: boolean[] = []): JsonValue {
  let v = leaf
  for (let i = 0; i < depth; i++) v = kinds[i % Math.max(1, kinds.length)] ? object([['__proto__', v]]) : [v]
  return v
}

/** Field values up to the deepest a payload field may nest (event and payload take two of MAX_DEPTH). */
const deepArb: fc.Arbitrary<JsonValue> = fc.tuple(fc.integer({ min: 1, max: MAX_DEPTH - 2 }), leafArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }))
  .map(([d, leaf, kinds]) => nested(d, leaf, kinds))
const wideArb: fc.Arbitrary<JsonValue> = fc.array(fc.tuple(keyArb, leafArb), { minLength: 50, maxLength: 300 }).map(object)

/** A stamp payload (without event_type, which stamp() adds): mixed trees, some deep, some wide. */
export const payloadArb: fc.Arbitrary<JsonObject> = fc.array(
  fc.tuple(keyArb.filter((k) => k !== 'event_type'), fc.oneof({ weight: 6, arbitrary: treeArb }, { weight: 1, arbitrary: deepArb }, { weight: 1, arbitrary: wideArb }, { weight: 1, arbitrary: fc.constantFrom<JsonValue>([], {}, [[]], [{}]) })),
  { maxLength: 5 }
).map(object)

export { fc }
