// A relaxed store with a hole, as a power cut on a disk that reorders writeback leaves it (LevelDB's
// recovery skips a damaged log block and keeps later records): a stamping child is SIGKILLed (no clean
// close, so nothing past its last fsync is vouched for), one event key is deleted with a raw LevelDB
// handle, and the next open must cut the chain back to the gapless prefix, keep the rest as evidence
// and record the repair as the chain's next event. And a clean close must vouch for every event, so
// the open after it scans nothing.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Level } from 'level'
import { Agent, eventHash, REPAIR_EVENT_TYPE } from '../runtime/index.js'
import { tmpDir, ROOT, codeOf } from './helpers.js'
import { stampAndKill } from './support/stamp-and-kill.js'

const key = (seq: number): string => 'e!' + seq.toString(16).padStart(16, '0')

async function deleteEvent (home: string, name: string, seq: number): Promise<number> {
  const db = new Level<string, Uint8Array>(join(home, 'agents', name, 'store'), { valueEncoding: 'view' })
  await db.open()
  let last = -1
  for await (const k of db.keys({ gte: 'e!', lt: 'e"' })) last = parseInt(k.slice(2), 16)
  await db.del(key(seq))
  await db.close()
  return last
}

test('a hole after a crash is cut back: later events set aside (listed), the head before it, the repair recorded as the next event', async () => {
  const tmp = tmpDir('pcp-hole-')
  try {
    const acked = await stampAndKill(tmp.path, 'holey', 'relaxed', { acked: 300 })
    const HOLE = 100
    const last = await deleteEvent(tmp.path, 'holey', HOLE)
    assert.ok(last > HOLE + 1, `events stored beyond the hole (last #${last})`)
    const warnings: Array<{ code: string, message: string }> = []
    const agent = await Agent.open({ name: 'holey' }, { home: tmp.path, create: false })
    agent.on('warning', (w: { code: string, message: string }) => warnings.push(w))
    try {
      await new Promise((resolve) => setImmediate(resolve))
      assert.is(warnings.length, 1, 'one warning on the agent')
      assert.is(warnings[0]!.code, 'STORE_HOLE_REPAIRED')
      assert.match(warnings[0]!.message, `${last - HOLE} events after a hole at #${HOLE}`)
      const report = await agent.verify()
      assert.equal(report.errors, [], 'the chain verifies')
      assert.is(report.eventCount, HOLE + 1, 'events #0-#99 and the repair record')
      const events = await agent.history()
      for (let i = 0; i < HOLE; i++) assert.is(events[i]!.payload.n, i, `#${i} is the stamp it was`)
      const rec = events[HOLE]!
      assert.is(rec.payload.event_type, REPAIR_EVENT_TYPE)
      assert.is(rec.payload.lost_from, HOLE)
      assert.is(rec.payload.lost_to, last)
      assert.equal(rec.payload.missing, [[HOLE, HOLE]])
      assert.is(rec.payload.set_aside_count, last - HOLE)
      // The quarantine holds every event after the hole, verbatim: acknowledged ones with their hashes.
      const aside: Array<{ seq: number, hash: string }> = []
      for await (const e of agent.store.setAsideEvents(0)) {
        aside.push({ seq: e.seq, hash: e.hash })
        assert.is(e.hash, eventHash(e.event))
        if (acked.has(e.seq)) assert.is(e.hash, acked.get(e.seq), `set-aside #${e.seq} is the acknowledged event`)
      }
      assert.equal(aside.map((e) => e.seq), Array.from({ length: last - HOLE }, (_, i) => HOLE + 1 + i))
      assert.equal(rec.payload.set_aside_hashes, aside.slice(0, 256).map((e) => e.hash), 'the chain lists the set-aside hashes')
      assert.is(agent.store.repairs.length, 1)
      assert.is(agent.store.repairs[0]!.recordedAt, HOLE)
      // Stamping continues onto the record, and a search by type never meets a set-aside position.
      await agent.stamp('tick', { n: 'after' })
      assert.is((await agent.search({ eventType: 'tick', reverse: true, limit: 1 }))[0]!.payload.n, 'after')
      assert.is((await agent.search({ eventType: 'tick' , limit: 1000 })).length, HOLE + 1)
    } finally { await agent.close() }
    // Recorded once: the next open neither repairs nor records again.
    const again = await Agent.open({ name: 'holey' }, { home: tmp.path, create: false })
    try {
      assert.is(again.store.repaired, null)
      assert.is(again.head!.seq, HOLE + 1)
      assert.is((await again.store.setAsideEvents(0).next()).value?.seq, HOLE + 1, 'the quarantine is kept')
    } finally { await again.close() }
  } finally { tmp.cleanup() }
})

test('the CLI says so on stderr when its open repairs a hole (pcp memory stats, no key)', async () => {
  const tmp = tmpDir('pcp-hole-')
  try {
    await stampAndKill(tmp.path, 'cli', 'relaxed', { acked: 120 })
    const last = await deleteEvent(tmp.path, 'cli', 60)
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), '--home', tmp.path, 'memory', 'stats', '--json'], { cwd: ROOT, encoding: 'utf8' })
    assert.is(r.status, 0, r.stderr)
    assert.match(r.stderr, `PCP_STORE_HOLE_REPAIRED`)
    assert.match(r.stderr, `store of agent "cli" (${join(tmp.path, 'agents', 'cli', 'store')}) came back from a power cut with a hole at event #60: ${last - 60} later events (#61-#${last}) set aside in quarantine 0`)
    assert.is(JSON.parse(r.stdout).events, 60, 'the gapless prefix')
  } finally { tmp.cleanup() }
})

test('a hole in the first event leaves an empty chain that starts with the repair record', async () => {
  const tmp = tmpDir('pcp-hole-')
  try {
    await stampAndKill(tmp.path, 'zero', 'relaxed', { acked: 50 })
    const last = await deleteEvent(tmp.path, 'zero', 0)
    const agent = await Agent.open({ name: 'zero' }, { home: tmp.path, create: false })
    try {
      const events = await agent.history()
      assert.is(events.length, 1)
      assert.is(events[0]!.payload.event_type, REPAIR_EVENT_TYPE)
      assert.is(events[0]!.payload.set_aside_count, last)
      assert.equal((await agent.verify()).errors, [])
    } finally { await agent.close() }
  } finally { tmp.cleanup() }
})

test('relaxed close() vouches for every event: the next open scans nothing (a key deleted after it is damage, STORE_CORRUPTED)', async () => {
  const tmp = tmpDir('pcp-hole-')
  try {
    const agent = await Agent.open({ name: 'clean' }, { home: tmp.path, durability: 'relaxed' })
    await Promise.all(Array.from({ length: 200 }, (_, i) => agent.stamp('tick', { i })))
    await agent.close()
    await deleteEvent(tmp.path, 'clean', 50)
    const again = await Agent.open({ name: 'clean' }, { home: tmp.path, create: false })
    try {
      assert.is(again.store.repaired, null, 'no scan after a clean close')
      assert.is(again.head!.seq, 199)
      assert.is(await codeOf(again.verify()), 'STORE_CORRUPTED')
    } finally { await again.close() }
  } finally { tmp.cleanup() }
})

test.run()
