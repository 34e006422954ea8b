// The hub-side gate handler on untrusted input, without a broker: what it ignores, what it refuses, and
// that the agent comes from the topic (a device cannot ask for, or read, another agent's decisions).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { createTrustGateService } from '../hub/trustgate/service.js'
import { createGateHandler } from '../hub/trustgate/gate-handler.js'
import { decodeEnvelope, encodeEnvelope, gateDecisionId } from '../sync/gate-wire.js'
import { upTopic } from '../sync/topics.js'
import { tmpDir } from './helpers.js'

const POLICY = 'name: h\nversion: "1"\nroles:\n  operator: { allowed_tools: [read_db], blocked_tools: [] }\nnotification: { timeout_seconds: 30, on_timeout: REJECT }\n'
const Handler = suite('trustgate-gate-handler')

Handler('ignores foreign kinds and junk, refuses malformed requests, answers idempotently, scopes reads to the agent', async () => {
  const tmp = tmpDir('pcp-tg-handler-')
  const hub = await Agent.open({ name: 'hub' }, { home: tmp.path })
  const a = await Agent.open({ name: 'a' }, { home: tmp.path })
  const b = await Agent.open({ name: 'b' }, { home: tmp.path })
  const service = await createTrustGateService({ dir: join(tmp.path, 'tg'), hub, initialPolicy: POLICY, expiryIntervalMs: 0 })
  const h = createGateHandler(service, { prefix: 'p/v1' })
  const corr = new Uint8Array(16).fill(7)
  try {
    assert.is(await h.handleMessage(upTopic(a.agentId, 'p/v1'), new Uint8Array([0xff, 0x00])), null, 'not CBOR')
    assert.is(await h.handleMessage(upTopic(a.agentId, 'p/v1'), encodeEnvelope({ v: 1, kind: 'events', events: [] })), null, 'sync traffic is not ours')
    assert.is(await h.handleMessage('p/v1/not-an-agent/up', encodeEnvelope({ v: 1, kind: 'gate', corr })), null)
    assert.is(await h.handle(a.agentId, { v: 1, kind: 'gate', corr: new Uint8Array(2) }), null, 'a corr nobody can match')
    const bad = await h.handle(a.agentId, { v: 1, kind: 'gate', corr, action: 'read_db', payload: [], request_id: 'ab'.repeat(8) })
    assert.equal([bad?.kind, (bad as { code: string }).code], ['gate_error', 'REQUEST_INVALID'])
    const noId = await h.handle(a.agentId, { v: 1, kind: 'gate', corr, action: 'read_db', payload: {} })
    assert.equal((noId as { code: string }).code, 'REQUEST_INVALID')

    const req = { v: 1, kind: 'gate', corr, action: 'read_db', payload: { x: 1 }, role: 'operator', request_id: 'cd'.repeat(8) }
    const out = await h.handleMessage(upTopic(a.agentId, 'p/v1'), encodeEnvelope(req))
    assert.is(out?.topic, `p/v1/${a.agentId}/down`)
    const res = decodeEnvelope(out!.payload)!
    assert.equal([res.kind, res.allowed, res.decision_id], ['gate_result', true, gateDecisionId(a.agentId, 'cd'.repeat(8))])
    assert.ok(res.policy, 'a device without the active policy gets the signed copy')
    const again = await h.handle(a.agentId, { ...req, policy_hash: service.policy!.hash })
    assert.is((again as { decision_id: string }).decision_id, res.decision_id, 'a re-delivered request is the same decision')
    assert.is((again as { policy?: unknown }).policy, undefined)
    const decisions = (await hub.history()).filter((e) => e.payload.event_type === 'trustgate.decision')
    assert.is(decisions.length, 1, 'journaled once')
    // Agent b asks with the same request id: a different decision, about b.
    const other = await h.handle(b.agentId, req)
    assert.is.not((other as { decision_id: string }).decision_id, res.decision_id)
    // b cannot read a's decision.
    const peek = await h.handle(b.agentId, { v: 1, kind: 'gate_wait', corr, decision_id: res.decision_id, wait_ms: 0 })
    assert.equal((peek as { code: string }).code, 'DECISION_NOT_FOUND')
  } finally {
    await service.close(); await hub.close(); await a.close(); await b.close(); tmp.cleanup()
  }
})

Handler.run()
