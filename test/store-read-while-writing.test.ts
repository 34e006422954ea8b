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

test.run()
