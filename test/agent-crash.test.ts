// Crash safety, for real: a child stamps continuously and is SIGKILLed at random moments. After each
// kill the store must open, the chain verify, and every event the child saw acknowledged be present.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Agent, eventHash } from '../runtime/index.js'
import { tmpDir, ROOT } from './helpers.js'

const Crash = suite('agent-crash')
const KILLS = Number(process.env.PCP_CRASH_KILLS ?? 6)

async function runAndKill (home: string, durability: string, afterMs: number): Promise<Map<number, string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/stamp-child.ts'), home, 'crashy', durability], { cwd: ROOT })
  const acked = new Map<number, string>()
  let buf = ''; let err = ''
  child.stderr.on('data', (d) => { err += d })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      buf += d
      const lines = buf.split('\n'); buf = lines.pop()!
      for (const l of lines) {
        const m = /^ok (\d+) ([0-9a-f]{64})$/.exec(l)
        // Armed at the first acknowledgement, not at 'ready': on a loaded machine the first fsync can take
        // longer than the whole delay, and a run that acknowledged nothing proves nothing.
        if (m && acked.size === 0) setTimeout(() => child.kill('SIGKILL'), afterMs)
        if (m) acked.set(Number(m[1]), m[2]!)
      }
    })
    child.on('exit', (code, signal) => signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`)))
  })
  return acked
}

for (const durability of ['durable', 'relaxed']) {
  Crash(`${durability}: ${KILLS} random SIGKILLs lose no acknowledged event`, async () => {
    const tmp = tmpDir()
    try {
      let total = 0
      const allAcked = new Map<string, number>() // hash → n, across runs
      for (let k = 0; k < KILLS; k++) {
        const acked = await runAndKill(tmp.path, durability, 50 + Math.floor(Math.random() * 400))
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
