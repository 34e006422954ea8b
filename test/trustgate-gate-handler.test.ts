// The hub-side gate handler on untrusted input, without a broker: what it ignores, what it refuses, and
// that the agent comes from the topic (a device cannot ask for, or read, another agent's decisions), that
// only requests signed by the registered key, fresh and never seen get through, and that the role is the
// registry's. Refusals are answered and counted, never journalled.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Agent, Identity, statementSigner } from '../runtime/index.js'
import { createTrustGateService, type TrustGateService } from '../hub/trustgate/service.js'
import { createGateHandler, type GateHandler } from '../hub/trustgate/gate-handler.js'
import { allowedDevices, type GateDevices } from '../hub/trustgate/gate-auth.js'
import { decodeEnvelope, encodeEnvelope, gateDecisionId, signGateRequest } from '../sync/gate-wire.js'
import { upTopic } from '../sync/topics.js'
import { tmpDir } from './helpers.js'

const POLICY = `name: h
version: "1"
roles:
  operator: { allowed_tools: [read_db], blocked_tools: [shell] }
  trusted: { allowed_tools: [read_db, shell], blocked_tools: [] }
notification: { timeout_seconds: 30, on_timeout: REJECT }
`
const Handler = suite('trustgate-gate-handler')
const NOW = 1_800_000_000

interface W { hub: Agent, a: Agent, b: Agent, service: TrustGateService, h: GateHandler, refused: string[], clock: { now: number }, journal: () => Promise<number>, cleanup: () => Promise<void> }

async function world (devices?: (a: Agent, b: Agent) => GateDevices): Promise<W> {
  const tmp = tmpDir('pcp-tg-handler-')
  const hub = await Agent.open({ name: 'hub' }, { home: tmp.path })
  const a = await Agent.open({ name: 'a' }, { home: tmp.path })
  const b = await Agent.open({ name: 'b' }, { home: tmp.path })
  const service = await createTrustGateService({ dir: join(tmp.path, 'tg'), hub, initialPolicy: POLICY, expiryIntervalMs: 0 })
  const refused: string[] = []
  const clock = { now: NOW }
  const h = createGateHandler(service, {
    prefix: 'p/v1', now: () => clock.now, onRefused: (c) => refused.push(c),
    devices: devices?.(a, b) ?? allowedDevices([{ agentId: a.agentId, publicKey: a.publicKey }, { agentId: b.agentId, publicKey: b.publicKey }])
  })
  return {
    hub, a, b, service, h, refused, clock,
    journal: async () => (await hub.history()).filter((e) => e.payload.event_type === 'trustgate.decision').length,
    async cleanup () { await service.close(); await hub.close(); await a.close(); await b.close(); tmp.cleanup() }
  }
}

const corr = new Uint8Array(16).fill(7)
const nonce = (): string => randomBytes(16).toString('hex')
const sign = (who: Agent | Identity, env: Record<string, unknown>, ts = NOW, chain = who.agentId): Record<string, unknown> =>
  signGateRequest(who instanceof Agent ? who : statementSigner(who), chain, { v: 1, corr, ...env }, ts, nonce())

Handler('ignores foreign kinds and junk, refuses malformed requests, answers idempotently, scopes reads to the agent', async () => {
  const w = await world()
  const { a, b, h } = w
  try {
    assert.is(await h.handleMessage(upTopic(a.agentId, 'p/v1'), new Uint8Array([0xff, 0x00])), null, 'not CBOR')
    assert.is(await h.handleMessage(upTopic(a.agentId, 'p/v1'), encodeEnvelope({ v: 1, kind: 'events', events: [] })), null, 'sync traffic is not ours')
    assert.is(await h.handleMessage('p/v1/not-an-agent/up', encodeEnvelope({ v: 1, kind: 'gate', corr })), null)
    assert.is(await h.handle(a.agentId, { v: 1, kind: 'gate', corr: new Uint8Array(2) }), null, 'a corr nobody can match')
    const bad = await h.handle(a.agentId, sign(a, { kind: 'gate', action: 'read_db', payload: [], request_id: 'ab'.repeat(8) }))
    assert.equal([bad?.kind, (bad as { code: string }).code], ['gate_error', 'REQUEST_INVALID'])
    const noId = await h.handle(a.agentId, sign(a, { kind: 'gate', action: 'read_db', payload: {} }))
    assert.equal((noId as { code: string }).code, 'REQUEST_INVALID')

    const req = { kind: 'gate', action: 'read_db', payload: { x: 1 }, request_id: 'cd'.repeat(8) }
    const out = await h.handleMessage(upTopic(a.agentId, 'p/v1'), encodeEnvelope(sign(a, req)))
    assert.is(out?.topic, `p/v1/${a.agentId}/down`)
    const res = decodeEnvelope(out!.payload)!
    assert.equal([res.kind, res.allowed, res.decision_id], ['gate_result', true, gateDecisionId(a.agentId, 'cd'.repeat(8))])
    assert.ok(res.policy, 'a device without the active policy gets the signed copy')
    // QoS 1 may deliver twice, but a resent request is signed afresh: the same request id is the same decision.
    const again = await h.handle(a.agentId, sign(a, { ...req, policy_hash: w.service.policy!.hash }))
    assert.is((again as { decision_id: string }).decision_id, res.decision_id, 'a re-sent request is the same decision')
    assert.is((again as { policy?: unknown }).policy, undefined)
    assert.is(await w.journal(), 1, 'journaled once')
    // Agent b asks with the same request id: a different decision, about b.
    const other = await h.handle(b.agentId, sign(b, req))
    assert.is.not((other as { decision_id: string }).decision_id, res.decision_id)
    // b cannot read a's decision.
    const peek = await h.handle(b.agentId, sign(b, { kind: 'gate_wait', decision_id: res.decision_id, wait_ms: 0 }))
    assert.equal((peek as { code: string }).code, 'DECISION_NOT_FOUND')
    assert.equal(w.refused, [])
  } finally { await w.cleanup() }
})

Handler('unsigned, forged, re-targeted, stale and replayed requests are refused, counted and not journalled (issue 14 #2)', async () => {
  const w = await world()
  const { a, b, h } = w
  try {
    const req = { kind: 'gate', action: 'shell', payload: { cmd: 'rm -rf /' }, request_id: 'ef'.repeat(8) }
    const code = async (agentId: string, env: Record<string, unknown>): Promise<string> => String((await h.handle(agentId, env) as { code?: string } | null)?.code)
    assert.is(await code(a.agentId, { v: 1, corr, ...req }), 'REQUEST_UNSIGNED')
    // Signed by another key (b's, or a stranger's) and sent on a's topic.
    assert.is(await code(a.agentId, sign(b, req, NOW, a.agentId)), 'REQUEST_SIGNATURE_INVALID')
    assert.is(await code(a.agentId, sign(Identity.generate(), req, NOW, a.agentId)), 'REQUEST_SIGNATURE_INVALID')
    // a's genuine signature for b's topic: the statement names the agent, so it does not carry over.
    assert.is(await code(b.agentId, sign(a, req, NOW, b.agentId)), 'REQUEST_SIGNATURE_INVALID')
    // A signed request with its payload edited after signing.
    const edited = { ...sign(a, { ...req, action: 'read_db', payload: { table: 't' } }), payload: { table: 'secrets' } }
    assert.is(await code(a.agentId, edited), 'REQUEST_SIGNATURE_INVALID')
    // Outside the window: refused with the hub's time, so the device can correct its clock.
    const stale = await h.handle(a.agentId, sign(a, req, NOW - 61)) as { code: string, hub_time: number }
    assert.equal([stale.code, stale.hub_time], ['REQUEST_STALE', NOW])
    assert.is(await code(a.agentId, sign(a, req, NOW + 3600)), 'REQUEST_STALE')
    // A genuine request answered once; the same bytes again are a replay.
    const genuine = sign(a, { ...req, action: 'read_db', payload: {}, request_id: '01'.repeat(8) })
    assert.is((await h.handle(a.agentId, genuine))?.kind, 'gate_result')
    assert.is(await code(a.agentId, genuine), 'REQUEST_REPLAYED')
    w.clock.now += 30
    assert.is(await code(a.agentId, genuine), 'REQUEST_REPLAYED', 'still inside the window')
    w.clock.now += 100
    assert.is(await code(a.agentId, genuine), 'REQUEST_STALE', 'after the window the timestamp refuses it')
    assert.equal(w.refused, ['REQUEST_UNSIGNED', 'REQUEST_SIGNATURE_INVALID', 'REQUEST_SIGNATURE_INVALID', 'REQUEST_SIGNATURE_INVALID', 'REQUEST_SIGNATURE_INVALID', 'REQUEST_STALE', 'REQUEST_STALE', 'REQUEST_REPLAYED', 'REQUEST_REPLAYED', 'REQUEST_STALE'])
    assert.is(await w.journal(), 1, 'only the genuine request was journalled')
    // Nothing escalated for a: its next dangerous request is judged on its own.
    assert.is(w.service.simulate({ agent_id: a.agentId, action: 'read_db' }).outcome, 'ALLOW')
  } finally { await w.cleanup() }
})

Handler('the role is the registry\'s: `role: trusted` from the device does not turn BLOCK into ALLOW (issue 14 #2)', async () => {
  const w = await world((a, b) => allowedDevices([{ agentId: a.agentId, publicKey: a.publicKey }, { agentId: b.agentId, publicKey: b.publicKey, role: 'trusted' }]))
  const { a, b, h } = w
  try {
    const shell = (env: object): Record<string, unknown> => ({ kind: 'gate', action: 'shell', payload: { cmd: 'ls' }, request_id: nonce(), ...env })
    const asA = await h.handle(a.agentId, sign(a, shell({ role: 'trusted' }))) as unknown as { outcome: string, rule: string, decision_event: { payload: { decision: { role: string } } } }
    assert.equal([asA.outcome, asA.rule, asA.decision_event.payload.decision.role], ['BLOCK', 'role_violation', 'operator'])
    // The operator approved b as trusted: b's request is decided under that role, whatever it sends.
    const asB = await h.handle(b.agentId, sign(b, shell({ role: 'operator' }))) as unknown as { outcome: string, decision_event: { payload: { decision: { role: string } } } }
    assert.equal([asB.outcome, asB.decision_event.payload.decision.role], ['ALLOW', 'trusted'])
  } finally { await w.cleanup() }
})

Handler('unknown, pending and revoked agents are refused without a journal entry, even with a valid signature of their own', async () => {
  const stranger = Identity.generate()
  const pending = Identity.generate()
  const revoked = Identity.generate()
  const w = await world(() => ({
    device: (id) => id === pending.agentId ? { state: 'pending', publicKey: pending.publicKey, role: 'operator' } : id === revoked.agentId ? { state: 'revoked', publicKey: revoked.publicKey, role: 'operator' } : undefined
  }))
  try {
    const req = { kind: 'gate', action: 'read_db', payload: {}, request_id: nonce() }
    for (const [id, want] of [[stranger, 'AGENT_UNKNOWN'], [pending, 'AGENT_PENDING'], [revoked, 'AGENT_REVOKED']] as const) {
      for (let i = 0; i < 50; i++) {
        const out = await w.h.handle(id.agentId, sign(id, { ...req, request_id: nonce() })) as { code: string }
        assert.is(out.code, want)
      }
    }
    assert.is(w.refused.length, 150)
    assert.is((await w.hub.history()).filter((e) => e.payload.event_type === 'trustgate.decision').length, 0)
  } finally { await w.cleanup() }
})

Handler.run()
