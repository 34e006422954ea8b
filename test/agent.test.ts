import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFileSync, existsSync, writeFileSync, renameSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import { Agent, verifyAuditExport, parseJson, eventHash, type PcpError } from '../runtime/index.js'
import { tmpDir, ROOT, FAST_SCRYPT_N, codeOf } from './helpers.js'

const A = suite('agent')

A('stamp, close, reopen: the chain resumes from the persisted head', async () => {
  const tmp = tmpDir()
  try {
    let agent = await Agent.open({ name: 'r1' }, { home: tmp.path })
    const first = await agent.stamp('boot', { fw: '1.2' })
    assert.is(first.payload.event_type, 'boot')
    for (let i = 0; i < 10; i++) await agent.stamp('tick', { i })
    const head = agent.head!
    assert.is(head.seq, 10)
    await agent.close()
    agent = await Agent.open({ name: 'r1' }, { home: tmp.path })
    assert.equal(agent.head, head)
    const next = await agent.stamp('tick', { i: 10 })
    assert.is(next.previous_hash, head.hash)
    const report = await agent.verify()
    assert.equal(report.errors, [])
    assert.is(report.eventCount, 12)
    await agent.close()
  } finally { tmp.cleanup() }
})

A('genesis links to SHA-256 of the public key, as the reference helper does', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'g' }, { home: tmp.path })
    const ev = await agent.stamp('boot')
    const { createHash } = await import('node:crypto')
    assert.is(ev.previous_hash, createHash('sha256').update(agent.publicKey).digest('hex'))
    await agent.close()
  } finally { tmp.cleanup() }
})

A('500 concurrent stamps chain in call order and share group-commit batches', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'fast' }, { home: tmp.path })
    const events = await Promise.all(Array.from({ length: 500 }, (_, i) => agent.stamp('tick', { i })))
    events.forEach((ev, i) => assert.is(ev.payload.i, i))
    for (let i = 1; i < events.length; i++) assert.is(events[i]!.previous_hash, eventHash(events[i - 1]!))
    assert.equal((await agent.verify()).errors, [])
    await agent.close()
  } finally { tmp.cleanup() }
})

A('a second process gets "agent is open in process N"', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'locked' }, { home: tmp.path })
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/open-child.ts'), tmp.path, 'locked'], { cwd: ROOT, encoding: 'utf8' })
    const out = JSON.parse(r.stdout.trim())
    assert.is(out.ok, false)
    assert.is(out.code, 'STORE_LOCKED')
    assert.match(out.message, `is open in process ${process.pid}`)
    await agent.close()
    const again = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/open-child.ts'), tmp.path, 'locked'], { cwd: ROOT, encoding: 'utf8' })
    assert.is(JSON.parse(again.stdout.trim()).ok, true)
  } finally { tmp.cleanup() }
})

A('export writes a valid audit export of the whole chain', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'ex' }, { home: tmp.path })
    for (let i = 0; i < 25; i++) await agent.stamp('tick', { i, t: 21.5 })
    const file = join(tmp.path, 'out.json')
    const res = await agent.export(file)
    assert.is(res.eventCount, 25)
    const check = verifyAuditExport(parseJson(readFileSync(file, 'utf8')))
    assert.ok(check.usable && check.report.valid)
    await agent.close()
  } finally { tmp.cleanup() }
})

A('search by type, time range, session and peer through the indexes; stats', async () => {
  const tmp = tmpDir()
  let now = 1_700_000_000_000
  try {
    const agent = await Agent.open({ name: 's' }, { home: tmp.path, clock: () => now })
    for (let i = 0; i < 30; i++) {
      now += 1000
      await agent.stamp(i % 3 === 0 ? 'alarm' : 'tick', { i, ...(i % 5 === 0 ? { session_id: 'sess-' + (i % 2) } : {}), ...(i % 7 === 0 ? { peer_agent_id: 'PEER' } : {}) })
    }
    const alarms = await agent.search({ eventType: 'alarm' })
    assert.equal(alarms.map((e) => e.payload.i), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27])
    assert.equal((await agent.search({ eventType: 'alarm', limit: 2, reverse: true })).map((e) => e.payload.i), [27, 24])
    const window = await agent.search({ after: 1_700_000_010, before: 1_700_000_013 })
    assert.equal(window.map((e) => e.payload.i), [9, 10, 11])
    assert.equal((await agent.search({ sessionId: 'sess-0' })).map((e) => e.payload.i), [0, 10, 20])
    assert.equal((await agent.search({ peer: 'PEER' })).map((e) => e.payload.i), [0, 7, 14, 21, 28])
    assert.equal((await agent.search({ eventType: 'alarm', after: 1_700_000_020 })).map((e) => e.payload.i), [21, 24, 27])
    const stats = await agent.store.stats()
    assert.is(stats.events, 30)
    assert.is(stats.sessions, 2)
    assert.is(stats.rotations, 0)
    assert.ok(stats.bytes > 0)
    await agent.close()
  } finally { tmp.cleanup() }
})

A('timestamps never go backwards, even when the clock does', async () => {
  const tmp = tmpDir()
  let now = 1_700_000_100_000
  try {
    const agent = await Agent.open({ name: 'clock' }, { home: tmp.path, clock: () => now })
    await agent.stamp('a'); now = 1_000_000; const b = await agent.stamp('b')
    assert.is(b.timestamp, 1_700_000_100)
    assert.ok((await agent.verify()).valid)
    await agent.close()
  } finally { tmp.cleanup() }
})

A('key rotation: one history, reopen with the new key, export verifies from the first key', async () => {
  const tmp = tmpDir()
  try {
    let agent = await Agent.open({ name: 'rot' }, { home: tmp.path, passphrase: 'pw', scryptN: FAST_SCRYPT_N })
    for (let i = 0; i < 3; i++) await agent.stamp('tick', { i })
    const oldId = agent.agentId
    const { newAgentId } = await agent.rotate()
    assert.is(agent.agentId, newAgentId)
    await agent.close()
    // Reopened with the rotation event as head: the new key must be accepted.
    agent = await Agent.open({ name: 'rot' }, { home: tmp.path, passphrase: 'pw', scryptN: FAST_SCRYPT_N })
    await agent.stamp('tick', { i: 3 })
    await agent.close()
    agent = await Agent.open({ name: 'rot' }, { home: tmp.path, passphrase: 'pw', scryptN: FAST_SCRYPT_N })
    assert.is(agent.agentId, newAgentId)
    await agent.stamp('tick', { i: 4 })
    const report = await agent.verify()
    assert.equal(report.errors, [])
    assert.is(report.agentId, oldId)
    assert.is(report.finalAgentId, newAgentId)
    const history = await agent.history()
    assert.equal(history.map((e) => e.agent_id), [oldId, oldId, oldId, oldId, newAgentId, newAgentId])
    assert.is((await agent.store.stats()).rotations, 1)
    const file = join(tmp.path, 'rot.json')
    await agent.export(file)
    const check = verifyAuditExport(parseJson(readFileSync(file, 'utf8')))
    assert.ok(check.usable && check.report.valid)
    assert.ok(existsSync(join(agent.dir, 'rotated', `${oldId}.identity.json`)))
    await agent.close()
  } finally { tmp.cleanup() }
})

A('a rotation interrupted before its event is forgotten; the old key goes on', async () => {
  const tmp = tmpDir()
  try {
    let agent = await Agent.open({ name: 'half' }, { home: tmp.path })
    await agent.stamp('tick')
    const id = agent.agentId
    await agent.close()
    const dir = join(tmp.path, 'agents', 'half')
    writeFileSync(join(dir, 'identity.json.next'), JSON.stringify({ agent_id: 'NOPE' }))
    writeFileSync(join(dir, 'private.key.json.next'), '{}')
    agent = await Agent.open({ name: 'half' }, { home: tmp.path })
    assert.is(agent.agentId, id)
    assert.not.ok(existsSync(join(dir, 'identity.json.next')))
    await agent.close()
  } finally { tmp.cleanup() }
})

A('a process stopped at any step of the key swap reopens under the new key (and the chain verifies)', async () => {
  // Rebuild each on-disk state rotate() passes through after its rotation event is in the chain:
  // (a) nothing swapped, (b) old document moved to rotated/, (c) old key removed too, (d) new key in place.
  for (const stop of ['a', 'b', 'c', 'd'] as const) {
    const tmp = tmpDir()
    try {
      const dir = join(tmp.path, 'agents', 'swap')
      let agent = await Agent.open({ name: 'swap' }, { home: tmp.path })
      await agent.stamp('tick')
      const oldKey = readFileSync(join(dir, 'private.key.json'))
      const oldId = agent.agentId
      const { newAgentId } = await agent.rotate()
      await agent.close()
      const rotatedDoc = join(dir, 'rotated', `${oldId}.identity.json`)
      renameSync(join(dir, 'identity.json'), join(dir, 'identity.json.next'))
      if (stop !== 'd') renameSync(join(dir, 'private.key.json'), join(dir, 'private.key.json.next'))
      if (stop === 'a' || stop === 'b') writeFileSync(join(dir, 'private.key.json'), oldKey)
      if (stop === 'a') renameSync(rotatedDoc, join(dir, 'identity.json'))
      agent = await Agent.open({ name: 'swap' }, { home: tmp.path })
      assert.is(agent.agentId, newAgentId, `stop ${stop}`)
      await agent.stamp('after')
      assert.equal((await agent.verify()).errors, [], `stop ${stop}`)
      assert.not.ok(existsSync(join(dir, 'identity.json.next')), `stop ${stop}: swap settled`)
      assert.ok(existsSync(rotatedDoc), `stop ${stop}: old document kept`)
      await agent.close()
    } finally { tmp.cleanup() }
  }
})

A('damaged stores give STORE_CORRUPTED naming the agent and the key, never a shorter chain', async () => {
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'dmg' }, { home: tmp.path })
    for (let i = 0; i < 5; i++) await agent.stamp('tick', { i })
    await agent.close()
    const path = join(tmp.path, 'agents', 'dmg', 'store')
    let db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.del('e!0000000000000002'); await db.close()
    const reopened = await Agent.open({ name: 'dmg' }, { home: tmp.path })
    try {
      await reopened.verify(); assert.unreachable('verify should throw')
    } catch (err) {
      const e = err as PcpError
      assert.is(e.code, 'STORE_CORRUPTED'); assert.is(e.agent, 'dmg'); assert.is(e.key, 'e!0000000000000002')
    }
    await reopened.close()
    db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.put('e!0000000000000004', new Uint8Array([1, 2, 3])); await db.close()
    try { await Agent.open({ name: 'dmg' }, { home: tmp.path }); assert.unreachable() } catch (err) {
      const e = err as PcpError
      assert.is(e.code, 'STORE_CORRUPTED'); assert.is(e.key, 'e!0000000000000004')
      assert.match(e.message, 'agent "dmg"')
    }
  } finally { tmp.cleanup() }
})

A('relaxed durability says so; closed agents refuse stamps', async () => {
  const tmp = tmpDir()
  const warnings: string[] = []
  const onWarn = (w: Error): void => { warnings.push(w.message) }
  process.on('warning', onWarn)
  try {
    const agent = await Agent.open({ name: 'rx' }, { home: tmp.path, durability: 'relaxed' })
    assert.is(agent.durability, 'relaxed')
    await agent.stamp('x')
    await agent.close()
    await new Promise((r) => setImmediate(r))
    assert.ok(warnings.some((w) => w.includes('relaxed durability')))
    assert.is(await codeOf(agent.stamp('y')), 'STORE_CLOSED')
  } finally { process.off('warning', onWarn); tmp.cleanup() }
})

A('identity.json lost beside a chain: IDENTITY_NOT_FOUND naming it, and the key that signed the chain is not replaced', async () => {
  const tmp = tmpDir()
  try {
    const a = await Agent.open({ name: 'lost' }, { home: tmp.path })
    for (let i = 0; i < 3; i++) await a.stamp('t', { i })
    await a.close()
    const dir = join(tmp.path, 'agents', 'lost')
    const keyFile = readdirSync(dir).find((f) => f.startsWith('private.key'))!
    const key = readFileSync(join(dir, keyFile))
    const doc = readFileSync(join(dir, 'identity.json'))
    renameSync(join(dir, 'identity.json'), join(tmp.path, 'identity.json.bak'))
    const err = await Agent.open({ name: 'lost' }, { home: tmp.path }).then(() => null, (e: PcpError) => e)
    // First the key: on the old code a new one was written over it before the refusal.
    assert.equal(readFileSync(join(dir, keyFile)), key, 'the key that signed the chain is untouched')
    assert.is(existsSync(join(dir, 'identity.json')), false, 'no foreign identity.json written')
    assert.is(err?.code, 'IDENTITY_NOT_FOUND')
    assert.is(err?.file, join(dir, 'identity.json'))
    writeFileSync(join(dir, 'identity.json'), doc)
    const b = await Agent.open({ name: 'lost' }, { home: tmp.path })
    await b.stamp('t', { i: 3 })
    assert.equal((await b.verify()).errors, [])
    await b.close()
  } finally { tmp.cleanup() }
})

A.run()
