// Reading a chain while it grows: verify(), history() and events() on an agent that goes on stamping
// must see a gapless prefix and call it valid. LevelDB iterators read a snapshot taken when they open,
// while the store's queued head runs ahead of what is written; comparing the two reported a healthy
// store as damaged ("event #36 is missing (the head is #37)"), which an auditor would read as tampering.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent } from '../runtime/index.js'
import { tmpDir } from './helpers.js'

interface Writer { readonly stamped: number, stop: () => Promise<void> }

/** Stamps batches of 50 until stopped, each batch awaited. A failing read must not be masked by close()
 *  refusing the writer's stamps, so the writer's own failure is swallowed until stop(). */
function keepStamping (agent: Agent): Writer {
  let stop = false
  let stamped = 0
  const done = (async () => {
    while (!stop) {
      const batch: Array<Promise<unknown>> = []
      for (let i = 0; i < 50; i++) batch.push(agent.stamp('tick', { i: stamped++ }))
      await Promise.all(batch)
    }
  })()
  done.catch(() => {})
  return { get stamped () { return stamped }, stop: async () => { stop = true; await done } }
}

test('verify, history and events while stamps are in flight: no false damage, every read a valid prefix', async () => {
  const tmp = tmpDir('pcp-readwrite-')
  const agent = await Agent.open({ name: 'busy' }, { home: tmp.path, durability: 'relaxed' })
  try {
    await agent.stamp('warm', { i: -1 })
    const w = keepStamping(agent)
    let reads = 0
    for (let round = 0; round < 6; round++) {
      const report = await agent.verify()
      assert.ok(report.valid, `round ${round}: ${JSON.stringify(report.errors.slice(0, 2))}`)
      assert.ok(report.eventCount >= 1)
      const seen = (await agent.history()).length
      assert.ok(seen >= report.eventCount, `history (${seen}) is not shorter than an earlier verify (${report.eventCount})`)
      reads++
    }
    await w.stop()
    assert.is(reads, 6)
    assert.ok(w.stamped > 100, `the writer kept stamping while we read (${w.stamped})`)
    const final = await agent.verify()
    assert.ok(final.valid)
    assert.is(final.eventCount, w.stamped + 1, 'the warm-up event + every tick')
  } finally {
    await agent.close()
    tmp.cleanup()
  }
})

// The same race for search: newest first and by-time searches start from the event count, which counted
// queued stamps too. The window is narrow (LevelDB's threads usually finish the batch before the read), so
// this is a stress test of the path, not a deterministic reproduction.
test('search while stamps are in flight: newest first, all and by time, never a false STORE_CORRUPTED', async () => {
  const tmp = tmpDir('pcp-searchwrite-')
  const agent = await Agent.open({ name: 'busy' }, { home: tmp.path, durability: 'relaxed' })
  let w: Writer | undefined
  try {
    await agent.stamp('warm', { i: -1 })
    w = keepStamping(agent)
    // Searches interleaved with the writer's batches until it has stamped a few hundred events.
    const deadline = Date.now() + 30_000
    let rounds = 0
    while (w.stamped < 400 && Date.now() < deadline) {
      // Newest first starts at the head: with stamps queued, the queued head is not written yet.
      const newest = await agent.search({ reverse: true, limit: 5 })
      assert.ok(newest.length >= 1, `round ${rounds}: newest first found events`)
      const recent = await agent.search({ after: 0, reverse: true, limit: 50 })
      assert.ok(recent.length >= 1)
      await new Promise((r) => setImmediate(r))
      rounds++
    }
    const all = await agent.search({ limit: 1_000_000 })
    assert.ok(all.length >= 1)
    await w.stop()
    assert.ok(w.stamped >= 400, `the writer kept stamping while we searched (${w.stamped} in ${rounds} rounds)`)
    assert.is((await agent.search({ limit: 1_000_000 })).length, w.stamped + 1)
  } finally {
    await w?.stop().catch(() => {})
    await agent.close()
    tmp.cleanup()
  }
})

test.run()
