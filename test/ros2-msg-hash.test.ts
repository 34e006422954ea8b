import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { canonicalize, Float, parseJson, stringifyJson } from '../runtime/index.js'
import { hashableMessage, isRawMessage, messageCanonicalText, messageHash, valueHash, MSG_HASH_RECIPE } from '../ros2/msg-hash.js'
import { seededRandom } from './helpers.js'

const H = suite('ros2 msg-hash')
const sha = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex')

H('recipe: SHA-256 of the canonical JSON of the fields (std_msgs/String "hello")', () => {
  assert.is(MSG_HASH_RECIPE, 'pcp-ros2-msg-v1')
  assert.is(messageCanonicalText({ data: 'hello' }), '{"data":"hello"}')
  assert.is(messageHash({ data: 'hello' }), sha('{"data":"hello"}'))
  // The reference hashes Python's slot names ({"_data": "hello"}, bridges.md §1.1): deliberately not ours.
  assert.is.not(messageHash({ data: 'hello' }), '8b7f2750dacd96e30f7a6b9f30891af5900871d993ba24d6579dbd657eb731fa')
})

H('nested messages, key order, numbers as canonicalize writes them', () => {
  const twist = { linear: { x: 0.5, y: 0, z: -0 }, angular: { z: 1e-7, y: 1e16, x: 2.0 } }
  assert.is(messageCanonicalText(twist), '{"angular":{"x":2,"y":10000000000000000,"z":1e-07},"linear":{"x":0.5,"y":0,"z":0}}')
})

H('typed arrays hash like plain arrays (enableTypedArray on or off)', () => {
  const typed = { ranges: new Float32Array([0.5, 1.25]), data: new Uint8Array([1, 2, 255]), big: new BigInt64Array([2n ** 62n]) }
  const plain = { ranges: [0.5, 1.25], data: [1, 2, 255], big: [2n ** 62n] }
  assert.is(messageHash(typed), messageHash(plain))
  assert.is(messageHash({ data: Buffer.from([1, 2, 255]) }), messageHash({ data: [1, 2, 255] }))
  // a float32 is hashed as the double it widens to
  assert.is(messageCanonicalText({ v: new Float32Array([0.1]) }), '{"v":[0.10000000149011612]}')
})

H('int64 stays exact; bigint and number of the same value agree', () => {
  const stamp = 1_795_311_447_256_154_500n
  assert.is(messageCanonicalText({ t: stamp }), '{"t":1795311447256154500}')
  assert.is(messageHash({ n: 5n }), messageHash({ n: 5 }))
})

H('non-finite floats map to {"$float": …} (LaserScan ranges carry inf)', () => {
  assert.is(messageCanonicalText({ r: [Infinity, -Infinity, NaN, 1] }),
    '{"r":[{"$float":"Infinity"},{"$float":"-Infinity"},{"$float":"NaN"},1]}')
  assert.is(messageHash({ r: new Float64Array([Infinity]) }), messageHash({ r: [Infinity] }))
})

H('undefined fields are left out; rclnodejs wrappers go through toPlainObject()', () => {
  assert.is(messageHash({ a: 1, b: undefined }), messageHash({ a: 1 }))
  const wrapper = { _refObject: 'native', toPlainObject: () => ({ data: 'hello' }) }
  assert.is(messageHash(wrapper), messageHash({ data: 'hello' }))
  const nested = { header: { toPlainObject: () => ({ frame_id: 'map' }) } }
  assert.is(messageHash(nested), messageHash({ header: { frame_id: 'map' } }))
})

H('a serialized message (raw bytes) is hashed as its bytes', () => {
  const raw = Buffer.from([0, 1, 0, 0, 5, 0, 0, 0, 104, 105, 0])
  assert.ok(isRawMessage(raw))
  assert.is(messageHash(raw), sha(raw))
})

H('what cannot be a message is refused with a TypeError naming the field', () => {
  assert.throws(() => messageHash({ when: new Date(0) }), (e: Error) => e instanceof TypeError && e.message.includes('$.when'))
  assert.throws(() => messageHash({ cb: () => 1 }), (e: Error) => e instanceof TypeError && e.message.includes('$.cb'))
  assert.throws(() => messageHash({ m: new Map() }), TypeError)
  assert.throws(() => messageHash({ a: [1, undefined] }), (e: Error) => e.message.includes('$.a[1]'))
  assert.throws(() => hashableMessage('hello'), (e: Error) => e instanceof TypeError && e.message.includes('"message"'))
  assert.throws(() => hashableMessage([1]), TypeError)
})

H('valueHash accepts any value, and null for unset', () => {
  assert.is(valueHash(0.5), sha('0.5'))
  assert.is(valueHash(undefined), sha('null'))
  assert.is(valueHash(new Uint8Array([1, 2])), sha('[1,2]'))
})

function randomMessage (rnd: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const n = 1 + Math.floor(rnd() * 5)
  for (let i = 0; i < n; i++) {
    const k = `f${i}_${Math.floor(rnd() * 100)}`
    const r = rnd()
    if (r < 0.15 && depth < 3) out[k] = randomMessage(rnd, depth + 1)
    else if (r < 0.3) out[k] = Float64Array.from({ length: Math.floor(rnd() * 5) }, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 15))
    else if (r < 0.4) out[k] = Uint8Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 256))
    else if (r < 0.5) out[k] = BigInt(Math.floor(rnd() * 1e9)) * 10n ** 10n
    else if (r < 0.6) out[k] = Math.floor((rnd() - 0.5) * 1e6)
    else if (r < 0.75) out[k] = (rnd() - 0.5) * 1e3
    else if (r < 0.85) out[k] = ['a', 'é', '😀', '"', '\n', ''].slice(0, Math.floor(rnd() * 6)).join('')
    else out[k] = rnd() < 0.5
  }
  return out
}

H('property: the fast writer gives exactly canonicalize(hashableMessage(m)) (random messages)', () => {
  const rnd = seededRandom(11)
  const awkward = [1e-4, 9.999999999999999e-5, 1e16, 9999999999999998, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 123456.789, 1e-7, 2 ** 53, 0.30000000000000004]
  for (let i = 0; i < 500; i++) {
    const msg = randomMessage(rnd, 0)
    msg.awk = awkward.map((x) => x * (rnd() < 0.5 ? -1 : 1))
    msg.f32 = new Float32Array([rnd() * 1e-3, rnd() * 1e6, Infinity, NaN])
    msg.ints = new Int16Array([-32768, 0, 32767])
    msg['a\uD83D\uDE00' + i] = { 'ｚ': 1, '\uD83D\uDE00': 2, z: [null, true, 'x'] }
    assert.is(messageCanonicalText(msg), canonicalize(hashableMessage(msg)))
  }
})

H('property: a message recorded as JSON and read back hashes the same as the live one', () => {
  const rnd = seededRandom(7)
  for (let i = 0; i < 300; i++) {
    const msg = randomMessage(rnd, 0)
    const recorded = stringifyJson(hashableMessage(msg))
    const back = parseJson(recorded)
    assert.is(messageHash(back), messageHash(msg), recorded)
    // and the canonical text is a fixed point: re-encoding gives the same bytes
    assert.is(messageCanonicalText(back), messageCanonicalText(msg))
  }
  // an integral float read back from JSON (`1.0` → Float) hashes as the number the robot held
  assert.is(messageHash({ x: new Float(1) }), messageHash({ x: 1 }))
})

H.run()
