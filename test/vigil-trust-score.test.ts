// Trust score (vigil.md §2) against values computed by hand from the spec's formulas.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_CONFIG, TrustScoreState, eventFacts } from '../hub/vigil/index.js'
import { T0, DAY, ev, a2a, close } from './vigil-helpers.js'
import type { AissEvent } from '../runtime/index.js'

const Trust = suite('vigil trust score')

function score (events: AissEvent[], now: number, patch: (s: TrustScoreState) => void = () => {}): ReturnType<TrustScoreState['compute']> {
  const s = new TrustScoreState(DEFAULT_CONFIG)
  for (const e of events) s.onEvent(eventFacts(e))
  patch(s)
  return s.compute(now)
}

const cleanChain = (): AissEvent[] => [ev(T0, { event_type: 'genesis' }), ...[1, 2, 3, 4, 5].map((i) => ev(T0 + i, { event_type: 'step', i }))]

Trust('no events: 1.0 Elite', () => {
  const r = score([], T0)
  assert.is(r.score, 1)
  assert.is(r.tier, 'Elite')
})

Trust('clean 6-event chain without TSA: I=V=D=R=1, F=0 → 0.85 (the reference run in vigil.md §1)', () => {
  const r = score(cleanChain(), T0 + 10)
  assert.equal(r.components, { I: 1, V_t: 1, D_t: 1, F: 0, R: 1 })
  assert.is(r.score, 0.85)
  assert.is(r.tier, 'A')
  assert.equal(r.details.F, { eligible: 5, finalized: 0 }) // genesis is not expected to be finalised
})

Trust('F counts trusted_timestamp tokens (gaps.md #64): 2 of 5 → F 0.4, TS 0.91', () => {
  const evs = cleanChain()
  evs[1] = ev(T0 + 1, { event_type: 'step' }, { trusted_timestamp: { rfc3161_token: 'MIIB', tsa_id: 'x', timestamp: T0 + 1 } })
  evs[2] = ev(T0 + 2, { event_type: 'step', tsa_token: 'tok' })
  const r = score(evs, T0 + 10)
  assert.is(r.components.F, 0.4)
  assert.is(r.score, 0.91) // 0.30 + 0.25 + 0.15 + 0.15·0.4 + 0.15
  assert.is(r.tier, 'A+')
})

Trust('V_t weights by age with a 30-day half-life: verified at T0, unverified at T0+30d → 1/3', () => {
  const now = T0 + 30 * DAY
  const r = score([a2a(T0, 'p1', true), a2a(T0 + 30 * DAY, 'p2', false)], now)
  // weights 0.5 and 1: V_t = 0.5 / 1.5. D_t: two peers once each → entropy 1. F: 0 of 2.
  assert.ok(close(r.components.V_t, 0.3333))
  assert.is(r.components.D_t, 1)
  assert.is(r.score, 0.6833) // 0.30 + 0.25/3 + 0.15 + 0 + 0.15
  assert.is(r.tier, 'At Risk')
})

Trust('D_t is normalised Shannon entropy of peers: p1×2, p2, p3 → 1.5 / log2 3', () => {
  const r = score([a2a(T0, 'p1', true), a2a(T0 + 1, 'p1', true), a2a(T0 + 2, 'p2', true), a2a(T0 + 3, 'p3', true)], T0 + 10)
  const d = 1.5 / Math.log2(3)
  assert.is(r.components.D_t, Math.round(d * 1e4) / 1e4)
  assert.is(r.components.V_t, 1)
  assert.is(r.score, Math.round((0.30 + 0.25 + 0.15 * d + 0.15) * 1e4) / 1e4)
  assert.is(r.details.D_t.uniquePeers, 3)
})

Trust('D_t: a single peer scores 0; interactions older than 30 days leave the window', () => {
  const r = score([a2a(T0, 'p1', true), a2a(T0 + 1, 'p1', true)], T0 + 10)
  assert.is(r.components.D_t, 0)
  assert.is(r.score, 0.7)
  const later = score([a2a(T0, 'p1', true), a2a(T0 + 1, 'p1', true)], T0 + 31 * DAY)
  assert.is(later.components.D_t, 1) // nothing in the window → 1.0, as the spec says for "none"
  assert.is(later.details.D_t.interactions, 0)
})

Trust('events that are not A2A types leave V_t and D_t at 1', () => {
  const r = score([ev(T0, { event_type: 'decision', peer_hint: 'x' })], T0)
  assert.is(r.components.V_t, 1)
  assert.is(r.components.D_t, 1)
})

Trust('rotations: attested + unattested-too-soon → R 0.55, rotation score 0.5, TS 0.9025', () => {
  const r = score([
    ev(T0, { event_type: 'key_rotation', rotation_attestation: { rotation_signature: 'x' } }),
    ev(T0 + 3 * DAY, { event_type: 'key_rotation' })
  ], T0 + 4 * DAY)
  assert.is(r.components.R, 0.55) // (1 + (1 − 0.6 − 0.3)) / 2
  assert.is(r.details.I.rotationScore, 0.5)
  assert.is(r.components.I, 0.9) // 0.3 + 0.25 + 0.25 + 0.2·0.5
  assert.is(r.components.F, 1) // rotations are not eligible for finalisation
  assert.is(r.score, 0.9025)
})

Trust('the reference\'s own rotation event (new key, signed by the old one) counts as attested (gaps.md #14)', () => {
  const r = score([ev(T0, { event_type: 'key_rotation', attestation_type: 'key_rotation', new_agent_id: 'B', new_public_key: 'AAAA' })], T0)
  assert.is(r.components.R, 1)
  assert.is(r.details.I.rotationScore, 1)
})

Trust('integrity: a link break zeroes hash_chain (not 0.5), invalid signatures and forks count', () => {
  const r = score(cleanChain(), T0 + 10, (s) => { s.linkBreaks = 1; s.invalidSignatures = 1; s.forks = 1 })
  const I = 0.3 * 0 + 0.25 * 0.8 + 0.25 * (6 / 7) + 0.2 * 1
  assert.is(r.details.I.hashChain, 0)
  assert.is(r.components.I, Math.round(I * 1e4) / 1e4)
  assert.is(r.score, Math.round((0.3 * I + 0.25 + 0.15 + 0 + 0.15) * 1e4) / 1e4) // 0.7343
  assert.is(r.score, 0.7343)
})

Trust('tiers', async () => {
  const { tierOf } = await import('../hub/vigil/index.js')
  assert.equal([0.95, 0.9499, 0.9, 0.8, 0.7, 0.6999].map(tierOf), ['Elite', 'A+', 'A+', 'A', 'B', 'At Risk'])
})

Trust('state round-trips through JSON', () => {
  const s = new TrustScoreState(DEFAULT_CONFIG)
  for (const e of [a2a(T0, 'p1', true), a2a(T0 + 5, 'p2', false), ev(T0 + 9, { event_type: 'key_rotation' })]) s.onEvent(eventFacts(e))
  const copy = TrustScoreState.fromJSON(JSON.parse(JSON.stringify(s.toJSON())), DEFAULT_CONFIG)
  assert.equal(copy.compute(T0 + DAY), s.compute(T0 + DAY))
})

Trust.run()
