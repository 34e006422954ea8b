// A2C coordination risk (vigil.md §4): each indicator and the weighted combination by hand.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { A2cState, DEFAULT_CONFIG, a2cSeverity, eventFacts } from '../hub/vigil/index.js'
import { T0, DAY, HOUR, ev, a2a, engineWithClock, close } from './vigil-helpers.js'
import type { AissEvent } from '../runtime/index.js'

const A2c = suite('vigil a2c')
const NO_SYNC = { score: 0, peer: null, correlation: 0, matched: 0, agentEvents: 0, peerEvents: 0, anchored: true, pairsChecked: 0 }

function run (events: AissEvent[], now: number): ReturnType<A2cState['compute']> {
  const s = new A2cState(DEFAULT_CONFIG)
  for (const e of events) s.onEvent(eventFacts(e))
  return s.compute(now, NO_SYNC)
}

/** Normalised Shannon entropy, written out independently of window.ts. */
function entropy (counts: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0)
  if (counts.length <= 1) return 0
  return -counts.reduce((h, c) => h + (c / n) * Math.log2(c / n), 0) / Math.log2(counts.length)
}

A2c('severity scale', () => {
  assert.equal([0, 0.2499, 0.25, 0.5, 0.7, 0.9, 1].map(a2cSeverity), ['NONE', 'NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'CRITICAL'])
})

A2c('concentration: 8 of 10 interactions with one peer in 48 h → (0.8 − 0.7) / 0.3; A2C 0.1', () => {
  const events = [...Array(8)].map((_, i) => a2a(T0 + i, 'p1')).concat([a2a(T0 + 8, 'p2'), a2a(T0 + 9, 'p2')])
  const r = run(events, T0 + 60)
  assert.is(r.indicators.concentration.score, 0.3333)
  assert.is(r.indicators.concentration.severity, 'LOW')
  assert.is(r.risk, 0.1) // 0.30 × 0.3333
  assert.is(r.indicators.concentration.details.top_peer, 'p1')
  // 70 % exactly is not concentration; and after 48 h the window is empty.
  assert.is(run([...Array(7)].map((_, i) => a2a(T0 + i, 'p1')).concat([...Array(3)].map((_, i) => a2a(T0 + 7 + i, 'p2'))), T0 + 60).indicators.concentration.score, 0)
  assert.is(run(events, T0 + 49 * HOUR).indicators.concentration.score, 0)
})

A2c('entropy drop: 30-day mix vs a narrower 48 h mix, linear part (Δ ≤ 0.40)', () => {
  const old = [['p1', 1], ['p2', 2], ['p3', 4], ['p4', 4]] as const
  const events: AissEvent[] = []
  let t = T0
  for (const [p, n] of old) for (let i = 0; i < n; i++) events.push(a2a(t++, p))
  const now = T0 + 10 * DAY
  for (const p of ['p1', 'p1', 'p1', 'p2']) events.push(a2a(now - 100 + events.length, p))
  const r = run(events, now)
  const hLong = entropy([4, 3, 4, 4]) // 0.99495
  const hShort = entropy([3, 1]) // 0.811278
  assert.ok(close(r.indicators.entropy_drop.details.entropy_long as number, hLong))
  assert.ok(close(r.indicators.entropy_drop.details.entropy_short as number, hShort))
  assert.is(r.indicators.entropy_drop.score, Math.round((hLong - hShort) / 0.40 * 0.5 * 1e4) / 1e4) // 0.2296
  assert.is(r.indicators.entropy_drop.score, 0.2296)
})

A2c('entropy drop: collapse to one peer saturates at 1; fewer than 5 long events → 0; silence is not a drop', () => {
  const events: AissEvent[] = []
  for (const p of ['p1', 'p2', 'p3', 'p4', 'p1', 'p2', 'p3', 'p4']) events.push(a2a(T0 + events.length, p))
  const now = T0 + 5 * DAY
  const burst = [0, 1, 2, 3].map((i) => a2a(now - 10 + i, 'p1'))
  const r = run([...events, ...burst], now)
  assert.is(r.indicators.entropy_drop.score, 1) // Δ = 0.896 → min(1, 0.5 + (Δ − 0.4)·2)
  assert.is(r.indicators.concentration.score, 1)
  assert.is(r.risk, 0.55) // 0.30·1 + 0.25·1
  assert.is(r.severity, 'MEDIUM')
  assert.is(run([a2a(T0, 'p1'), a2a(T0 + 1, 'p2'), a2a(T0 + 2, 'p1'), a2a(T0 + 3, 'p1')], T0 + 10).indicators.entropy_drop.score, 0)
  assert.is(run(events, now).indicators.entropy_drop.score, 0) // no interaction in 48 h (ours; the reference scored it)
})

A2c('silence break: 14 days of silence then 8 events within an hour', () => {
  const burst = (anchored: boolean): AissEvent[] => [ev(T0, { event_type: 'step' }), ...[...Array(8)].map((_, i) => ev(T0 + 14 * DAY + i * 60, anchored ? { event_type: 'step', tsa_token: 't' } : { event_type: 'step' }))]
  const full = 0.4 * (14 / 21) + 0.6 * ((8 - 5) / 5) // 0.62667
  const anchored = run(burst(true), T0 + 15 * DAY)
  assert.is(anchored.indicators.silence_break.score, Math.round(full * 1e4) / 1e4)
  assert.is(anchored.indicators.silence_break.severity, 'MEDIUM')
  const unanchored = run(burst(false), T0 + 15 * DAY)
  assert.is(unanchored.indicators.silence_break.score, Math.round(full / 2 * 1e4) / 1e4) // halved
  assert.is(unanchored.risk, Math.round(0.2 * Math.round(full / 2 * 1e4) / 1e4 * 1e4) / 1e4)
  // 4 events after the silence is under the burst minimum of 5.
  assert.is(run(burst(true).slice(0, 5), T0 + 15 * DAY).indicators.silence_break.score, 0)
})

A2c('synchronisation across agents: lock-step events within ±5 s (via the engine)', () => {
  for (const anchored of [false, true]) {
    const { engine, clock } = engineWithClock()
    const extra: Record<string, string> = anchored ? { tsa_token: 't' } : {}
    for (let i = 0; i < 10; i++) {
      const t = T0 + i * 120
      clock.now = t + 3
      engine.onEvent('A', ev(t, { event_type: 'a2a_message', peer_agent_id: 'B', ...extra }))
      engine.onEvent('B', ev(t + 2, { event_type: 'step', ...extra }))
    }
    const sync = engine.vrs('A')?.components.a2c.indicators.synchronization
    assert.is(sync?.details.correlation, 1)
    assert.is(sync?.details.peer, 'B')
    assert.is(sync?.score, anchored ? 1 : 0.5) // (1 − 0.92) / 0.08, halved when unanchored
    // B never names A, but the pair is shared: B's own report sees the same synchrony.
    assert.is(engine.vrs('B')?.components.a2c.indicators.synchronization.score, anchored ? 1 : 0.5)
  }
})

A2c('synchronisation: events 60 s apart do not correlate', () => {
  const { engine, clock } = engineWithClock()
  for (let i = 0; i < 10; i++) {
    const t = T0 + i * 120
    clock.now = t + 61
    engine.onEvent('A', ev(t, { event_type: 'a2a_message', peer_agent_id: 'B' }))
    engine.onEvent('B', ev(t + 60, { event_type: 'step' }))
  }
  const sync = engine.vrs('A')?.components.a2c.indicators.synchronization
  assert.is(sync?.score, 0)
  assert.is(sync?.details.matched, 0)
})

A2c('AgentSession interactions (any event_type with peer_agent_id) count as A2A for A2C only', () => {
  const r = run([...Array(5)].map((_, i) => ev(T0 + i, { event_type: 'task_done', peer_agent_id: 'p1' })), T0 + 10)
  assert.is(r.indicators.concentration.score, 1)
})

A2c.run()
