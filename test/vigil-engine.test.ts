// The engine end to end: incremental result = naive batch recomputation over the same events, restart
// from serialised state, history, summary, TrustGate mapping, bounded state and per-event cost.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { VigilEngine, type VrsReport, type TrustGateUpdate } from '../hub/vigil/index.js'
import { benchVigilDetailed } from '../bench/vigil.js'
import { T0, DAY, HOUR, ev, a2a, engineWithClock, seeded } from './vigil-helpers.js'
import { BatchTsi, batchA2c, batchChain, batchTrust, batchVrs, eventFacts, type BatchAgent } from './vigil-batch.js'
import type { AissEvent } from '../runtime/index.js'

const Engine = suite('vigil engine')

type Item = { t: number, agent: string, event?: AissEvent, anomaly?: { code: string, index: number } }

/** 40 days, three agents: A drifts and concentrates, A and B lock-step at the end, C breaks a silence, B misbehaves. */
function scenario (): Item[] {
  const rnd = seeded(7)
  const items: Item[] = []
  const peersOf: Record<string, string[]> = { A: ['B', 'X', 'Y', 'Z'], B: ['A', 'Y'], C: ['A', 'X', 'Z'] }
  for (const agent of ['A', 'B', 'C']) {
    let t = T0 + Math.floor(rnd() * 600)
    let i = 0
    while (t < T0 + 40 * DAY) {
      if (agent === 'C' && t > T0 + 20 * DAY && t < T0 + 29 * DAY) { t = T0 + 29 * DAY; for (let k = 0; k < 8; k++) items.push({ t: t + k * 200, agent, event: ev(t + k * 200, { event_type: 'step', k }) }); t += 8 * 200 }
      const late = t > T0 + 37 * DAY
      const first = i === 0
      const isA2a = first || rnd() < 0.45
      const peers = peersOf[agent]
      const peer = agent === 'A' && late ? (rnd() < 0.9 ? 'X' : 'Y') : peers[Math.floor(rnd() * peers.length)]
      const verified = agent === 'A' && t > T0 + 35 * DAY ? rnd() < 0.1 : rnd() < 0.8
      const payload: AissEvent['payload'] = isA2a ? { event_type: 'a2a_message', peer_agent_id: first ? peers[0] : peer, ...(verified ? { peer_signature: 'p' } : {}) } : { event_type: 'step', i }
      if (rnd() < 0.2) payload.tsa_token = 'tok'
      items.push({ t, agent, event: ev(t, payload) })
      if (agent === 'A' && t > T0 + 38 * DAY) items.push({ t: t + 2, agent: 'B', event: ev(t + 2, { event_type: 'step', echo: i }) })
      i++
      t += 1800 + Math.floor(rnd() * 3600)
    }
  }
  items.push({ t: T0 + 25 * DAY, agent: 'B', anomaly: { code: 'NONCE_REPLAYED', index: 400 } })
  items.push({ t: T0 + 30 * DAY + 7, agent: 'B', anomaly: { code: 'TIMESTAMP_BACKWARDS', index: 500 } })
  return items.sort((x, y) => x.t - y.t || (x.agent < y.agent ? -1 : 1))
}

function drive (engine: VigilEngine, clock: { now: number }, items: Item[], each: (agents: string[], now: number) => void): void {
  let nextTick = T0 + DAY
  for (const it of items) {
    while (it.t >= nextTick) { clock.now = nextTick; engine.tick(); each(engine.agents().map((a) => a.agentId), nextTick); nextTick += DAY }
    clock.now = it.t + 1
    if (it.event) engine.onEvent(it.agent, it.event); else engine.onAnomaly(it.agent, { ...(it.anomaly as { code: string, index: number }), message: 'x', at: it.t })
    each([it.agent], clock.now)
  }
}

Engine('incremental engine = naive batch recomputation at every evaluation', () => {
  const items = scenario()
  const { engine, clock } = engineWithClock()
  const batch = new Map<string, BatchAgent>()
  const tsi = new Map<string, BatchTsi>()
  const mismatches: string[] = []
  const seen = { conc: 0, ent: 0, sync: 0, sil: 0, chain: 0, tsi: new Set<string>(), states: new Set<string>() }
  let i = 0
  let checks = 0
  const seenItems: Item[] = []
  drive(engine, clock, items, (agents, now) => {
    // Bring the batch's view of the world up to the items the engine has seen.
    while (i < items.length && items[i].t + 1 <= now && seenItems.length < items.length) {
      const it = items[i++]
      seenItems.push(it)
      let b = batch.get(it.agent)
      if (!b) { b = { facts: [], anomalies: [] }; batch.set(it.agent, b); tsi.set(it.agent, new BatchTsi()) }
      if (it.event) b.facts.push(eventFacts(it.event)); else b.anomalies.push(it.anomaly as { code: string, index: number })
    }
    for (const id of agents) {
      const b = batch.get(id) as BatchAgent
      const r = engine.vrs(id) as VrsReport
      const ts = batchTrust(b, now)
      const tsiState = (tsi.get(id) as BatchTsi).next(now, ts)
      const a = batchA2c(id, batch, now)
      const ch = batchChain(b)
      const v = batchVrs(ts, tsiState, a.risk, ch)
      const ind = r.components.a2c.indicators
      const pairs: Array<[string, number | string, number | string]> = [
        ['trust', r.components.trust.score, ts], ['tsi', r.components.tsi.state, tsiState], ['conc', ind.concentration.score, a.conc],
        ['ent', ind.entropy_drop.score, a.ent], ['sync', ind.synchronization.score, a.sync], ['sil', ind.silence_break.score, a.sil],
        ['a2c', r.components.a2c.risk, a.risk], ['chain', r.components.chain.score, ch.score], ['vrs', r.vrs, v.vrs], ['state', r.state, v.state]
      ]
      for (const [name, x, y] of pairs) {
        const bad = typeof x === 'number' ? Math.abs(x - (y as number)) > 1e-4 : x !== y
        if (bad && mismatches.length < 10) mismatches.push(`${id} @${now - T0}: ${name} engine ${x} batch ${y}`)
      }
      checks++
      if (a.conc > 0) seen.conc++
      if (a.ent > 0) seen.ent++
      if (a.sync > 0) seen.sync++
      if (a.sil > 0) seen.sil++
      if (ch.score > 0) seen.chain++
      seen.tsi.add(tsiState); seen.states.add(v.state)
    }
  })
  assert.equal(mismatches, [], mismatches.join('\n'))
  // The comparison is only worth something if the scenario moved every indicator.
  assert.ok(checks > 2000, `only ${checks} checks`)
  assert.ok(seen.conc > 0 && seen.ent > 0 && seen.sync > 0 && seen.sil > 0 && seen.chain > 0, JSON.stringify({ ...seen, tsi: [...seen.tsi] }))
  assert.ok(seen.tsi.size >= 2, [...seen.tsi].join(','))
  assert.ok(seen.states.size >= 2, [...seen.states].join(','))
})

Engine('restart from serialised state gives the same results as never stopping', () => {
  const items = scenario()
  const half = Math.floor(items.length / 2)
  const a = engineWithClock()
  drive(a.engine, a.clock, items.slice(0, half), () => {})
  const saved = JSON.stringify(a.engine.toJSON())
  const clock = { now: a.clock.now }
  const b = VigilEngine.fromJSON(JSON.parse(saved), { now: () => clock.now })
  assert.equal(b.toJSON(), JSON.parse(saved))
  drive(a.engine, a.clock, items.slice(half), () => {})
  drive(b, clock, items.slice(half), () => {})
  for (const { agentId } of a.engine.agents()) {
    assert.equal(b.vrs(agentId), a.engine.vrs(agentId), agentId)
    assert.equal(b.history(agentId), a.engine.history(agentId))
  }
  assert.equal(b.alerts(), a.engine.alerts())
  assert.equal(b.summary(), a.engine.summary())
})

Engine('history: one point per 10 min with worst and last, 30-day retention, downsampling keeps the spike', () => {
  const { engine, clock } = engineWithClock()
  const slot = Math.floor(T0 / 600) * 600 // a 10-minute slot
  for (let k = 0; k < 6; k++) { clock.now = slot + k * 60; engine.onEvent('A', ev(clock.now, { event_type: 'step' })) }
  clock.now = slot + 400
  engine.onAnomaly('A', { code: 'FORK_DETECTED', index: 9 })
  const pts = engine.history('A')
  assert.is(pts.length, 1)
  assert.is(pts[0].worst, 'CRITICAL')
  assert.is(pts[0].samples, 7)
  for (let d = 1; d <= 40; d++) { clock.now = T0 + d * DAY; engine.tick() }
  const all = engine.history('A')
  assert.ok(all[0].t + all[0].span > clock.now - 30 * DAY, 'older than 30 days kept')
  // Tiers: 10-minute points only within the last 24 h (+ one slot), hourly points before them.
  const fine = all.filter((p) => p.span === 600)
  const coarse = all.filter((p) => p.span === 3600)
  assert.is(fine.length + coarse.length, all.length)
  assert.ok(fine.every((p) => p.t + 600 > clock.now - DAY), JSON.stringify(fine))
  assert.ok(coarse.every((p) => p.t < fine[0].t))
  assert.equal([coarse.length, fine.length], [29, 2]) // daily ticks: days −30…−2 hourly, yesterday's and today's slots
  assert.is(engine.history('A', { since: clock.now - 2 * DAY - 1 }).length, 3)
  const down = engine.history('A', { maxPoints: 4 })
  assert.ok(down.length <= 4)
  assert.ok(down.every((p) => p.worst === 'CRITICAL')) // the fork never leaves, and merging never hides it
})

Engine('summary: sorted by VRS, weighted global VRS, peers from payloads, active alerts', () => {
  const { engine, clock } = engineWithClock()
  engine.onEvent('good', ev(T0, { event_type: 'a2a_message', peer_agent_id: 'p1', peer_signature: 'x' }), { name: 'Good bot' })
  engine.onEvent('bad', ev(T0, { event_type: 'step' }))
  clock.now = T0 + 5
  engine.onAnomaly('bad', { code: 'FORK_DETECTED', index: 3 })
  const s = engine.summary()
  assert.equal(s.agents.map((a) => a.agentId), ['bad', 'good'])
  assert.is(s.agents[1].name, 'Good bot')
  assert.equal(s.agents[1].peers, [['p1', 1]]) // gaps.md #65: the reference's list was always empty
  assert.is(s.agents[0].chainLabel, 'FORKED IDENTITY')
  const good = s.agents[1].vrs; const bad = s.agents[0].vrs
  assert.is(s.globalVrs, Math.round((bad * 4 + good * 1) / 5 * 1e4) / 1e4)
  assert.equal(s.counts, { SAFE: 1, WATCH: 0, ALERT: 0, CRITICAL: 1 })
  assert.is(s.installationState, 'ALERT') // one CRITICAL agent is never diluted below ALERT
  assert.ok(s.activeAlerts.length > 0 && s.activeAlerts.every((a) => a.severity === 'CRITICAL' || a.severity === 'HIGH'))
})

Engine('TrustGate push: VRS the right way round (gaps.md #56), only on change, forks as CRITICAL', () => {
  const pushes: TrustGateUpdate[] = []
  const { engine, clock } = engineWithClock(T0, { onVrsChange: (u) => pushes.push(u) })
  for (let k = 0; k < 5; k++) { clock.now = T0 + k; engine.onEvent('A', ev(T0 + k, { event_type: 'step' })) }
  const calm = pushes[pushes.length - 1]
  assert.is(calm.vrs, 0.03)
  assert.is(calm.vigil_state, 'SAFE')
  assert.is(calm.tsi_state, 'STABLE') // the reference sent "CRITICAL" for this healthy agent
  assert.is(calm.trust_score, 0.85) // the trust score, not the VRS
  assert.is(calm.alert_level, 'none')
  assert.is(pushes.length, 1) // the first score, then nothing changed
  engine.onAnomaly('A', { code: 'FORK_DETECTED', index: 5 })
  const fork = pushes[pushes.length - 1]
  assert.equal([fork.vigil_state, fork.tsi_state, fork.alert_level, fork.fork_detected], ['CRITICAL', 'CRITICAL', 'critical', true])
  assert.ok(fork.vrs >= 0.75)
  assert.equal(engine.trustGateState('A'), fork)
})

Engine('a callback that throws never breaks scoring', () => {
  const errors: unknown[] = []
  const { engine } = engineWithClock(T0, { onVrsChange: () => { throw new Error('network down') }, onAlert: () => { throw new Error('x') }, onCallbackError: (e) => errors.push(e) })
  engine.onEvent('A', ev(T0, { event_type: 'step' }))
  engine.onAnomaly('A', { code: 'FORK_DETECTED', index: 1 })
  assert.is(engine.vrs('A')?.state, 'CRITICAL')
  assert.ok(errors.length >= 2)
  assert.is(engine.callbackErrors, errors.length)
})

Engine('argument checks', () => {
  const { engine } = engineWithClock()
  assert.throws(() => engine.onEvent('', ev(T0, {})), (e: Error) => e instanceof TypeError && /agentId/.test(e.message))
  assert.throws(() => engine.onEvent('A', null as unknown as AissEvent), (e: Error) => e instanceof TypeError && /event/.test(e.message))
  assert.throws(() => engine.onAnomaly('A', { code: '' }), (e: Error) => e instanceof TypeError && /anomaly/.test(e.message))
  assert.throws(() => new VigilEngine({ config: { shortBucket: 0 } }), (e: Error) => e instanceof RangeError && /shortBucket/.test(e.message))
  assert.throws(() => VigilEngine.fromJSON({ version: 99 } as never), (e: Error) => e instanceof TypeError && /version/.test(e.message))
  const bad = new VigilEngine({ now: () => NaN })
  assert.throws(() => bad.onEvent('A', ev(T0, {})), (e: Error) => e instanceof TypeError && /clock/.test(e.message))
  assert.is(engine.vrs('nobody'), undefined)
  assert.equal(engine.history('nobody'), [])
})

Engine('state stays bounded over 60 days and per-event cost stays flat (numbers logged, not asserted)', () => {
  const d30 = benchVigilDetailed(2 * 30 * 144, 2, 600) // 2 agents, one event each per 10 min, 30 days
  const d60 = benchVigilDetailed(2 * 60 * 144, 2, 600)
  // Windows, TSI snapshots and history are capped by time, not by chain length.
  assert.ok(d60.stateBytes < d30.stateBytes * 1.25, `state grew from ${d30.stateBytes} to ${d60.stateBytes} bytes`)
  console.log(`  vigil: 60 days × 2 agents: ${d60.eventsPerSecond} events/s, µs/event by decile ${d60.microsPerEventByDecile.join(' ')}, state ${d60.stateBytes} B (30 days: ${d30.stateBytes} B)`)
})

Engine('onEvents (one ingest batch) ends in the same report as onEvent per event', () => {
  const events = Array.from({ length: 200 }, (_, k) => k % 7 === 0 ? a2a(T0 + k, 'PEER' + (k % 3)) : ev(T0 + k, { event_type: k % 2 ? 'move' : 'sense', k }))
  const one = engineWithClock(T0 + 300); const many = engineWithClock(T0 + 300)
  for (const e of events) one.engine.onEvent('A', e)
  many.engine.onEvents('A', events)
  const strip = (r: VrsReport | undefined): unknown => r && { vrs: r.vrs, state: r.state, components: r.components }
  assert.equal(strip(many.engine.vrs('A')), strip(one.engine.vrs('A')))
  assert.ok((one.engine.vrs('A') as VrsReport).components.a2c.risk >= 0)
})

Engine.run()
