import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  Identity, stampEvent, eventHash, verifyChain, assertChain, parseJson, Float, canonicalize, chainIntegrityHash,
  createRotationAttestation, rotationPayload, verifyRotationAttestation, PcpError, verifyAuditExport, buildAuditExport,
  stringifyJson, signingBytes, toBase64, parseIdentityDocument, type AissEvent, type IdentityDocument
} from '../runtime/index.js'
import { encodeRecord, decodeRecord } from '../runtime/record.js'
import { verifyBatch, checkEvent, type CheckState } from '../hub/ingest-verify.js'
import { readFixture } from './helpers.js'

const Verify = suite('verify')
const refSeed = (): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => i)
const reference = (): { identity: any, events: AissEvent[] } => parseJson(readFixture('fixtures/reference-chain.json')) as any

function makeChain (n: number, identity = Identity.generate({ now: 1700000000 })): { identity: Identity, events: AissEvent[] } {
  const events: AissEvent[] = []
  let prev: string | null = identity.genesisHash()
  for (let i = 0; i < n; i++) {
    const { event, hash } = stampEvent(identity, { event_type: 'step', i }, { previousHash: prev, timestamp: 1700000000 + i })
    events.push(event); prev = hash
  }
  return { identity, events }
}

Verify('stamping reproduces the reference byte for byte (protocol.md §3.1)', () => {
  const id = Identity.fromSeed(refSeed(), { now: 1700000000 })
  const ref = reference()
  const e0 = stampEvent(id, { event_type: 'genesis', temp: new Float(25), n: 1 }, { previousHash: id.genesisHash(), timestamp: 1700000000, nonce: '00000000-0000-4000-8000-000000000000' })
  assert.is(e0.event.signature, ref.events[0]!.signature)
  assert.is(e0.hash, 'c4f5a09498292c3d1369e2500504be5c61296005baa266b69e1e92f0e6532525')
  const e1 = stampEvent(id, { event_type: 'step', msg: 'héllo', v: 1e-7 }, { previousHash: e0.hash, timestamp: 1700000001, nonce: '00000000-0000-4000-8000-000000000001' })
  assert.is(e1.event.signature, ref.events[1]!.signature)
  assert.is(e1.hash, 'e6a862a630ed5bfff23051442933744e112384887071d13deeba11ff9bd9da0a')
  assert.is(chainIntegrityHash([e0.hash, e1.hash]), '686faaf42b79e79d6fd064e65ccdaaf6b162de922af2ece1f348d79080cac802')
  assert.equal(id.document(), { ...ref.identity })
})

Verify("the reference's chain verifies here, read losslessly from JSON", () => {
  const { identity, events } = reference()
  const report = verifyChain(events, identity)
  assert.equal(report.errors, [])
  assert.ok(report.valid)
  assert.is(report.headHash, 'e6a862a630ed5bfff23051442933744e112384887071d13deeba11ff9bd9da0a')
  // The same text through JSON.parse loses 25.0 → 25 and breaks the signature: why parseJson exists.
  const lossy = JSON.parse(readFixture('fixtures/reference-chain.json'))
  assert.is(verifyChain(lossy.events, lossy.identity).errors[0]?.code, 'SIGNATURE_INVALID')
})

Verify('a good chain of 50 verifies; each fault is reported with its code and index', () => {
  const { identity, events } = makeChain(50)
  assert.ok(verifyChain(events, identity.document()).valid)

  const tampered = events.map((e) => ({ ...e, payload: { ...e.payload } }))
  tampered[10]!.payload.i = 999
  let r = verifyChain(tampered, identity.document())
  assert.equal(r.errors.map((e) => [e.code, e.index]), [['SIGNATURE_INVALID', 10], ['CHAIN_LINK_BROKEN', 11]])
  assert.is(r.errors[1]!.expected, eventHash(tampered[10]!))
  assert.is(r.errors[1]!.actual, events[11]!.previous_hash)

  const dropped = [...events.slice(0, 20), ...events.slice(21)]
  r = verifyChain(dropped, identity.document())
  assert.equal(r.errors.map((e) => [e.code, e.index]), [['CHAIN_LINK_BROKEN', 20]])

  const badB64 = events.map((e) => ({ ...e })); badB64[5]!.signature = badB64[5]!.signature.replace(/=+$/, '')
  assert.equal(verifyChain(badB64, identity.document()).errors.map((e) => [e.code, e.index]), [['SIGNATURE_ENCODING', 5]])

  const missing = events.map((e) => ({ ...e })) as any[]; delete missing[3].nonce
  assert.equal(verifyChain(missing, identity.document()).errors.map((e: any) => [e.code, e.index, e.field]), [['EVENT_MALFORMED', 3, 'nonce'], ['CHAIN_LINK_BROKEN', 4, 'previous_hash']])
})

Verify('time going backwards, replayed nonces and forks, each found', () => {
  const id = Identity.generate()
  const e0 = stampEvent(id, { n: 0 }, { previousHash: null, timestamp: 100, nonce: 'a' })
  const e1 = stampEvent(id, { n: 1 }, { previousHash: e0.hash, timestamp: 90, nonce: 'b' })
  const e2 = stampEvent(id, { n: 2 }, { previousHash: e1.hash, timestamp: 110, nonce: 'a' })
  const e3 = stampEvent(id, { n: 3 }, { previousHash: e1.hash, timestamp: 120, nonce: 'c' }) // second child of e1
  const r = verifyChain([e0.event, e1.event, e2.event, e3.event], id.publicKey)
  assert.equal(r.errors.map((e) => [e.code, e.index]), [['TIMESTAMP_BACKWARDS', 1], ['NONCE_REPLAYED', 2], ['FORK_DETECTED', 3]])
})

Verify('agent_id must be derived from the key (the reference never checks, gaps.md #8)', () => {
  const { identity, events } = makeChain(3)
  const doc = { ...identity.document(), agent_id: 'X'.repeat(32) }
  const r = verifyChain(events, doc)
  assert.is(r.valid, false)
  assert.is(r.errors[0]!.code, 'AGENT_ID_MISMATCH')
  assert.is(r.errors[0]!.index, -1)
  const other = Identity.generate()
  const foreign = stampEvent(other, { x: 1 }, { previousHash: eventHash(events[2]!) })
  const r2 = verifyChain([...events, foreign.event], identity.document())
  assert.equal(r2.errors.map((e) => e.code), ['SIGNATURE_INVALID', 'AGENT_ID_MISMATCH'])
})

Verify('assertChain throws a typed error carrying the index and hashes', () => {
  const { identity, events } = makeChain(5)
  const broken = [...events]; broken[3] = { ...broken[3]!, previous_hash: 'f'.repeat(64) }
  try { assertChain(broken, identity.document()); assert.unreachable() } catch (err) {
    assert.instance(err, PcpError)
    const e = err as PcpError
    assert.is(e.code, 'SIGNATURE_INVALID') // editing previous_hash also breaks that event's signature
    assert.is(e.index, 3)
  }
  assert.ok(assertChain(events, identity.document()).valid)
})

Verify('every genesis form of protocol.md §5 is accepted; anything else is not', () => {
  const id = Identity.generate()
  for (const prev of [null, 'genesis', '0'.repeat(64), id.genesisHash(), 'a'.repeat(64)]) {
    assert.ok(verifyChain([stampEvent(id, {}, { previousHash: prev }).event], id.publicKey).valid, String(prev))
  }
  const odd = stampEvent(id, {}, { previousHash: 'start' }).event
  assert.is(verifyChain([odd], id.publicKey).errors[0]!.code, 'EVENT_MALFORMED')
})

Verify('key rotation: one history across two keys', () => {
  const { identity: oldId, events } = makeChain(3)
  const newId = Identity.generate()
  const att = createRotationAttestation(oldId, newId.publicKey, 1700000010)
  assert.ok(verifyRotationAttestation(att).ok)
  const rot = stampEvent(oldId, rotationPayload(att), { previousHash: eventHash(events[2]!), timestamp: 1700000010 })
  const next = stampEvent(newId, { event_type: 'after' }, { previousHash: rot.hash, timestamp: 1700000011 })
  const chain = [...events, rot.event, next.event]
  const r = verifyChain(chain, oldId.document())
  assert.equal(r.errors, [])
  assert.is(r.finalAgentId, newId.agentId)
  // The old key may not sign after the rotation...
  const stale = stampEvent(oldId, { event_type: 'stale' }, { previousHash: rot.hash, timestamp: 1700000011 })
  assert.is(verifyChain([...events, rot.event, stale.event], oldId.document()).errors[0]!.code, 'SIGNATURE_INVALID')
  // ...and an attestation signed by someone else is refused.
  const forged = { ...att, rotation_signature: createRotationAttestation(newId, newId.publicKey).rotation_signature }
  assert.not.ok(verifyRotationAttestation(forged).ok)
  const badRot = stampEvent(oldId, rotationPayload(forged as any), { previousHash: eventHash(events[2]!), timestamp: 1700000010 })
  assert.is(verifyChain([...events, badRot.event], oldId.document()).errors[0]!.code, 'ROTATION_INVALID')
})

Verify("a rotation event as the reference writes it (no attestation inside) is accepted", () => {
  const { identity: oldId, events } = makeChain(1)
  const newId = Identity.generate()
  const { rotation_attestation: _a, ...refPayload } = rotationPayload(createRotationAttestation(oldId, newId.publicKey)) as any
  const rot = stampEvent(oldId, refPayload, { previousHash: eventHash(events[0]!) })
  const next = stampEvent(newId, { k: 1 }, { previousHash: rot.hash })
  assert.ok(verifyChain([...events, rot.event, next.event], oldId.document()).valid)
})

Verify('untrusted junk gives a report, never a throw', () => {
  const id = Identity.generate()
  for (const junk of [[null], [42], ['x'], [{}], [{ payload: 'x' }], [{ version: 1, agent_id: 2, timestamp: 'x', nonce: 3, payload: {}, previous_hash: 5, signature: 6 }]]) {
    const r = verifyChain(junk as any, id.publicKey)
    assert.is(r.valid, false)
    assert.is(r.errors[0]!.index, 0)
  }
  assert.is(verifyChain([], { public_key: 'nope' }).errors[0]!.code, 'IDENTITY_INVALID')
  assert.is(canonicalize(verifyChain([], id.publicKey).valid), 'true')
})

/** Signed events whose timestamps are written as `texts` (JSON number tokens), as an export's text. */
function timestampExport (texts: string[]): string {
  const id = Identity.fromSeed(Uint8Array.from({ length: 32 }, (_, i) => 40 + i), { now: 1700000000 })
  const events: AissEvent[] = []; let prev: string | null = id.genesisHash()
  for (const [i, t] of texts.entries()) {
    const unsigned = { version: 'AISS-1.0', agent_id: id.agentId, timestamp: parseJson(t) as number, nonce: `n-${i}`, payload: { event_type: 'tick', i }, previous_hash: prev }
    const ev = { ...unsigned, signature: toBase64(id.sign(signingBytes(unsigned))) }
    events.push(ev); prev = eventHash(ev)
  }
  return stringifyJson(buildAuditExport(id.document(), events, { now: 1700000100 }), 2)
}

Verify('one timestamp rule (issue 13 #9): 1700000004.0 is accepted like 1700000004.5 and 1700000004, by the verifier and the hub', () => {
  const text = timestampExport(['1700000003', '1700000004.0', '1700000004.5', '1700000005', '1.7000000055e9'])
  assert.match(text, '"timestamp": 1700000004.0')
  const r = verifyAuditExport(parseJson(text))
  assert.ok(r.usable && r.report.valid, JSON.stringify(r))
  // The hub's two stages (hub/ingest-verify.ts) over the same events as records.
  const doc = parseJson(text) as { agent_identity: IdentityDocument, events: AissEvent[] }
  const { publicKey } = parseIdentityDocument(doc.agent_identity)
  const ids = [doc.agent_identity.agent_id]
  const records = doc.events.map((e) => encodeRecord(e, 0))
  const { sig, hashes } = verifyBatch({ ids, records, agentId: ids[0]!, publicKey })
  const state: CheckState = { seq: 0, headHash: null, lastTimestamp: null, agentId: ids[0]!, publicKey }
  doc.events.forEach((e, i) => assert.equal(checkEvent(state, decodeRecord(records[i]!, ids), sig[i]!, hashes[i]!, false), [], `hub, event ${i}`))
  // Backwards is still backwards, whatever the spelling; text is not a timestamp.
  const back = verifyAuditExport(parseJson(timestampExport(['1700000004.5', '1700000004.0'])))
  assert.ok(back.usable && back.report.errors.map((e) => e.code).join() === 'TIMESTAMP_BACKWARDS', JSON.stringify(back))
  const bad = verifyAuditExport(parseJson(timestampExport(['"1700000004"'])))
  assert.ok(bad.usable && bad.report.errors.some((e) => e.code === 'EVENT_MALFORMED' && e.field === 'timestamp'), JSON.stringify(bad))
})

Verify.run()
