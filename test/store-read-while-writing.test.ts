// Reading a chain while it grows: verify(), history() and events() on an agent that goes on stamping
// must see a gapless prefix and call it valid. LevelDB iterators read a snapshot taken when they open,
// while the store's queued head runs ahead of what is written; comparing the two reported a healthy
// store as damaged ("event #36 is missing (the head is #37)"), which an auditor would read as tampering.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent } from '../runtime/index.js'
import { tmpDir } from './helpers.js'

test('verify, history and events while stamps are in flight: no false damage, every read a valid prefix', async () => {
  const tmp = tmpDir('pcp-readwrite-')
  const agent = await Agent.open({ name: 'busy' }, { home: tmp.path, durability: 'relaxed' })
  try {
    await agent.stamp('warm', { i: -1 })
    let stop = false
    let stamped = 0
    const writer = (async () => {
      while (!stop) {
        const batch: Array<Promise<unknown>> = []
        for (let i = 0; i < 50; i++) batch.push(agent.stamp('tick', { i: stamped++ }))
        await Promise.all(batch)
      }
    })()
    // If an assertion below fails, close() refuses the writer's stamps: keep that from masking the failure.
    writer.catch(() => {})
    let reads = 0
    for (let round = 0; round < 6; round++) {
      const report = await agent.verify()
      assert.ok(report.valid, `round ${round}: ${JSON.stringify(report.errors.slice(0, 2))}`)
      assert.ok(report.eventCount >= 1)
      const seen = (await agent.history()).length
      assert.ok(seen >= report.eventCount, `history (${seen}) is not shorter than an earlier verify (${report.eventCount})`)
      reads++
    }
    stop = true
    await writer
    assert.is(reads, 6)
    assert.ok(stamped > 100, `the writer kept stamping while we read (${stamped})`)
    const final = await agent.verify()
    assert.ok(final.valid)
    assert.is(final.eventCount, stamped + 1, 'the warm-up event + every tick')
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
  let stop = false
  try {
    await agent.stamp('warm', { i: -1 })
    let stamped = 0
    const writer = (async () => {
      while (!stop) {
        const batch: Array<Promise<unknown>> = []
        for (let i = 0; i < 50; i++) batch.push(agent.stamp('tick', { i: stamped++ }))
        await Promise.all(batch)
      }
    })()
    writer.catch(() => {})
    // Searches interleaved with the writer's batches until it has stamped a few hundred events.
    const deadline = Date.now() + 30_000
    let rounds = 0
    while (stamped < 400 && Date.now() < deadline) {
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
    stop = true
    await writer
    assert.ok(stamped >= 400, `the writer kept stamping while we searched (${stamped} in ${rounds} rounds)`)
    assert.is((await agent.search({ limit: 1_000_000 })).length, stamped + 1)
  } finally {
    stop = true
    await agent.close()
    tmp.cleanup()
  }
})

test.run()
