import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, canonicalize, eventHash, Float, parseJson, type AissEvent } from '../runtime/index.js'
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

Record('garbage is refused, not misread', () => {
  assert.throws(() => decodeRecord(new Uint8Array([0xff, 0x00, 0x13]), ['x']))
  assert.throws(() => decodeRecord(encodeRecord(stampEvent(Identity.generate(), {}, { previousHash: null }).event, 3), ['x']), /identity #3/)
})

Record.run()
