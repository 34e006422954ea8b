import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, canonicalize, eventHash, Float, parseJson, MAX_DEPTH, type AissEvent, type PcpError } from '../runtime/index.js'
import { encodeRecord, decodeRecord } from '../runtime/record.js'
import { readFixture, randomValue, seededRandom } from './helpers.js'

const Record = suite('record')

Record('a typical event takes well under the reference\'s ~480 bytes of JSON', () => {
  const id = Identity.generate()
  const { event } = stampEvent(id, { event_type: 'sensor_reading', sensor: 'temp', value: 21.5, unit: 'C' }, { previousHash: id.genesisHash() })
  const bytes = encodeRecord(event, 0)
  const json = JSON.stringify(event, null, 2).length
  assert.ok(bytes.length < json / 2, `${bytes.length} bytes vs ${json} of JSON`)
  assert.equal(decodeRecord(bytes, [id.agentId]), event)
})

Record('the reference chain survives byte-exactly, Float and big ints included', () => {
  const ref = parseJson(readFixture('fixtures/reference-chain.json')) as any
  for (const ev of ref.events as AissEvent[]) {
    const back = decodeRecord(encodeRecord(ev, 0), [ev.agent_id])
    assert.is(canonicalize(back), canonicalize(ev))
    assert.is(eventHash(back), eventHash(ev))
  }
})

Record('odd spellings fall back to text: non-UUID nonce, null and "genesis" links, extra fields, other versions', () => {
  const id = Identity.generate()
  const cases: AissEvent[] = [
    stampEvent(id, { a: new Float(3), big: 1800000000000000000n }, { previousHash: null, nonce: 'unique-nonce-111' }).event,
    stampEvent(id, {}, { previousHash: 'genesis', nonce: 'ABCDEF00-0000-4000-8000-000000000000' }).event,
    { ...stampEvent(id, { x: [1, 2.5, 'é'] }, { previousHash: 'A'.repeat(64), extra: { trusted_timestamp: { status: 'pending' } } }).event, version: 'AISS-2.0' }
  ]
  cases[1]!.signature = cases[1]!.signature.replace(/=+$/, '') // a hand-edited signature is kept as text
  for (const ev of cases) {
    const back = decodeRecord(encodeRecord(ev, 0), [id.agentId])
    assert.equal(back, ev)
    assert.is(canonicalize(back), canonicalize(ev))
  }
})

Record('property: 2000 random payloads keep their canonical bytes through a record', () => {
  const id = Identity.generate(); const rnd = seededRandom(7)
  for (let i = 0; i < 2000; i++) {
    const { event } = stampEvent(id, { v: randomValue(rnd, 0) as any }, { previousHash: null })
    assert.is(canonicalize(decodeRecord(encodeRecord(event, 0), [id.agentId])), canonicalize(event))
  }
})

/** A payload nesting `n` arrays/objects deep (alternating), the innermost holding `leaf`. */
export function nested (n: number, leaf: unknown = new Float(-0)): unknown {
  let v = leaf
  for (let i = 0; i < n; i++) v = i % 2 ? { [`k${i}`]: v } : [v]
  return v
}

Record('-0.0 stays -0.0 (issue 13 #1: it came back as 0.0), in the payload and in extra fields', () => {
  const id = Identity.generate()
  const payload = parseJson('{"z":-0.0,"l":[-0.0,0.0,-0,1e-320,-1e21]}') as any
  const { event } = stampEvent(id, payload, { previousHash: null, extra: { x: new Float(-0) } })
  const back = decodeRecord(encodeRecord(event, 0), [id.agentId])
  assert.is(canonicalize(back), canonicalize(event))
  assert.ok(canonicalize(back).includes('"z":-0.0'), canonicalize(back))
})

Record('"__proto__" keys at any depth stay keys (issue 13 #2: the decoder renamed them), prototypes untouched', () => {
  const id = Identity.generate()
  const payload = parseJson('{"__proto__":{"__proto__":[{"__proto__":1,"constructor":2}]},"a":{"__proto__":null}}') as any
  const extra = parseJson('{"__proto__":{"x":1}}') as any
  const { event } = stampEvent(id, payload, { previousHash: null, extra })
  const back = decodeRecord(encodeRecord(event, 0), [id.agentId])
  assert.is(canonicalize(back), canonicalize(event))
  assert.ok(canonicalize(back).includes('{"__proto__":{"__proto__":[{"__proto__":1'), canonicalize(back))
  assert.is(Object.getPrototypeOf(back), Object.prototype)
  assert.is(Object.getPrototypeOf(back.payload), Object.prototype)
  assert.is(({} as any).x, undefined)
})

Record('nesting up to MAX_DEPTH round-trips (issue 13 #3: 2,000 levels threw inside encode); deeper is refused up front', () => {
  const id = Identity.generate()
  // event (1) + payload (1) + MAX_DEPTH - 2 levels below it: the deepest event canonical JSON accepts.
  const { event } = stampEvent(id, { v: nested(MAX_DEPTH - 2, "leaf") as any }, { previousHash: null })
  const back = decodeRecord(encodeRecord(event, 0), [id.agentId])
  assert.is(canonicalize(back), canonicalize(event))
  try { stampEvent(id, { v: nested(MAX_DEPTH - 1) as any }, { previousHash: null }); assert.unreachable() } catch (e) { assert.is((e as PcpError).code, 'CANONICAL_TOO_DEEP') }
  try { encodeRecord({ ...event, payload: { v: nested(2000) as any } }, 0); assert.unreachable() } catch (e) { assert.is((e as PcpError).code, 'CANONICAL_TOO_DEEP') }
})

Record('hostile CBOR nested 100,000 deep is refused by a throw the callers catch, and the codec still works after', () => {
  const bytes = new Uint8Array(100_001).fill(0x81); bytes[100_000] = 0x01
  assert.throws(() => decodeRecord(bytes, ['x']))
  const id = Identity.generate()
  const { event } = stampEvent(id, { ok: true }, { previousHash: null })
  assert.equal(decodeRecord(encodeRecord(event, 0), [id.agentId]), event)
})

Record('garbage is refused, not misread', () => {
  assert.throws(() => decodeRecord(new Uint8Array([0xff, 0x00, 0x13]), ['x']))
  assert.throws(() => decodeRecord(encodeRecord(stampEvent(Identity.generate(), {}, { previousHash: null }).event, 3), ['x']), /identity #3/)
})

Record.run()
