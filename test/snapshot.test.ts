// What is signed is what is stored (runtime/snapshot.ts). Found by probing: a payload object mutated after
// stamp() (a reused message, the common robot loop) or read differently a second time (a getter, a
// Proxy, a boxed `new String`) was signed as one value and stored as another; the agent then refused to
// open (STORE_CORRUPTED) and an export failed SIGNATURE_INVALID. Each case here failed on the old code.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, Identity, stampEvent, canonicalize, parseJson, verifyAuditExport, verifyChain, type AissEvent, type PcpError } from '../runtime/index.js'
import { tmpDir } from './helpers.js'

const S = suite('snapshot')

/** Closes, reopens (the store checks every hash at open), exports and verifies; returns the stored events. */
async function storedChain (home: string, name: string): Promise<AissEvent[]> {
  const agent = await Agent.open({ name }, { home })
  try {
    const out = join(home, 'export.json')
    await agent.export(out)
    const exp = parseJson(readFileSync(out, 'utf8')) as Parameters<typeof verifyAuditExport>[0]
    const verdict = verifyAuditExport(exp)
    assert.ok(verdict.usable, 'the export is usable')
    if (verdict.usable) assert.equal(verdict.report.errors, [], 'the export verifies')
    const events: AissEvent[] = []
    for await (const e of agent.events()) events.push(e)
    return events
  } finally { await agent.close() }
}

S('a payload mutated after stamp() (not awaited) is stored as it was signed', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'm' }, { home: tmp.path })
    const msg = { pose: { x: 0, tags: ['a'] } }
    const pending: Array<Promise<AissEvent>> = []
    for (let i = 0; i < 20; i++) {
      pending.push(agent.stamp('pose', msg))
      msg.pose.x++ // the loop reuses its message object, as sensor and ROS callbacks do
      msg.pose.tags.push(String(i))
    }
    const acked = await Promise.all(pending)
    await agent.close()
    const stored = await storedChain(tmp.path, 'm')
    assert.is(stored.length, 20)
    for (let i = 0; i < 20; i++) {
      assert.is((stored[i]!.payload.pose as { x: number }).x, i, `event ${i} holds the value at its stamp`)
      assert.is(canonicalize(stored[i]), canonicalize(acked[i]), `event ${i}: stored = acknowledged`)
    }
  } finally { tmp.cleanup() }
})

S('values read differently each time (a getter, an array getter, a Proxy) are read once', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'g' }, { home: tmp.path })
    let n = 0
    const getter = { get v () { return n++ } }
    const arr = Object.defineProperty([0], 0, { get: () => n++, enumerable: true })
    const proxy = new Proxy({}, {
      ownKeys: () => ['k'],
      getOwnPropertyDescriptor: () => ({ value: n, enumerable: true, configurable: true }),
      get: () => n++
    })
    const acked = await Promise.all([agent.stamp('a', { o: getter }), agent.stamp('b', { o: arr }), agent.stamp('c', { o: proxy as never })])
    await agent.close()
    const stored = await storedChain(tmp.path, 'g')
    assert.equal(stored.map((e) => canonicalize(e)), acked.map((e) => canonicalize(e)))
  } finally { tmp.cleanup() }
})

S('stampEvent returns an event its caller can no longer change by mutating the payload', () => {
  const id = Identity.generate()
  const payload = { nested: { v: 1 } }
  const { event } = stampEvent(id, payload, { previousHash: null })
  payload.nested.v = 2
  assert.is((event.payload.nested as { v: number }).v, 1)
  assert.equal(verifyChain([event], id.document()).errors, [])
})

S('objects JSON would write as nothing or as garbage are refused with a code and a path', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'r' }, { home: tmp.path })
    const cases: Array<[string, unknown]> = [
      ['String', new String('x')], ['Number', new Number(1)], ['Boolean', new Boolean(false)], ['RegExp', /x/],
      ['Error', new Error('motor stalled')], ['TypeError', new TypeError('t')], ['ArrayBuffer', new ArrayBuffer(2)],
      ['Promise', Promise.resolve(1)], ['WeakMap', new WeakMap()], ['URL', new URL('http://x/')], ['Date', new Date(0)]
    ]
    for (const [kind, value] of cases) {
      for (const attempt of [() => canonicalize({ a: [value] }), () => stampEvent(Identity.generate(), { a: [value] } as never, { previousHash: null })]) {
        try { attempt(); assert.unreachable(kind) } catch (err) {
          assert.is((err as PcpError).code, 'CANONICAL_UNSUPPORTED', kind)
          assert.match((err as Error).message, kind)
          assert.match((err as Error).message, /\$(\.payload)?\.a\[0\]/)
        }
      }
      try { await agent.stamp('x', { a: [value] } as never); assert.unreachable(kind) } catch (err) {
        assert.is((err as PcpError).code, 'CANONICAL_UNSUPPORTED', kind)
        assert.is((err as PcpError).field, '$.payload.a[0]')
      }
    }
    // Class instances keep JSON.stringify's meaning (own enumerable keys), and the chain goes on.
    class Pose { x = 1; y = 2; get norm () { return 3 } }
    const ok = await agent.stamp('pose', { p: new Pose() as never })
    assert.is(canonicalize(ok.payload), '{"event_type":"pose","p":{"x":1,"y":2}}')
    const cyclic: Record<string, unknown> = {}; cyclic.self = cyclic
    try { await agent.stamp('c', cyclic as never); assert.unreachable() } catch (err) { assert.is((err as PcpError).code, 'CANONICAL_TOO_DEEP') }
    await agent.close()
    assert.is((await storedChain(tmp.path, 'r')).length, 1)
  } finally { tmp.cleanup() }
})

S('a payload that is not an object is refused, not spread into {"0": …}', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'p' }, { home: tmp.path })
    for (const bad of [[1, 2], 'x', 7, null, true]) {
      assert.throws(() => agent.stamp('x', bad as never), /"payload" expected a plain object/)
    }
    const ev = await agent.stamp('x')
    assert.is(canonicalize(ev.payload), '{"event_type":"x"}')
    await agent.close()
  } finally { tmp.cleanup() }
})

S.run()
