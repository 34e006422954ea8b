// VRS (vigil.md §1) and chain risk (§1.1): the combination by hand, and real signed chains that were
// tampered with or forked, fed through runtime verifyChain exactly as the hub's ingest will.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChainRisk, DEFAULT_CONFIG, combineVrs, kindOf, stateOf, TrustScoreState, TsiTracker, A2cState } from '../hub/vigil/index.js'
import { eventHash, stampEvent } from '../runtime/index.js'
import { T0, ev, signedChain, ingest, engineWithClock } from './vigil-helpers.js'

const Vrs = suite('vigil vrs and chain risk')

function chainScore (codes: string[]): ReturnType<ChainRisk['compute']> {
  const c = new ChainRisk(DEFAULT_CONFIG)
  codes.forEach((code, index) => c.record({ code, index }, T0))
  return c.compute()
}

Vrs('chain risk per kind (§1.1, with the dead penalties made live)', () => {
  assert.is(chainScore(['FORK_DETECTED']).score, 0.1333) // 0.4·min(1, 1/3)
  assert.is(chainScore(['FORK_DETECTED', 'FORK_DETECTED', 'FORK_DETECTED', 'FORK_DETECTED']).score, 0.4)
  assert.is(chainScore(['NONCE_REPLAYED']).score, 0.2) // 0.4·min(1, 1/2)
  assert.is(chainScore(['CHAIN_LINK_BROKEN', 'CHAIN_LINK_BROKEN']).score, 0.3)
  assert.is(chainScore(['SIGNATURE_INVALID']).score, 0.3)
  assert.is(chainScore(['TIMESTAMP_BACKWARDS']).score, 0.1)
  assert.is(chainScore(['CHAIN_GAP']).score, 0.2)
  assert.is(chainScore(['FORK_DETECTED', 'NONCE_REPLAYED', 'NONCE_REPLAYED', 'CHAIN_LINK_BROKEN', 'SIGNATURE_INVALID']).score, 1) // capped
  assert.is(chainScore(['FORK_DETECTED']).floor, 'CRITICAL')
  assert.is(chainScore(['SIGNATURE_INVALID', 'TIMESTAMP_BACKWARDS']).floor, 'ALERT')
  assert.is(chainScore(['TIMESTAMP_BACKWARDS']).floor, 'WATCH')
  assert.is(chainScore([]).floor, null)
  assert.equal(['SIGNATURE_ENCODING', 'AGENT_ID_MISMATCH', 'EVENT_MALFORMED', 'WHATEVER'].map(kindOf), ['bad_signature', 'identity', 'malformed', 'other'])
})

Vrs('the same fault reported twice counts once', () => {
  const c = new ChainRisk(DEFAULT_CONFIG)
  assert.ok(c.record({ code: 'NONCE_REPLAYED', index: 7 }, T0))
  assert.is(c.record({ code: 'NONCE_REPLAYED', index: 7 }, T0), null)
  assert.is(c.compute().counts.replay, 1)
})

Vrs('states: [0, .25) SAFE, [.25, .5) WATCH, [.5, .75) ALERT, ≥ .75 CRITICAL', () => {
  assert.equal([0, 0.2499, 0.25, 0.4999, 0.5, 0.7499, 0.75, 1].map((v) => stateOf(v, DEFAULT_CONFIG)), ['SAFE', 'SAFE', 'WATCH', 'WATCH', 'ALERT', 'ALERT', 'CRITICAL', 'CRITICAL'])
})

Vrs('combination: 0.20·(1 − TS) + 0.35·TSI weight + 0.30·A2C + 0.15·chain', () => {
  const ts = new TrustScoreState(DEFAULT_CONFIG).compute(T0) // 1.0
  const tsi = new TsiTracker(DEFAULT_CONFIG)
  tsi.evaluate(T0, 0.9)
  const watch = tsi.evaluate(T0 + 86_401, 0.8) // −0.10 in 24 h → WATCH
  assert.is(watch.state, 'WATCH')
  const a2c = new A2cState(DEFAULT_CONFIG).compute(T0, { score: 0, peer: null, correlation: 0, matched: 0, agentEvents: 0, peerEvents: 0, anchored: true, pairsChecked: 0 })
  const chain = chainScore(['TIMESTAMP_BACKWARDS'])
  const r = combineVrs('A', { ...ts, score: 0.8 }, watch, { ...a2c, risk: 0.5 }, chain, T0, DEFAULT_CONFIG)
  // 0.2·0.2 + 0.35·0.25 + 0.3·0.5 + 0.15·0.1 = 0.04 + 0.0875 + 0.15 + 0.015
  assert.is(r.vrs, 0.2925)
  assert.is(r.state, 'WATCH')
  assert.equal([r.components.trust.contribution, r.components.tsi.contribution, r.components.a2c.contribution, r.components.chain.contribution], [0.04, 0.0875, 0.15, 0.015])
  assert.ok(r.reasons[r.reasons.length - 1].text.includes('= 0.2925'), r.reasons[r.reasons.length - 1].text)
})

Vrs('clean signed chain: TS 0.85 → VRS 0.03 SAFE (the reference run in vigil.md §1)', () => {
  const { engine, clock } = engineWithClock()
  const { identity, events } = signedChain(6)
  assert.ok(ingest(engine, identity, events, clock).valid)
  const r = engine.vrs(identity.agentId)
  assert.is(r?.components.trust.score, 0.85)
  assert.is(r?.vrs, 0.03)
  assert.is(r?.state, 'SAFE')
})

Vrs('a tampered chain is no longer SAFE (gaps.md #62: the reference said 0.039 SAFE)', () => {
  const { engine, clock } = engineWithClock()
  const { identity, events } = signedChain(6)
  events[3] = { ...events[3], payload: { ...events[3].payload, i: 99 } }
  const report = ingest(engine, identity, events, clock)
  assert.equal(report.errors.map((e) => e.code), ['SIGNATURE_INVALID', 'CHAIN_LINK_BROKEN'])
  const r = engine.vrs(identity.agentId)
  // 4 events passed (0, 1, 2, 5). I = 0.3·0 + 0.25·1 + 0.25·4/5 + 0.2 = 0.65; F = 0 of 3
  assert.is(r?.components.trust.components.I, 0.65)
  assert.is(r?.components.trust.score, 0.745) // 0.3·0.65 + 0.25 + 0.15 + 0 + 0.15
  assert.is(r?.components.chain.score, 0.6) // bad signature 0.3 + link break 0.3
  assert.is(r?.rawVrs, 0.141) // 0.2·0.255 + 0.15·0.6: the formula alone would still say SAFE…
  assert.is(r?.vrs, 0.5) // …so tampering puts a floor at ALERT
  assert.is(r?.state, 'ALERT')
  assert.ok(r?.reasons.some((x) => x.component === 'chain' && x.text.includes('signature')))
  const types = engine.alerts({ agentId: identity.agentId }).map((a) => a.type)
  assert.ok(types.includes('chain_bad_signature') && types.includes('chain_break') && types.includes('vigil_state'), types.join(','))
})

Vrs('a fork forces CRITICAL with VRS ≥ 0.75 (§1 fork override)', () => {
  const { engine, clock } = engineWithClock()
  const { identity, events } = signedChain(4)
  // A second event signed by the agent's own key that claims the same predecessor as event 3.
  const { event: rival } = stampEvent(identity, { event_type: 'step', i: 'rival' }, { previousHash: eventHash(events[2]), timestamp: events[3].timestamp + 60 })
  const report = ingest(engine, identity, [...events, rival], clock)
  assert.ok(report.errors.some((e) => e.code === 'FORK_DETECTED'))
  const r = engine.vrs(identity.agentId)
  assert.is(r?.state, 'CRITICAL')
  assert.ok((r?.vrs ?? 0) >= 0.75)
  assert.is(r?.components.chain.counts.fork, 1)
  assert.is(r?.reasons[0].severity, 'CRITICAL')
  assert.ok(r?.reasons[0].text.startsWith('fork'))
  assert.is(engine.alerts({ agentId: identity.agentId, minSeverity: 'CRITICAL' }).filter((a) => a.type === 'chain_fork').length, 1)
})

Vrs('time going backwards alone lifts a clean agent to WATCH', () => {
  const { engine, clock } = engineWithClock()
  engine.onEvent('A', ev(T0, { event_type: 'step' }))
  clock.now = T0 + 10
  const r = engine.onAnomaly('A', { code: 'TIMESTAMP_BACKWARDS', index: 1, message: 'earlier than previous', at: T0 + 10 })
  assert.is(r.state, 'WATCH')
  assert.is(r.vrs, 0.25)
})

Vrs.run()
