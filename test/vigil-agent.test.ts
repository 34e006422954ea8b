// Vigil fed from a real Agent (runtime/agent.ts) on a temp home: its chain verifies and scores SAFE; the
// same chain with one payload edited after signing is caught by verification and scored ALERT; a real
// key rotation counts as attested.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent, verifyChain, type AissEvent } from '../runtime/index.js'
import { VigilEngine } from '../hub/vigil/index.js'
import { tmpDir } from './helpers.js'
import { T0 } from './vigil-helpers.js'

const WithAgent = suite('vigil with a real agent')

function feed (engine: VigilEngine, clock: { now: number }, agentId: string, events: AissEvent[], identity: unknown): void {
  const report = verifyChain(events, identity)
  events.forEach((event, index) => {
    clock.now = event.timestamp + 1
    const problems = report.errors.filter((e) => e.index === index)
    for (const p of problems) engine.onAnomaly(agentId, { code: p.code, index, message: p.message })
    if (problems.length === 0) engine.onEvent(agentId, event)
  })
}

WithAgent('clean chain SAFE, tampered copy ALERT, rotation attested', async () => {
  const dir = tmpDir('pcp-vigil-')
  let ms = T0 * 1000
  const agent = await Agent.open({ name: 'rover' }, { home: dir.path, clock: () => (ms += 60_000) })
  try {
    await agent.stamp('genesis', {})
    for (let i = 0; i < 4; i++) await agent.stamp('a2a_message', { peer_agent_id: `peer-${i % 2}`, peer_signature: 'sig' })
    await agent.rotate()
    await agent.stamp('step', { n: 1 })
    assert.ok((await agent.verify()).valid)
    const events = await agent.history()
    const identity = await agent.firstIdentityDocument()
    const clock = { now: T0 }
    const engine = new VigilEngine({ now: () => clock.now })
    feed(engine, clock, 'rover', events, identity)
    const clean = engine.vrs('rover')
    assert.is(clean?.state, 'SAFE')
    assert.is(clean?.components.trust.details.I.rotations, 1)
    assert.is(clean?.components.trust.details.I.rotationScore, 1) // our rotation embeds its attestation
    assert.is(clean?.components.chain.score, 0)
    assert.is(clean?.components.trust.details.V_t.interactions, 4) // Agent.stamp puts event_type in the payload
    assert.is(clean?.components.trust.components.D_t, 1)

    const tampered = events.map((e, i) => (i === 2 ? { ...e, payload: { ...e.payload, peer_agent_id: 'someone-else' } } : e))
    const clock2 = { now: T0 }
    const engine2 = new VigilEngine({ now: () => clock2.now })
    feed(engine2, clock2, 'rover', tampered, identity)
    const r = engine2.vrs('rover')
    assert.is(r?.state, 'ALERT')
    assert.ok((r?.components.chain.counts.bad_signature ?? 0) >= 1)
  } finally {
    await agent.close()
    dir.cleanup()
  }
})

WithAgent.run()
