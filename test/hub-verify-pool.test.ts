// hub/verify-pool.ts: per-key order, cross-key parallelism, batching, failures, and the speed-up on this
// machine (printed, never asserted: timings on a shared 2-core box are not a pass/fail signal).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateKeyPairSync, sign, randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { VerifyPool } from '../hub/verify-pool.js'
import { PcpError } from '../runtime/errors.js'
import { ed25519Verify } from './support/pool-tasks.js'

const Pool = suite('hub/verify-pool')
const TASKS = new URL('./support/pool-tasks.ts', import.meta.url)

interface Timed { key: string, seq: number, start: number, end: number }

function codeOf (e: unknown): string | undefined { return e instanceof PcpError ? e.code : undefined }

Pool('same key: serial and in submission order, across messages; different keys overlap', async () => {
  // maxBatch 2 splits each key's 6 items over 3 messages, which may land on either worker.
  const pool = await VerifyPool.open<{ key: string, seq: number, ms: number }, Timed>({ module: TASKS, exportName: 'timed', workers: 2, maxBatch: 2 })
  try {
    const settled: Timed[] = []
    const all: Array<Promise<Timed>> = []
    for (let seq = 0; seq < 6; seq++) {
      for (const key of ['a', 'b', 'c', 'd']) all.push(pool.submit(key, { key, seq, ms: 8 }).then((r) => { settled.push(r); return r }))
    }
    const results = await Promise.all(all)
    for (const key of ['a', 'b', 'c', 'd']) {
      const mine = settled.filter((r) => r.key === key)
      assert.equal(mine.map((r) => r.seq), [0, 1, 2, 3, 4, 5], `settle order of ${key}`)
      // 1 ms of slack for clock skew between threads; an overlap would be a whole item (8 ms).
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.start >= mine[i - 1]!.end - 1, `${key} item ${i} started before ${i - 1} ended`)
    }
    const overlap = results.some((x) => results.some((y) => x.key !== y.key && x.start < y.end && y.start < x.end))
    assert.ok(overlap, 'two keys ran at the same time')
    assert.is(pool.stats.completed, 24)
  } finally { await pool.close() }
})

Pool('submitMany: results in item order, one message per maxBatch items', async () => {
  const pool = await VerifyPool.open<{ seed: string, rounds: number }, string>({ module: TASKS, exportName: 'sha256Rounds', workers: 1, maxBatch: 50 })
  try {
    const items = Array.from({ length: 100 }, (_, i) => ({ seed: `s${i}`, rounds: 1 }))
    const out = await pool.submitMany('k', items)
    const { createHash } = await import('node:crypto')
    assert.equal(out, items.map((it) => createHash('sha256').update(it.seed).digest('hex')))
    assert.is(pool.stats.messages, 2)
  } finally { await pool.close() }
})

Pool('a throwing task rejects only its item, with the original error as cause', async () => {
  const pool = await VerifyPool.open({ module: TASKS, exportName: 'faulty', workers: 2 })
  try {
    const r = await Promise.allSettled([0, 1, 2].map((n) => pool.submit('k', { op: n === 1 ? 'fail' : 'ok', n })))
    assert.equal(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled'])
    const err = (r[1] as PromiseRejectedResult).reason
    assert.is(codeOf(err), 'POOL_TASK_FAILED')
    assert.is((err as PcpError).key, 'k')
    assert.is(((err as Error).cause as { code?: string }).code, 'TEST_REFUSED')
    const bad = await pool.submit('k', { op: 'uncloneable', n: 5 }).then(() => null, (e: unknown) => e)
    assert.is(codeOf(bad), 'POOL_TASK_FAILED')
    assert.is(await pool.submit('k', { op: 'ok', n: 6 }), 6)
  } finally { await pool.close() }
})

Pool('a worker that dies fails the items it held, is replaced, and later items still run', async () => {
  const pool = await VerifyPool.open({ module: TASKS, exportName: 'faulty', workers: 1 })
  try {
    const crash = pool.submit('k', { op: 'crash', n: 1 }).then(() => null, (e: unknown) => e)
    const after = pool.submit('k', { op: 'ok', n: 2 })
    assert.is(codeOf(await crash), 'POOL_WORKER_FAILED')
    assert.is(await after, 2)
    assert.is(pool.stats.respawns, 1)
    assert.is(pool.stats.workers, 1)
  } finally { await pool.close() }
})

Pool('a missing export or module fails open() with POOL_TASK_LOAD_FAILED naming it', async () => {
  for (const [module, exportName] of [[TASKS, 'notAFunction'], [TASKS, 'nope'], [new URL('./support/does-not-exist.ts', import.meta.url), 'x']] as const) {
    const err = await VerifyPool.open({ module, exportName, workers: 2 }).then(async (p) => { await p.close(); return null }, (e: unknown) => e)
    assert.is(codeOf(err), 'POOL_TASK_LOAD_FAILED', `${String(module)} ${exportName}`)
    assert.ok((err as Error).message.includes(exportName))
  }
  const notUrl = await VerifyPool.open({ module: 'pool-tasks.ts' }).then(() => null, (e: unknown) => e)
  assert.instance(notUrl, TypeError)
})

Pool('close() finishes submitted work then refuses; terminate() rejects what is pending', async () => {
  const pool = await VerifyPool.open({ module: TASKS, exportName: 'timed', workers: 2 })
  const done = Promise.all(Array.from({ length: 6 }, (_, seq) => pool.submit(`k${seq % 3}`, { key: 'k', seq, ms: 5 })))
  await pool.close()
  assert.is((await done).length, 6)
  assert.is(codeOf(await pool.submit('k', {}).then(() => null, (e: unknown) => e)), 'POOL_CLOSED')

  const pool2 = await VerifyPool.open({ module: TASKS, exportName: 'timed', workers: 1 })
  const pending = Array.from({ length: 4 }, (_, seq) => pool2.submit('k', { key: 'k', seq, ms: 50 }).then(() => 'ok', (e: unknown) => codeOf(e)))
  await pool2.terminate()
  assert.equal(await Promise.all(pending), ['POOL_CLOSED', 'POOL_CLOSED', 'POOL_CLOSED', 'POOL_CLOSED'])
})

Pool('speed-up: Ed25519 verify of signed events, 1 worker vs 2 (numbers printed, not asserted)', async () => {
  const agents = Array.from({ length: 8 }, () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    return { key: randomBytes(8).toString('hex'), spki: publicKey.export({ format: 'der', type: 'spki' }), privateKey }
  })
  const items = Array.from({ length: 6000 }, (_, i) => {
    const a = agents[i % agents.length]!
    const message = randomBytes(300) // about the canonical JSON size of a small event
    return { key: a.key, item: { spki: new Uint8Array(a.spki), message: new Uint8Array(message), signature: new Uint8Array(sign(null, message, a.privateKey)) } }
  })
  items[777]!.item.signature[0]! ^= 1 // one forgery: the pool must report it, in its place

  let t = performance.now()
  const inline = items.map(({ item }) => ed25519Verify(item))
  const inlineRate = items.length / ((performance.now() - t) / 1000)

  const rates: Record<number, number> = {}
  for (const workers of [1, 2]) {
    const pool = await VerifyPool.open<typeof items[number]['item'], boolean>({ module: TASKS, exportName: 'ed25519Verify', workers })
    try {
      await pool.submitMany('warm', items.slice(0, 500).map((x) => x.item))
      t = performance.now()
      const byKey = new Map<string, Array<typeof items[number]['item']>>()
      for (const x of items) { const l = byKey.get(x.key) ?? []; l.push(x.item); byKey.set(x.key, l) }
      // Submitted as the hub will: one batch of 100 per agent message.
      const out = new Map<string, boolean[]>()
      await Promise.all([...byKey].map(async ([key, list]) => {
        const parts: Array<Promise<boolean[]>> = []
        for (let i = 0; i < list.length; i += 100) parts.push(pool.submitMany(key, list.slice(i, i + 100)))
        out.set(key, (await Promise.all(parts)).flat())
      }))
      rates[workers] = items.length / ((performance.now() - t) / 1000)
      const cursor = new Map<string, number>()
      const got = items.map((x) => { const i = cursor.get(x.key) ?? 0; cursor.set(x.key, i + 1); return out.get(x.key)![i] })
      assert.equal(got, inline)
    } finally { await pool.close() }
  }
  assert.is(inline.filter((ok) => !ok).length, 1)
  assert.is(inline[777], false)
  console.log(`    ed25519 verify/s on ${availableParallelism()} cores: inline ${inlineRate.toFixed(0)}, pool×1 ${rates[1]!.toFixed(0)}, pool×2 ${rates[2]!.toFixed(0)} (speed-up ×${(rates[2]! / rates[1]!).toFixed(2)} vs 1 worker)`)
})

Pool.run()
