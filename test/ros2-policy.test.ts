import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkPolicy, policyFields, Sampler, DEFAULT_MAX_WINDOW, type ClosedWindow } from '../ros2/policy.js'
import { manualClock } from './ros2-helpers.js'

const P = suite('ros2 policy (sampling of high-rate endpoints; time from a test clock)')
const h = (i: number): string => i.toString(16).padStart(64, '0')

function run (policy: unknown, count: number, stepMs = 10) {
  const clock = manualClock()
  const windows: ClosedWindow[] = []
  const s = new Sampler(checkPolicy(policy), clock, (w) => windows.push(w))
  const stamped: Array<{ seq: number, skipped: number }> = []
  for (let seq = 1; seq <= count; seq++) {
    const o = s.offer(seq, h(seq), BigInt(seq) * 1_000_000n)
    if (o.stamp) stamped.push({ seq, skipped: o.skipped })
    clock.advance(stepMs)
  }
  return { stamped, windows, s, clock }
}

P('every: one stamp per message', () => {
  const { stamped } = run({ mode: 'every' }, 5)
  assert.equal(stamped.map((x) => x.seq), [1, 2, 3, 4, 5])
})

P('nth: messages 1, n+1, 2n+1 … with the skipped count since the last stamp', () => {
  const { stamped } = run({ mode: 'nth', n: 10 }, 35)
  assert.equal(stamped, [{ seq: 1, skipped: 0 }, { seq: 11, skipped: 9 }, { seq: 21, skipped: 9 }, { seq: 31, skipped: 9 }])
})

P('rate: at most perSecond per one-second bucket (100 Hz for 3 s, 5/s → 15)', () => {
  const { stamped } = run({ mode: 'rate', perSecond: 5 }, 300, 10)
  assert.is(stamped.length, 15)
  assert.equal(stamped.slice(0, 6).map((x) => x.seq), [1, 2, 3, 4, 5, 101])
  assert.is(stamped[5]!.skipped, 95)
})

P('window: nothing stamped per message; one closed window per windowMs with every hash in order', () => {
  const { stamped, windows, s } = run({ mode: 'window', windowMs: 1000 }, 250, 10)
  assert.is(stamped.length, 0)
  assert.is(windows.length, 2) // two full seconds elapsed; the third window is still open
  assert.equal(windows.map((w) => [w.firstSeq, w.lastSeq, w.count, w.reason]), [[1, 100, 100, 'time'], [101, 200, 100, 'time']])
  assert.equal(windows[0]!.hashes, Array.from({ length: 100 }, (_, i) => h(i + 1)))
  assert.is(windows[0]!.startRosTime, 1_000_000n)
  assert.is(windows[0]!.endRosTime, 100_000_000n)
  s.close()
  assert.equal([windows[2]!.firstSeq, windows[2]!.lastSeq, windows[2]!.reason], [201, 250, 'close'])
  s.close() // nothing open: no empty window
  assert.is(windows.length, 3)
})

P('window: maxMessages closes a window early (bounded memory)', () => {
  const { windows } = run({ mode: 'window', windowMs: 60_000, maxMessages: 40 }, 100, 1)
  assert.equal(windows.map((w) => [w.count, w.reason]), [[40, 'full'], [40, 'full']])
})

P('window: a message whose hash failed is stamped on its own, not dropped', () => {
  const s = new Sampler(checkPolicy({ mode: 'window', windowMs: 10 }), manualClock(), () => {})
  assert.equal(s.offer(1, null, 0n), { stamp: true, skipped: 0 })
})

P('checkPolicy validates and reports the field; policyFields describes coverage', () => {
  assert.throws(() => checkPolicy({ mode: 'nth', n: 0 }), (e: Error) => e instanceof RangeError && e.message.includes('policy.n'))
  assert.throws(() => checkPolicy({ mode: 'rate' }), (e: Error) => e.message.includes('perSecond'))
  assert.throws(() => checkPolicy({ mode: 'sometimes' }), (e: Error) => e.message.includes('mode'))
  assert.throws(() => checkPolicy(null), TypeError)
  assert.equal(policyFields(checkPolicy({ mode: 'window', windowMs: 500 })),
    { audit_mode: 'window', audit_window_ms: 500, audit_max_messages: DEFAULT_MAX_WINDOW })
  assert.equal(policyFields(checkPolicy({ mode: 'nth', n: 3 })), { audit_mode: 'nth', audit_n: 3 })
})

P.run()
