// runtime/a2a: handshake messages, nonce registry, the co-signed event, A2ANode over the in-process
// transport with real Agents on temp homes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent, Identity, canonicalBytes, toBase58, verifyChain, type PcpError, type AissEvent } from '../runtime/index.js'
import { createProposal, createResponse, verifyProposal, verifyResponse, agreeCapabilities, normalizeCapabilities, type Proposal } from '../runtime/a2a/messages.js'
import { NonceRegistry } from '../runtime/a2a/nonces.js'
import { verifyHandshakeEvent } from '../runtime/a2a/handshake-event.js'
import { A2ANode } from '../runtime/a2a/node.js'
import { InProcessTransport } from '../runtime/a2a/transport.js'
import { loadAgentSigner } from '../runtime/a2a/signer.js'
import { tmpDir } from './helpers.js'
import { openAgents } from './a2a-helpers.js'

const H = suite('a2a handshake')
const T0 = 1_800_000_000_000
const W = { skewSeconds: 30, maxTtlSeconds: 3600, defaultTtlSeconds: 300 }
const codeOf = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
  try { await (typeof p === 'function' ? p() : p); return 'no error' } catch (e) { return (e as PcpError).code ?? String(e) }
}

async function pair (home: string, clock: () => number, bOpts: Partial<ConstructorParameters<typeof A2ANode>[2]> = {}) {
  const transport = new InProcessTransport()
  const [a, b] = await openAgents(home, ['robot', 'pi'], { clock }) as [Agent, Agent]
  const ka = await loadAgentSigner(a); const kb = await loadAgentSigner(b)
  const na = await new A2ANode(a, ka, { transport, clock }).start()
  const nb = await new A2ANode(b, kb, { transport, clock, ...bOpts }).start()
  return { a, b, na, nb, transport, close: async () => { await na.close(); await nb.close(); ka.destroy(); kb.destroy(); await a.close(); await b.close() } }
}

H('capabilities are signed sorted and deduplicated; agreed = sorted intersection (gaps.md #28)', () => {
  assert.equal(normalizeCapabilities(['verify', 'a2a', 'stamp', 'a2a']), ['a2a', 'stamp', 'verify'])
  assert.equal(agreeCapabilities(['z', 'y', 'session', 'a2a'], ['a2a', 'y', 'z']), ['a2a', 'y', 'z'])
  assert.throws(() => normalizeCapabilities(['ok', '']), /capabilities\[1\]/)
})

H('proposal → response → verify; a changed capability breaks the signature', () => {
  const a = Identity.generate(); const b = Identity.generate()
  const p = createProposal(a, { now: T0, ttlSeconds: 60, capabilities: ['stamp', 'a2a'], peerAgentId: b.agentId })
  assert.equal(p.capabilities, ['a2a', 'stamp'])
  assert.is(p.expires_at, T0 / 1000 + 60)
  assert.ok(verifyProposal(p, { ...W, now: T0 / 1000, me: b.agentId }).publicKey.length === 32)
  const tampered = { ...p, capabilities: ['a2a', 'stamp', 'motor'] }
  assert.throws(() => verifyProposal(tampered, { ...W, now: T0 / 1000 }), (e: PcpError) => e.code === 'A2A_SIGNATURE_INVALID')
  assert.throws(() => verifyProposal(p, { ...W, now: T0 / 1000, me: a.agentId }), (e: PcpError) => e.code === 'A2A_AGENT_ID_MISMATCH')
  const r = createResponse(b, p, { now: T0, accepted: true, sessionId: 's1' })
  assert.is(verifyResponse(r, p, { expectedResponder: b.agentId }).response.session_id, 's1')
  const other = createProposal(a, { now: T0, ttlSeconds: 60 })
  assert.throws(() => verifyResponse(r, other), (e: PcpError) => e.code === 'A2A_BINDING_MISMATCH')
  a.destroy(); b.destroy()
})

H('expiry window: expired, too far in the future, too long a window are refused', () => {
  const a = Identity.generate()
  const p = createProposal(a, { now: T0, ttlSeconds: 60 })
  const now = T0 / 1000
  assert.ok(verifyProposal(p, { ...W, now: now + 89 }))
  assert.throws(() => verifyProposal(p, { ...W, now: now + 91 }), (e: PcpError) => e.code === 'A2A_PROPOSAL_EXPIRED')
  assert.throws(() => verifyProposal(p, { ...W, now: now - 31 }), (e: PcpError) => e.code === 'A2A_PROPOSAL_NOT_YET_VALID')
  const long = createProposal(a, { now: T0, ttlSeconds: 7200 })
  assert.throws(() => verifyProposal(long, { ...W, now }), (e: PcpError) => e.code === 'A2A_PROPOSAL_NOT_YET_VALID')
  a.destroy()
})

H('a reference-made proposal (no expires_at, unsorted capabilities, Base58) is accepted within the default window', () => {
  const a = Identity.generate()
  // Built field by field as aiss/a2a.py create_identity_proposal does.
  const body = { version: 'AISS-1.0', message_type: 'a2a_identity_proposal', agent_id: a.agentId, public_key: toBase58(a.publicKey), capabilities: ['stamp', 'verify', 'a2a'], session_nonce: '0b8f7d1e-5a53-4f53-9c1e-2b0f3f1c7a11', timestamp: T0 / 1000 }
  const p = { ...body, signature: toBase58(a.sign(canonicalBytes(body))) } as unknown as Proposal
  assert.is(verifyProposal(p, { ...W, now: T0 / 1000 + 299 }).expiresAt, T0 / 1000 + 300)
  assert.throws(() => verifyProposal(p, { ...W, now: T0 / 1000 + 331 }), (e: PcpError) => e.code === 'A2A_PROPOSAL_EXPIRED')
  a.destroy()
})

H('nonce registry refuses a second claim until the window is over, then forgets', () => {
  const r = new NonceRegistry()
  r.claim('A', 'n1', 100, 10)
  assert.throws(() => r.claim('A', 'n1', 100, 50), (e: PcpError) => e.code === 'A2A_PROPOSAL_REPLAYED')
  r.claim('B', 'n1', 100, 50)
  r.prune(101)
  assert.is(r.size, 0)
})

H('handshake over the in-process transport: both chains hold the same co-signed record and verify', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, na, nb, close } = await pair(tmp.path, () => T0)
    const link = await na.handshake(b.agentId, { capabilities: ['a2a', 'stamp', 'verify', 'motor'] })
    assert.equal(link.capabilities, ['a2a', 'stamp', 'verify'])
    const ea = (await a.history()).at(-1)!; const eb = (await b.history()).at(-1)!
    assert.is(ea.payload.event_type, 'a2a_handshake'); assert.is(eb.payload.event_type, 'a2a_handshake')
    assert.is(ea.payload.handshake_hash, eb.payload.handshake_hash)
    assert.equal(ea.payload.proposal, eb.payload.proposal)
    assert.is(ea.payload.my_role, 'initiator'); assert.is(eb.payload.my_role, 'responder')
    assert.is(ea.payload.peer_agent_id, b.agentId); assert.is(eb.payload.peer_agent_id, a.agentId)
    for (const ev of [ea, eb]) {
      const v = verifyHandshakeEvent(ev)
      assert.ok(v.ok, JSON.stringify(v))
    }
    assert.ok((await a.verify()).valid); assert.ok((await b.verify()).valid)
    assert.is(nb.link(a.agentId)!.handshakeHash, link.handshakeHash)
    await close()
  } finally { tmp.cleanup() }
})

H('agreed capabilities cannot be changed after signing: an edited record fails, even when re-stamped', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, na, close } = await pair(tmp.path, () => T0)
    await na.handshake(b.agentId)
    const ev = (await a.history()).at(-1)!
    const edited = { ...ev, payload: { ...ev.payload, capabilities_agreed: ['a2a', 'motor', 'stamp', 'verify'] } } as AissEvent
    const v1 = verifyHandshakeEvent(edited)
    assert.ok(!v1.ok && v1.problems.some((p) => p.code === 'A2A_CAPABILITIES_MISMATCH'))
    const reordered = { ...ev, payload: { ...ev.payload, capabilities_agreed: ['verify', 'stamp', 'a2a'] } } as AissEvent
    assert.ok(!verifyHandshakeEvent(reordered).ok)
    const resp = ev.payload.response as Record<string, unknown>
    const forged = { ...ev, payload: { ...ev.payload, response: { ...resp, capabilities: ['a2a', 'motor', 'stamp', 'verify'] } } } as AissEvent
    const v2 = verifyHandshakeEvent(forged)
    assert.ok(!v2.ok && v2.problems[0]!.code === 'A2A_SIGNATURE_INVALID', JSON.stringify(v2))
    // Even the agent itself, stamping the edited payload into its chain, gets a valid chain but a failing co-signature.
    const restamped = await a.stamp('a2a_handshake', { ...ev.payload, capabilities_agreed: ['a2a', 'motor', 'stamp', 'verify'] })
    assert.ok((await a.verify()).valid)
    assert.ok(!verifyHandshakeEvent(restamped).ok)
    await close()
  } finally { tmp.cleanup() }
})

H('a replayed proposal is refused; an expired one is refused; a refusal stamps nothing', async () => {
  const tmp = tmpDir()
  let now = T0
  try {
    const { a, b, na, transport, close } = await pair(tmp.path, () => now, { accept: (p) => (p.metadata as { name?: string } | undefined)?.name !== 'intruder' })
    const ka = await loadAgentSigner(a)
    const proposal = createProposal(ka, { now, ttlSeconds: 60, peerAgentId: b.agentId })
    const first = await transport.request(a.agentId, b.agentId, { kind: 'a2a_proposal', proposal })
    assert.is((first.response as { accepted: boolean }).accepted, true)
    assert.is(await codeOf(transport.request(a.agentId, b.agentId, { kind: 'a2a_proposal', proposal })), 'A2A_PROPOSAL_REPLAYED')
    const old = createProposal(ka, { now, ttlSeconds: 60, peerAgentId: b.agentId })
    now += 120_000
    assert.is(await codeOf(transport.request(a.agentId, b.agentId, { kind: 'a2a_proposal', proposal: old })), 'A2A_PROPOSAL_EXPIRED')
    const before = (b.head?.seq ?? -1)
    assert.is(await codeOf(na.handshake(b.agentId, { metadata: { name: 'intruder' } })), 'A2A_REFUSED')
    assert.is((b.head?.seq ?? -1), before)
    assert.is(await codeOf(na.interact(b.agentId, 'move', { x: 1 })), 'A2A_UNKNOWN_SESSION')
    ka.destroy()
    await close()
  } finally { tmp.cleanup() }
})

H('a confirmation after the proposal expired is refused and the responder records nothing', async () => {
  const tmp = tmpDir()
  let now = T0
  try {
    const { a, b, transport, close } = await pair(tmp.path, () => now)
    const { createConfirmation } = await import('../runtime/a2a/messages.js')
    const ka = await loadAgentSigner(a)
    const proposal = createProposal(ka, { now, ttlSeconds: 10, peerAgentId: b.agentId })
    const { response } = await transport.request(a.agentId, b.agentId, { kind: 'a2a_proposal', proposal }) as { response: never }
    now += 60_000
    const confirmation = createConfirmation(ka, response, { now })
    const before = (b.head?.seq ?? -1)
    assert.is(await codeOf(transport.request(a.agentId, b.agentId, { kind: 'a2a_confirmation', confirmation })), 'A2A_PROPOSAL_EXPIRED')
    assert.is((b.head?.seq ?? -1), before)
    ka.destroy()
    await close()
  } finally { tmp.cleanup() }
})

H('interaction: event in the sender\'s chain, mirror in the peer\'s, same interaction_hash; both chains verify', async () => {
  const tmp = tmpDir()
  try {
    const got: AissEvent[] = []; const clears: unknown[] = []
    const { a, b, na, transport, close } = await pair(tmp.path, () => T0, { onInteraction: (m, _e, clear) => { got.push(m); clears.push(clear) } })
    await na.handshake(b.agentId)
    const { event, mirror, interactionHash } = await na.interact(b.agentId, 'move_to', { pose: { x: 1.5, y: -2 }, target_id: 'dock-3' })
    assert.is(event.payload.interaction_hash, interactionHash)
    assert.is(mirror.payload.interaction_hash, interactionHash)
    assert.is(mirror.payload.event_type, 'move_to_received')
    assert.is(mirror.payload.target_id, 'dock-3')
    assert.is(typeof mirror.payload.pose_hash, 'string')
    assert.equal(mirror.payload.peer_event, event)
    assert.is(got.length, 1)
    assert.ok(verifyChain(await a.history(), a.identityDocument()).valid)
    assert.ok(verifyChain(await b.history(), b.identityDocument()).valid)
    assert.equal((await b.search({ peer: a.agentId })).map((e) => e.payload.event_type), ['a2a_handshake', 'move_to_received'])
    assert.equal(clears[0], { pose: { x: 1.5, y: -2 }, target_id: 'dock-3' })
    // A clear payload that does not hash to what was signed is refused, and nothing is mirrored.
    const { initiatorPayload, autoHashPayload } = await import('../runtime/a2a/interaction.js')
    const sid = event.payload.session_id as string
    const signed = await a.stamp('open_valve', initiatorPayload({ sessionId: sid, eventType: 'open_valve', initiator: a.agentId, peer: b.agentId, interactionId: 'x1', content: autoHashPayload({ valve: 1 }) }))
    const before = b.head!.seq
    assert.is(await codeOf(transport.request(a.agentId, b.agentId, { kind: 'a2a_interaction', event: signed as never, payload: { valve: 2 } })), 'A2A_INTERACTION_MISMATCH')
    assert.is(b.head!.seq, before)
    await close()
  } finally { tmp.cleanup() }
})

H.run()
