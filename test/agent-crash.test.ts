// Crash safety, for real: a child stamps continuously and is SIGKILLed at random moments. After each
// kill the store must open, the chain verify, and every event the child saw acknowledged be present.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent, eventHash } from '../runtime/index.js'
import { tmpDir } from './helpers.js'
import { stampAndKill } from './support/stamp-and-kill.js'

const Crash = suite('agent-crash')
const KILLS = Number(process.env.PCP_CRASH_KILLS ?? 6)

for (const durability of ['durable', 'relaxed'] as const) {
  Crash(`${durability}: ${KILLS} random SIGKILLs lose no acknowledged event`, async () => {
    const tmp = tmpDir()
    try {
      let total = 0
      const allAcked = new Map<string, number>() // hash → n, across runs
      for (let k = 0; k < KILLS; k++) {
        const acked = await stampAndKill(tmp.path, 'crashy', durability, { afterFirstAckMs: 50 + Math.floor(Math.random() * 400) })
        for (const [n, h] of acked) allAcked.set(h, n)
        const agent = await Agent.open({ name: 'crashy' }, { home: tmp.path })
        try {
          const report = await agent.verify()
          assert.equal(report.errors, [], `chain verifies after kill ${k}`)
          const stored = new Set<string>()
          for await (const ev of agent.events()) stored.add(eventHash(ev))
          for (const [h, n] of allAcked) assert.ok(stored.has(h), `acknowledged event n=${n} survived kill ${k}`)
          total = report.eventCount
        } finally { await agent.close() }
      }
      assert.ok(allAcked.size > 0, 'the child acknowledged events before being killed')
      assert.ok(total >= allAcked.size)
    } finally { tmp.cleanup() }
  })
}

Crash.run()
