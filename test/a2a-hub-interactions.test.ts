// hub/interactions.ts: the incremental cross-check, fed with events from a real AgentSession (real Agents
// on a temp home), in various arrival orders, with an injected clock for the grace period.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent, hashValue, type AissEvent } from '../runtime/index.js'
import { AgentSession } from '../runtime/a2a/session.js'
import { InteractionCrossCheck } from '../hub/interactions.js'
import { join } from 'node:path'
import { tmpDir } from './helpers.js'
import { openAgents } from './a2a-helpers.js'

const X = suite('hub interaction cross-check')

async function scenario (home: string): Promise<{ a: Agent, b: Agent, ea: AissEvent[], eb: AissEvent[], sessionId: string }> {
  const [a, b] = await openAgents(home, ['ctl', 'pi']) as [Agent, Agent]
  const s = await AgentSession.create([{ name: 'ctl', agent: a }, { name: 'pi', agent: b }])
  await s.start()
  await s.stamp('ctl', 'relay_on', { relay: 2 }, { peer: 'pi' })
  await s.stamp('pi', 'reading', { temp: 21.5 }, { peer: 'ctl' })
  await s.end()
  return { a, b, ea: await a.history(), eb: await b.history(), sessionId: s.sessionId }
}

X('consistent chains raise nothing, in any arrival order, and re-fed events are not news', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, ea, eb } = await scenario(tmp.path)
    let now = 1_000_000
    const x = new InteractionCrossCheck({ clock: () => now, graceSeconds: 30 })
    const out = [...eb.flatMap((e) => x.onEvent(b.agentId, e)), ...ea.flatMap((e) => x.onEvent(a.agentId, e))]
    assert.equal(out, [])
    assert.is(x.pending, 0)
    assert.equal([...ea, ...eb].flatMap((e) => x.onEvent(e.agent_id, e)), [])
    now += 3_600_000
    assert.equal(x.tick(), [])
    await a.close(); await b.close()
  } finally { tmp.cleanup() }
})

X('a claim the peer lacks is UNCONFIRMED after the grace period, once', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, ea, eb } = await scenario(tmp.path)
    let now = 1_000_000
    const x = new InteractionCrossCheck({ clock: () => now, graceSeconds: 30 })
    const relay = ea.find((e) => e.payload.event_type === 'relay_on')!
    for (const e of ea) x.onEvent(a.agentId, e)
    for (const e of eb) if (e.payload.event_type !== 'relay_on_received') x.onEvent(b.agentId, e)
    now += 29_000
    assert.equal(x.tick(), [])
    now += 2_000
    const found = x.tick()
    assert.is(found.length, 1)
    assert.is(found[0]!.code, 'INTERACTION_UNCONFIRMED')
    assert.is(found[0]!.agentId, a.agentId)
    assert.is(found[0]!.peer, b.agentId)
    assert.is(found[0]!.interactionHash, relay.payload.interaction_hash)
    assert.equal(x.tick(), [])
    await a.close(); await b.close()
  } finally { tmp.cleanup() }
})

X('a mirror recording different content, a replayed mirror, and a handshake hash that differs are MISMATCH', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, ea, eb } = await scenario(tmp.path)
    const x = new InteractionCrossCheck({ clock: () => 0 })
    for (const e of ea) x.onEvent(a.agentId, e)
    const mirror = eb.find((e) => e.payload.event_type === 'relay_on_received')!
    // The Pi's chain, stamped honestly by a dishonest Pi: a mirror whose content and hash differ.
    const lie = await b.stamp('relay_on_received', { ...mirror.payload, relay_hash: hashValue(3), payload_hash: hashValue({ relay_hash: hashValue(3) }) })
    const found = x.onEvent(b.agentId, lie)
    assert.ok(found.length >= 1)
    assert.ok(found.every((f) => f.code === 'INTERACTION_MISMATCH' && f.agentId === b.agentId && f.peer === a.agentId), JSON.stringify(found))
    assert.ok(found.some((f) => f.reason.includes('payload_hash differs')), JSON.stringify(found))
    // Content edited but payload_hash kept: the mirror contradicts itself.
    const y0 = new InteractionCrossCheck({ clock: () => 0 })
    const edited = await b.stamp('relay_on_received', { ...mirror.payload, relay_hash: hashValue(9) })
    assert.ok(y0.onEvent(b.agentId, edited).some((f) => /own content/.test(f.reason)))
    // The genuine mirror arriving after the pair is settled is a second record of the same act.
    const again = x.onEvent(b.agentId, mirror)
    assert.is(again.length, 1)
    assert.match(again[0]!.reason, /second responder record/)
    // A handshake recorded with a different hash by the responder.
    const hs = eb.find((e) => e.payload.event_type === 'a2a_handshake')!
    const y = new InteractionCrossCheck({ clock: () => 0 })
    for (const e of ea) y.onEvent(a.agentId, e)
    const bad = y.onEvent(b.agentId, { ...hs, payload: { ...hs.payload, handshake_hash: 'f'.repeat(64) } })
    assert.is(bad.length, 1)
    assert.is(bad[0]!.kind, 'handshake')
    assert.match(bad[0]!.reason, /handshake_hash differs/)
    await a.close(); await b.close()
  } finally { tmp.cleanup() }
})

X('an initiator event whose interaction_hash does not recompute is a MISMATCH on arrival', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, ea } = await scenario(tmp.path)
    const relay = ea.find((e) => e.payload.event_type === 'relay_on')!
    const forged = await a.stamp('relay_on', { ...relay.payload, interaction_id: 'other' })
    const x = new InteractionCrossCheck({ clock: () => 0 })
    const found = x.onEvent(a.agentId, forged)
    assert.ok(found.some((f) => f.code === 'INTERACTION_MISMATCH' && /interaction_hash/.test(f.reason)), JSON.stringify(found))
    await a.close(); await b.close()
  } finally { tmp.cleanup() }
})

X('a third device copying both parties\' records first is charged alone; the real pair is clean (issue 14)', async () => {
  const tmp = tmpDir()
  try {
    const { a, b, ea, eb } = await scenario(tmp.path)
    const [m] = await openAgents(join(tmp.path, 'm'), ['mallory']) as [Agent]
    let now = 1_000_000
    const x = new InteractionCrossCheck({ clock: () => now, graceSeconds: 30 })
    // Mallory, with her own valid key, signs copies of the pi's mirror and handshake into her own chain,
    // and of the controller's initiator records, before either party's chain reaches the hub.
    const early: ReturnType<InteractionCrossCheck['onEvent']> = []
    for (const e of [...eb, ...ea]) {
      if (typeof e.payload.my_role !== 'string') continue
      early.push(...x.onEvent(m.agentId, await m.stamp(String(e.payload.event_type), { ...e.payload })))
    }
    const real = [...ea.flatMap((e) => x.onEvent(a.agentId, e)), ...eb.flatMap((e) => x.onEvent(b.agentId, e))]
    assert.equal(real, [], 'the two parties\' records pair as if mallory had sent nothing')
    now += 60_000
    const later = [...early, ...x.tick()]
    assert.ok(later.length > 0)
    assert.ok(later.every((f) => f.agentId === m.agentId), JSON.stringify(later.map((f) => [f.agentId === m.agentId, f.reason])))
    await a.close(); await b.close(); await m.close()
  } finally { tmp.cleanup() }
})

X.run()
