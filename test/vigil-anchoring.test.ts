// Vigil's view of trusted time (hub/vigil/anchoring.ts): events since the last anchor event in the
// summary, and one anchor_overdue alert per episode once an anchoring agent's oldest unanchored event
// has waited past anchorOverdueSeconds; a chain that never anchors is never "overdue".
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { VigilEngine } from '../hub/vigil/index.js'
import { T0, HOUR, ev, engineWithClock } from './vigil-helpers.js'

const Anch = suite('vigil anchoring')
const anchor = (t: number): ReturnType<typeof ev> => ev(t, { event_type: 'anchor', covered: { from: 0, to: 1, count: 2, to_hash: '0'.repeat(64) } })

Anch('pending state in the summary; one WATCH alert when overdue, an INFO when anchored again', () => {
  const { engine, clock } = engineWithClock(T0, { config: { anchorOverdueSeconds: 2 * HOUR } })
  engine.onEvents('A', [ev(T0, { event_type: 'step' }), ev(T0, { event_type: 'step' }), anchor(T0)])
  let row = engine.summary().agents[0]!
  assert.equal({ ...row.anchoring }, { anchors: 1, lastAnchorAt: T0, unanchored: 0, oldestUnanchoredAt: null, pendingSeconds: 0, overdue: false })
  clock.now = T0 + 60
  engine.onEvents('A', [ev(T0 + 60, { event_type: 'step' }), ev(T0 + 61, { event_type: 'step' })])
  row = engine.summary().agents[0]!
  assert.is(row.anchoring.unanchored, 2)
  assert.is(row.anchoring.oldestUnanchoredAt, T0 + 60)
  assert.is(engine.alerts().filter((a) => a.type === 'anchor_overdue').length, 0)
  clock.now = T0 + 60 + 2 * HOUR + 1
  engine.tick()
  engine.tick()
  const overdue = engine.alerts().filter((a) => a.type === 'anchor_overdue')
  assert.equal(overdue.map((a) => a.severity), ['WATCH'])
  assert.is(overdue[0]!.details.unanchored, 2)
  assert.ok(engine.summary().agents[0]!.anchoring.overdue)
  engine.onEvents('A', [anchor(clock.now)])
  assert.equal(engine.alerts().filter((a) => a.type === 'anchor_overdue').map((a) => a.severity), ['INFO', 'WATCH'])
})

Anch('an agent that never anchored is never overdue', () => {
  const { engine, clock } = engineWithClock(T0, { config: { anchorOverdueSeconds: HOUR } })
  engine.onEvents('A', [ev(T0, { event_type: 'step' })])
  clock.now = T0 + 10 * HOUR
  engine.tick()
  assert.is(engine.alerts().filter((a) => a.type === 'anchor_overdue').length, 0)
  assert.is(engine.summary().agents[0]!.anchoring.overdue, false)
})

Anch('the state survives toJSON/fromJSON (no second alert after a hub restart)', () => {
  const { engine, clock } = engineWithClock(T0, { config: { anchorOverdueSeconds: HOUR } })
  engine.onEvents('A', [anchor(T0), ev(T0 + 1, { event_type: 'step' })])
  clock.now = T0 + 2 * HOUR
  engine.tick()
  const restored = VigilEngine.fromJSON(JSON.parse(JSON.stringify(engine.toJSON())), { now: () => clock.now, config: { anchorOverdueSeconds: HOUR } })
  restored.tick()
  assert.is(restored.alerts().filter((a) => a.type === 'anchor_overdue').length, 1)
  assert.equal(restored.summary().agents[0]!.anchoring, engine.summary().agents[0]!.anchoring)
})

Anch.run()
