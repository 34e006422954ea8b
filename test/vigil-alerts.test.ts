// Alert journal (vigil.md §5): raised on changes, with severity, acknowledged once by an operator, bounded.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AlertJournal, ALERT_NOT_FOUND } from '../hub/vigil/index.js'
import { PcpError } from '../runtime/index.js'
import { T0, HOUR, ev, a2a, engineWithClock } from './vigil-helpers.js'

const Alerts = suite('vigil alerts')

Alerts('state changes raise one alert each way; an unchanged state raises nothing', () => {
  const { engine, clock } = engineWithClock()
  engine.onEvent('A', ev(T0, { event_type: 'step' }))
  assert.is(engine.alerts().length, 0) // SAFE from the start
  clock.now = T0 + 1
  engine.onAnomaly('A', { code: 'TIMESTAMP_BACKWARDS', index: 1, message: 'back in time' })
  const kinds = engine.alerts().map((a) => `${a.type}:${a.severity}`)
  assert.equal(kinds, ['vigil_state:WATCH', 'chain_timestamp_anomaly:MEDIUM']) // newest first
  for (let k = 2; k < 6; k++) { clock.now = T0 + k; engine.onEvent('A', ev(T0 + k, { event_type: 'step' })) }
  assert.is(engine.alerts().length, 2)
  engine.onAnomaly('A', { code: 'FORK_DETECTED', index: 6 })
  const top = engine.alerts({ minSeverity: 'CRITICAL' })
  assert.equal(top.map((a) => a.type).sort(), ['chain_fork', 'vigil_state'])
  assert.ok(top.every((a) => a.agentId === 'A' && a.at === T0 + 5))
})

Alerts('TSI drift and A2C indicators alert when they get worse', () => {
  const { engine, clock } = engineWithClock()
  for (let k = 0; k < 10; k++) { clock.now = T0 + k; engine.onEvent('A', a2a(T0 + k, 'p1', true)) }
  const a2cAlerts = engine.alerts({ agentId: 'A' }).filter((a) => a.type === 'a2c')
  assert.equal(a2cAlerts.map((a) => [a.details.indicator, a.severity]), [['concentration', 'CRITICAL']]) // all to one peer
  for (let h = 1; h <= 30; h++) { clock.now = T0 + h * HOUR; engine.tick() } // a flat 30-hour baseline at TS 0.70
  assert.equal(engine.alerts({ agentId: 'A' }).map((a) => a.type), ['a2c'])
  engine.onAnomaly('A', { code: 'SIGNATURE_INVALID', index: 11 })
  engine.onAnomaly('A', { code: 'CHAIN_LINK_BROKEN', index: 12 }) // TS 0.70 → 0.6027: z ≈ 9.7 > 3
  const drift = engine.alerts({ agentId: 'A' }).filter((a) => a.type === 'tsi_drift')
  assert.is(drift.length, 1)
  assert.is(drift[0].severity, 'ALERT')
  assert.is(drift[0].details.tsi_state, 'UNSTABLE')
})

Alerts('acknowledge: first principal wins, unknown id is a coded error, bad arguments are TypeErrors', () => {
  const { engine, clock } = engineWithClock()
  engine.onAnomaly('A', { code: 'NONCE_REPLAYED', index: 3 })
  const [alert] = engine.alerts({ minSeverity: 'CRITICAL', limit: 1 })
  clock.now = T0 + 60
  const acked = engine.acknowledge(alert.id, 'alice')
  assert.equal(acked.acknowledged, { by: 'alice', at: T0 + 60 })
  clock.now = T0 + 120
  assert.equal(engine.acknowledge(alert.id, 'mallory').acknowledged, { by: 'alice', at: T0 + 60 })
  assert.ok(engine.alerts({ unacknowledged: true }).every((a) => a.id !== alert.id))
  try {
    engine.acknowledge('a999', 'alice')
    assert.unreachable('should throw')
  } catch (err) {
    assert.instance(err, PcpError)
    assert.is((err as PcpError).code, ALERT_NOT_FOUND)
    assert.is((err as PcpError).key, 'a999')
  }
  assert.throws(() => engine.acknowledge(alert.id, '  '), (e: Error) => e instanceof TypeError && /principal/.test(e.message))
  assert.throws(() => engine.alerts({ minSeverity: 'LOUD' as never }), (e: Error) => e instanceof RangeError && /minSeverity/.test(e.message))
})

Alerts('journal is bounded per agent (FIFO) and round-trips through JSON', () => {
  const j = new AlertJournal(3)
  for (let i = 0; i < 5; i++) j.raise('A', 'chain_gap', 'MEDIUM', `gap ${i}`, {}, T0 + i)
  j.raise('B', 'chain_fork', 'CRITICAL', 'fork', {}, T0 + 9)
  assert.equal(j.list({ agentId: 'A' }).map((a) => a.message), ['gap 4', 'gap 3', 'gap 2'])
  assert.is(j.get('a1'), undefined)
  assert.is(j.worstOpen('B'), 'CRITICAL')
  assert.equal(j.list({ since: T0 + 4 }).map((a) => a.id), ['a6', 'a5'])
  j.acknowledge('a6', 'ops', T0 + 10)
  assert.is(j.worstOpen('B'), null)
  const copy = AlertJournal.fromJSON(JSON.parse(JSON.stringify(j.toJSON())), 3)
  assert.equal(copy.list(), j.list())
  assert.is(copy.raise('C', 'chain_gap', 'MEDIUM', 'x', {}, T0).id, 'a7') // ids never reused after a restart
})

Alerts('an A2A interaction the two chains record differently raises a HIGH alert and floors the state at ALERT', () => {
  const { engine } = engineWithClock()
  engine.onEvent('A', ev(T0, { event_type: 'tick' }))
  const r = engine.onAnomaly('A', { code: 'INTERACTION_MISMATCH', index: -1, message: 'peer recorded another payload_hash' })
  assert.is(r.state, 'ALERT')
  const alert = engine.alerts({ agentId: 'A' }).find((a) => a.type === 'chain_interaction_mismatch')
  assert.ok(alert, 'alert raised')
  assert.is(alert!.severity, 'HIGH')
  const u = engine.onAnomaly('B', { code: 'INTERACTION_UNCONFIRMED', index: -1, message: 'no counterpart' })
  assert.is(u.state, 'WATCH')
})

Alerts.run()
