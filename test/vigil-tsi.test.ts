// Trust Stability Index (vigil.md §3) with the fixes of gaps.md #61/#63: hand-computed baselines, the
// full STABLE → WATCH → UNSTABLE → CRITICAL path, no oscillation, signed drift, one snapshot per slot.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_CONFIG, TsiTracker, type TsiResult } from '../hub/vigil/index.js'
import { T0, DAY, HOUR } from './vigil-helpers.js'

const Tsi = suite('vigil tsi')

Tsi('baseline mean and sample stdev of earlier slots; z = (mean − current) / std', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  assert.is(t.evaluate(T0, 0.80).state, 'STABLE')
  assert.is(t.evaluate(T0 + HOUR, 0.90).baselineCount, 1)
  const r = t.evaluate(T0 + 2 * HOUR, 0.70)
  assert.is(r.baselineMean, 0.85)
  assert.is(r.baselineStd, 0.0707) // sqrt((0.05² + 0.05²) / 1)
  assert.is(r.zScore, 2.1213) // 0.15 / 0.070711
  assert.is(r.state, 'WATCH') // 1.8 < z ≤ 3
  assert.is(r.delta24h, null)
})

Tsi('a fall of more than 0.15 in 24 h is UNSTABLE, more than 0.08 is WATCH', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  t.evaluate(T0, 0.85)
  const r = t.evaluate(T0 + DAY + 1, 0.69)
  assert.is(r.delta24h, -0.16)
  assert.is(r.state, 'UNSTABLE')
  const w = new TsiTracker(DEFAULT_CONFIG)
  w.evaluate(T0, 0.85)
  assert.is(w.evaluate(T0 + DAY + 1, 0.76).state, 'WATCH') // −0.09
})

Tsi('polling does not pollute the baseline: one snapshot per hour slot (gaps.md #61)', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  let r: TsiResult | undefined
  for (let i = 0; i < 100; i++) r = t.evaluate(T0 + i, 0.85)
  assert.is(r?.snapshotCount, 1)
  assert.is(r?.baselineCount, 0)
})

Tsi('an improving trust score is not drift (signed z, gaps.md #63)', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  for (let h = 0; h < 48; h++) t.evaluate(T0 + h * HOUR, 0.80)
  const r = t.evaluate(T0 + 48 * HOUR, 0.99)
  assert.ok((r.zScore ?? 0) < 0)
  assert.is(r.state, 'STABLE')
})

Tsi('the stdev floor keeps a flat history from turning a 0.005 wobble into 3σ drift', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  for (let h = 0; h < 48; h++) t.evaluate(T0 + h * HOUR, 0.85)
  const r = t.evaluate(T0 + 48 * HOUR, 0.845)
  assert.is(r.zScore, 0.5) // 0.005 / 0.01
  assert.is(r.state, 'STABLE')
})

Tsi('WATCH → UNSTABLE arms the 48 h timer, CRITICAL is reached and holds, STABLE clears it (gaps.md #63)', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  let h = 0
  const at = (): number => T0 + h * HOUR
  for (; h < 30 * 24; h++) assert.is(t.evaluate(at(), 0.85).state, 'STABLE')
  const watch = t.evaluate(at(), 0.83); h++
  assert.is(watch.state, 'WATCH') // z = 0.02 / 0.01 = 2
  assert.is(watch.unstableSince, null)
  const unstable = t.evaluate(at(), 0.60); h++
  assert.is(unstable.state, 'UNSTABLE')
  assert.is(unstable.previousState, 'WATCH')
  const armedAt = unstable.unstableSince
  assert.is(armedAt, at() - HOUR) // armed on WATCH → UNSTABLE, which the reference never did
  const seen: string[] = []
  for (let k = 0; k < 52; k++, h++) seen.push(t.evaluate(at(), 0.60).state)
  const firstCritical = seen.indexOf('CRITICAL')
  assert.ok(firstCritical > 0, `never reached CRITICAL: ${seen.join(',')}`)
  // CRITICAL exactly once more than 48 h have passed since arming, and then it holds (no flip back).
  assert.is(T0 + (30 * 24 + 2 + firstCritical) * HOUR - (armedAt as number) > 48 * HOUR, true)
  assert.is(T0 + (30 * 24 + 1 + firstCritical) * HOUR - (armedAt as number) > 48 * HOUR, false)
  assert.ok(seen.slice(0, firstCritical).every((s) => s === 'UNSTABLE'))
  assert.ok(seen.slice(firstCritical).every((s) => s === 'CRITICAL'), seen.join(','))
  const back = t.evaluate(at(), 0.85)
  assert.is(back.state, 'STABLE')
  assert.is(back.unstableSince, null)
})

Tsi('snapshots older than 30 days leave the baseline; state round-trips through JSON', () => {
  const t = new TsiTracker(DEFAULT_CONFIG)
  t.evaluate(T0, 0.2)
  for (let h = 1; h < 10; h++) t.evaluate(T0 + 31 * DAY + h * HOUR, 0.9)
  const copy = TsiTracker.fromJSON(JSON.parse(JSON.stringify(t.toJSON())), DEFAULT_CONFIG)
  const r = t.evaluate(T0 + 31 * DAY + 10 * HOUR, 0.9)
  assert.is(r.baselineCount, 9)
  assert.is(r.baselineMean, 0.9)
  assert.equal(copy.evaluate(T0 + 31 * DAY + 10 * HOUR, 0.9), r)
})

Tsi.run()
