import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, buildAuditExport, verifyAuditExport, parseJson, stringifyJson, type AissEvent } from '../runtime/index.js'
import { readFixture } from './helpers.js'

const Audit = suite('audit')

function chain (n: number): { id: Identity, events: AissEvent[] } {
  const id = Identity.generate({ now: 1700000000 })
  const events: AissEvent[] = []; let prev: string | null = id.genesisHash()
  for (let i = 0; i < n; i++) { const s = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: 1700000000 + i }); events.push(s.event); prev = s.hash }
  return { id, events }
}

Audit("the reference's export verifies here", () => {
  const result = verifyAuditExport(parseJson(readFixture('fixtures/reference-export.json')))
  assert.ok(result.usable)
  if (!result.usable) return
  assert.equal(result.report.errors, [])
  assert.is(result.report.event_count, 2)
  assert.is(result.report.agent_id, '6ooAjytx2tERAi6rpXCqxMKCBr4z6Kw3')
})

Audit("ours satisfies every check the reference makes (validate_audit_export + CLI audit)", () => {
  const { id, events } = chain(20)
  const exp = buildAuditExport(id.document(), events, { now: 1700000100 })
  const doc = parseJson(stringifyJson(exp, 2)) as any
  // validate_audit_export: required keys, spec prefix, chain hash recomputed.
  for (const k of ['spec', 'agent_identity', 'events', 'chain_integrity_hash', 'exported_at']) assert.ok(k in doc, k)
  assert.ok(doc.spec.startsWith('AISS-'))
  assert.is(doc.metadata.event_count, 20)
  assert.is(doc.metadata.first_timestamp, 1700000000)
  assert.is(doc.metadata.last_timestamp, 1700000019)
  const r = verifyAuditExport(doc)
  assert.ok(r.usable && r.report.valid)
})

Audit('a tampered event, a wrong chain hash, a bad count: each named', () => {
  const { id, events } = chain(10)
  const doc = parseJson(stringifyJson(buildAuditExport(id.document(), events), 2)) as any
  doc.events[4].payload.i = 40
  let r = verifyAuditExport(doc)
  assert.ok(r.usable)
  if (!r.usable) return
  assert.is(r.report.valid, false)
  assert.is(r.report.errors[0]!.index, 4)
  assert.is(r.report.errors[0]!.code, 'SIGNATURE_INVALID')
  assert.ok(r.report.errors.some((e) => e.code === 'EXPORT_HASH_MISMATCH'))

  const doc2 = parseJson(stringifyJson(buildAuditExport(id.document(), events), 2)) as any
  doc2.chain_integrity_hash = 'f'.repeat(64); doc2.metadata.event_count = 9
  r = verifyAuditExport(doc2)
  assert.ok(r.usable)
  if (!r.usable) return
  assert.equal(r.report.errors.map((e) => e.code).sort(), ['EXPORT_HASH_MISMATCH', 'EXPORT_MALFORMED'])
})

Audit('documents that are not exports are unusable, with a reason', () => {
  for (const [doc, why] of [[[], 'not a JSON object'], [{}, 'spec'], [{ spec: 'X', events: [], chain_integrity_hash: '', exported_at: 0, agent_identity: {} }, 'not an AISS export'],
    [{ spec: 'AISS-1.0-AUDIT', events: {}, chain_integrity_hash: '', exported_at: 0, agent_identity: {} }, 'not an array']] as const) {
    const r = verifyAuditExport(doc)
    assert.is(r.usable, false)
    if (!r.usable) assert.match(r.reason, why)
  }
})

Audit('an invalid identity block is reported once, without a spurious hash mismatch of zero events (issue 13 #10)', () => {
  const { id, events } = chain(3)
  for (const identity of [{ ...id.document(), public_key: 'not base64' }, { ...id.document(), agent_id: 'x'.repeat(32) }, 'nope']) {
    const doc = { ...buildAuditExport(id.document(), events), agent_identity: identity }
    const r = verifyAuditExport(parseJson(stringifyJson(doc)))
    assert.ok(r.usable)
    if (!r.usable) return
    assert.is(r.report.valid, false)
    assert.equal(r.report.errors.filter((e) => e.code === 'EXPORT_HASH_MISMATCH'), [], JSON.stringify(r.report.errors))
    assert.ok(['IDENTITY_INVALID', 'AGENT_ID_MISMATCH'].includes(r.report.errors[0]!.code), JSON.stringify(r.report.errors))
  }
})

Audit.run()
