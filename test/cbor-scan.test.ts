// The pre-decode scan (sync/cbor-scan.ts) the hub runs on every message before cbor-x sees it: it must
// accept whatever runtime/cbor.ts writes, count what decoding would build, refuse past each limit
// without recursion, and call truncated or reserved encodings malformed.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeCbor } from '../runtime/cbor.js'
import { encodeRecord } from '../runtime/record.js'
import { Identity, stampEvent, type JsonValue } from '../runtime/index.js'
import { scanCbor } from '../sync/cbor-scan.js'
import { MAX_CBOR_DEPTH, MESSAGE_SCAN, recordCosts } from '../sync/wire.js'
import { seededRandom, randomValue } from './helpers.js'

const S = suite('cbor pre-decode scan')
const LOOSE = { maxValues: 1e9, maxDepth: 1e6 }

/** [[[...[0]...]]], n levels. */
function nest (n: number): unknown { let v: unknown = 0; for (let i = 0; i < n; i++) v = [v]; return v }

S('accepts what the codec writes: random values, records, and the deepest payloads (JSON text past CBOR_NEST)', () => {
  const rnd = seededRandom(14)
  for (let i = 0; i < 500; i++) {
    const v = scanCbor(encodeCbor(randomValue(rnd, 0)), LOOSE)
    assert.ok(v.ok, JSON.stringify(v))
  }
  const id = Identity.generate()
  const ev = stampEvent(id, { event_type: 'deep', d: nest(990) as JsonValue }, { previousHash: null }).event
  const rec = scanCbor(encodeRecord(ev, 0), MESSAGE_SCAN)
  assert.ok(rec.ok, JSON.stringify(rec))
  assert.ok(rec.ok && rec.depth <= MAX_CBOR_DEPTH, JSON.stringify(rec))
  assert.ok(scanCbor(encodeCbor({ a: nest(500) }), MESSAGE_SCAN).ok)
})

S('"__proto__" keys along a deep path stay within the wire depth (they cost the codec two CBOR levels each)', () => {
  // Found by the lossless property test (seed 712937089): a payload whose every level has a "__proto__"
  // key was stamped, then refused by sync as "nested deeper than 66 CBOR levels", for ever.
  const keyedNest = (n: number): JsonValue => {
    let v: JsonValue = 1
    for (let i = 0; i < n; i++) { const o: Record<string, JsonValue> = {}; Object.defineProperty(o, '__proto__', { value: v, enumerable: true, writable: true, configurable: true }); v = o }
    return v
  }
  const id = Identity.generate()
  for (const n of [10, 33, 63, 64, 65, 200, 990]) {
    const ev = stampEvent(id, { event_type: 'deep', d: keyedNest(n) }, { previousHash: null }).event
    const rec = scanCbor(encodeRecord(ev, 0), MESSAGE_SCAN)
    assert.ok(rec.ok && rec.depth <= MAX_CBOR_DEPTH, `${n} keyed levels: ${JSON.stringify(rec)}`)
    assert.is(recordCosts([encodeRecord(ev, 0)]).overLimit, undefined, `${n} keyed levels`)
  }
})

S('counts values and depth exactly', () => {
  const v = scanCbor(encodeCbor({ a: [1, 2, [3]], b: 'x' }), LOOSE)
  // map, "a", array, 1, 2, array, 3, "b", "x"
  assert.equal(v, { ok: true, values: 9, depth: 3, byteStrings: 0 })
  assert.is(scanCbor(Uint8Array.from([0x9f, 0x01, 0x5f, 0x41, 0x00, 0xff, 0xff]), LOOSE).ok, true) // [_ 1, (_ h'00')]
  assert.equal(scanCbor(Uint8Array.from([0x9f, 0x01, 0x5f, 0x41, 0x00, 0xff, 0xff]), LOOSE), { ok: true, values: 4, depth: 2, byteStrings: 2 })
})

S('refuses at each limit, at the first item past it', () => {
  const arr = encodeCbor(new Array(1000).fill(0))
  assert.ok(scanCbor(arr, { maxValues: 1001, maxDepth: 1 }).ok)
  const many = scanCbor(arr, { maxValues: 1000, maxDepth: 1 })
  assert.is(many.ok === false && many.reason, 'CBOR_TOO_MANY_VALUES')
  const deep = new Uint8Array(1_000_000).fill(0x81); deep[deep.length - 1] = 0
  const t0 = performance.now()
  const d = scanCbor(deep, { maxValues: 1e9, maxDepth: MAX_CBOR_DEPTH })
  assert.is(d.ok === false && d.reason, 'CBOR_TOO_DEEP')
  assert.is(d.ok === false && d.offset, MAX_CBOR_DEPTH + 1)
  // No recursion, so no stack overflow, however deep: 1M levels scanned in full.
  assert.ok(scanCbor(deep, LOOSE).ok)
  assert.ok(performance.now() - t0 < 1000)
  const bstrs = encodeCbor(Array.from({ length: 10 }, () => new Uint8Array(1)))
  const b = scanCbor(bstrs, { ...LOOSE, maxByteStrings: 9 })
  assert.is(b.ok === false && b.reason, 'CBOR_TOO_MANY_BYTE_STRINGS')
})

S('calls truncated, overlong and reserved encodings malformed', () => {
  const bad: Array<[string, number[]]> = [
    ['empty', []], ['truncated array', [0x83, 0x01]], ['string past the end', [0x45, 0x01]], ['truncated length', [0x19, 0x01]],
    ['trailing bytes', [0x01, 0x02]], ['lone break', [0xff]], ['reserved info', [0x1c]], ['indefinite integer', [0x1f]],
    ['unclosed indefinite array', [0x9f, 0x01]], ['2^64-long string', [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['2^32-item map', [0xba, 0xff, 0xff, 0xff, 0xff, 0x01]]
  ]
  for (const [what, bytes] of bad) {
    const v = scanCbor(Uint8Array.from(bytes), LOOSE)
    assert.is(v.ok === false && v.reason, 'CBOR_MALFORMED', what)
  }
})

S('recordCosts: values per record, the message total, and the first record past the per-event limits', () => {
  const small = encodeCbor([1, 2, 3])
  assert.equal(recordCosts([small, small]), { values: [4, 4] })
  const wide = encodeCbor(new Array(100_000).fill(0))
  assert.is(recordCosts([wide, wide, wide]).refused, 'CBOR_TOO_MANY_VALUES')
  const deep = new Uint8Array(100).fill(0x81); deep[99] = 0
  assert.equal(recordCosts([small, deep, small]).overLimit?.index, 1)
  assert.match(recordCosts([small, deep]).overLimit!.message, /nested deeper than 66/)
  assert.match(recordCosts([Uint8Array.from([0x83])]).overLimit!.message, /not CBOR/)
})

S.run()
