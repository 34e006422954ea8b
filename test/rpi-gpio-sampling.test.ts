// GPIO edges and reads under the ROS sampling policies (runtime/sampling.ts, shared with ros2/), on the
// SimulatedPi STAND-IN backend: which events are stamped, what the skipped ones leave on the chain, and
// that a window digest's Merkle root is the ROS tree's root over the members' hashValue leaves, so
// each edge is provable with ros2/verify's proveInclusion/verifyInclusion.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditedGpio, SimulatedPi, gpioLeafHash, type AuditClock, type BinaryValue } from '../rpi/index.js'
import { merkleRoot, proveInclusion, verifyInclusion } from '../ros2/verify.js'
import { openTestChain } from './rpi-helpers.js'

const S = suite('rpi GPIO sampling policies (every / nth / rate / window) on the simulated Pi')
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A clock whose ms the test sets; timers are real (windows close on size or close() here). */
function fakeClock (start = 1_700_000_000_123): AuditClock & { t: number } {
  const c = { t: start, nowMs: () => c.t, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) }
  return c
}

async function edges (pi: SimulatedPi, bcm: number, rising: number, clock?: { t: number }): Promise<void> {
  for (let i = 0; i < rising; i++) {
    pi.setInput(bcm, 1); if (clock) clock.t += 1; await sleep(2)
    pi.setInput(bcm, 0); if (clock) clock.t += 1; await sleep(2)
  }
}

S('nth on edges: 1 of n stamped with seq and skipped; the callback still sees every edge; setup names the policy', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const g = new AuditedGpio(17, 'in', 'rising', { audit: chain, backend: pi.backend, sampling: { edges: { mode: 'nth', n: 3 } } })
  const seen: BinaryValue[] = []
  g.watch((_e, v) => seen.push(v))
  await edges(pi, 17, 10)
  g.unexport(); await g.flush()
  assert.is(seen.length, 10, 'the script is called for every edge')
  const stamped = chain.payloads('rpi_gpio_interrupt')
  assert.equal(stamped.map((p) => [p.seq, p.skipped]), [[1, 0], [4, 2], [7, 2], [10, 2]])
  assert.ok(stamped.every((p) => Number.isSafeInteger(p.t_ms) && (p.t_ms as number) > 1e12), 'each edge carries t_ms')
  assert.equal(chain.payloads('rpi_gpio_setup')[0]!.sampling, { edges: { audit_mode: 'nth', audit_n: 3 }, reads: { audit_mode: 'every' } })
  assert.ok((await chain.verify()).valid)
  await chain.close()
})

S('rate on reads: at most perSecond stamped per one-second bucket of the clock; readSync returns every value', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const clock = fakeClock()
  const g = new AuditedGpio(5, 'in', { audit: chain, backend: pi.backend, sampling: { reads: { mode: 'rate', perSecond: 2 }, clock } })
  const values: number[] = []
  for (let i = 0; i < 10; i++) { pi.setInput(5, (i % 2) as BinaryValue); values.push(g.readSync()); clock.t += 250 } // 4 reads a second
  await g.flush()
  assert.equal(values, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
  const stamped = chain.payloads('rpi_gpio_input')
  assert.equal(stamped.map((p) => [p.seq, p.skipped, p.t_ms]), [[1, 0, clock.t - 2500], [2, 0, clock.t - 2250], [5, 2, clock.t - 1500], [6, 0, clock.t - 1250], [9, 2, clock.t - 500], [10, 0, clock.t - 250]])
  await chain.close()
})

S('window on edges: one digest per window with count, seq and t_ms ranges and the Merkle root; every member is provable', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const clock = fakeClock()
  const windows: Array<{ digest: Record<string, unknown>, members: Array<Record<string, unknown>> }> = []
  const g = new AuditedGpio(27, 'in', 'both', {
    audit: chain, backend: pi.backend,
    sampling: { edges: { mode: 'window', windowMs: 60_000, maxMessages: 8 }, clock, onDigest: (digest, members) => windows.push({ digest, members }) }
  })
  g.watch(() => {})
  await edges(pi, 27, 10, clock) // 20 edges: windows of 8, 8, then 4 at unexport
  g.unexport(); await g.flush()
  assert.is(chain.payloads('rpi_gpio_interrupt').length, 0, 'no per-edge events')
  const digests = chain.payloads('rpi_gpio_digest')
  assert.equal(digests.map((d) => [d.count, d.first_seq, d.last_seq, d.reason]), [[8, 1, 8, 'full'], [8, 9, 16, 'full'], [4, 17, 20, 'close']])
  assert.equal(chain.types().slice(-2), ['rpi_gpio_digest', 'rpi_gpio_cleanup'], 'the last window is stamped before the cleanup')
  assert.equal(windows.map((w) => w.digest), digests.map(({ event_type: _t, ...d }) => d))
  for (const [i, w] of windows.entries()) {
    const leaves = w.members.map((m) => gpioLeafHash(m as never))
    assert.is(merkleRoot(leaves), digests[i]!.merkle_root, `window ${i}: the root is ros2's RFC 6962 root of the members' leaves`)
    assert.is(w.members[0]!.t_ms, digests[i]!.start_t_ms)
    assert.is(w.members.at(-1)!.t_ms, digests[i]!.end_t_ms)
    const proof = proveInclusion(leaves, 2)
    assert.ok(verifyInclusion(leaves[2]!, proof, digests[i]!.merkle_root as string), 'an edge is provable from its payload')
    const forged = gpioLeafHash({ ...(w.members[2] as never as Record<string, never>), value: (1 - (w.members[2]!.value as number)) as never })
    assert.not.ok(verifyInclusion(forged, proof, digests[i]!.merkle_root as string), 'a changed edge is not')
  }
  assert.equal(windows.flatMap((w) => w.members.map((m) => m.value)), Array.from({ length: 20 }, (_, i) => (i + 1) % 2), 'every edge, in order')
  assert.ok((await chain.verify()).valid)
  await chain.close()
})

S('window closes on time too (real clock), and every mode stamps each event with its seq', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const a = new AuditedGpio(22, 'in', 'rising', { audit: chain, backend: pi.backend, sampling: { edges: { mode: 'window', windowMs: 40 } } })
  a.watch(() => {})
  await edges(pi, 22, 3)
  await sleep(120)
  await a.flush()
  const d = chain.payloads('rpi_gpio_digest')
  assert.equal(d.map((x) => [x.count, x.reason]), [[3, 'time']])
  const b = new AuditedGpio(23, 'in', { audit: chain, backend: pi.backend, sampling: { reads: { mode: 'every' } } })
  b.readSync(); b.readSync(); await b.read()
  await b.flush()
  assert.equal(chain.payloads('rpi_gpio_input').map((p) => p.seq), [1, 2, 3])
  await chain.close()
})

S('a bad policy is refused at construction', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  assert.throws(() => new AuditedGpio(17, 'in', { audit: chain, backend: pi.backend, sampling: { edges: { mode: 'nth', n: 0 } } }), (e: Error) => e instanceof RangeError && /options\.sampling\.edges\.n/.test(e.message))
  assert.throws(() => new AuditedGpio(17, 'in', { audit: chain, backend: pi.backend, sampling: { reads: { mode: 'often' } as never } }), /every, nth, rate or window/)
  await chain.close()
})

S.run()
