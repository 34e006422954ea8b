// The hub's verify pool starts at the first batch (hub/lazy-pool.ts): no worker threads while no device
// sends; items submitted while the workers start keep their order per key; workers that cannot start
// fail only the items submitted then (ingest verifies those on the main thread) and the next submit
// tries again. Real worker threads (test/support/pool-tasks.ts); the hub case reads /proc for threads.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { VerifyPool } from '../hub/verify-pool.js'
import { LazyPool } from '../hub/lazy-pool.js'
import { Hub } from '../hub/hub.js'
import { Identity, stampEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { freePort } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const L = suite('lazy verify pool')
const TASKS = new URL('./support/pool-tasks.ts', import.meta.url)
const threads = (): number => readdirSync('/proc/self/task').length

L('nothing starts until the first submit; then the items of a key come back in submission order', async () => {
  let opened = 0
  const lazy = new LazyPool<{ key: string, seq: number, ms: number }, { seq: number }>(() => { opened++; return VerifyPool.open({ module: TASKS, exportName: 'timed', workers: 2 }) })
  try {
    assert.is(opened, 0)
    assert.not.ok(lazy.started)
    // The first items are submitted before the workers exist; later ones are quicker than earlier ones.
    const out = await Promise.all([30, 1, 20, 1, 1].map((ms, seq) => lazy.submit('k', { key: 'k', seq, ms })))
    assert.equal(out.map((r) => r.seq), [0, 1, 2, 3, 4])
    assert.is(opened, 1, 'one pool for all of them')
  } finally { await lazy.close() }
})

L('workers that cannot start: the items submitted then fail, onFailure hears it, the next submit tries again', async () => {
  let attempts = 0
  const failures: string[] = []
  const lazy = new LazyPool<{ seed: string, rounds: number }, string>(() => {
    attempts++
    return VerifyPool.open({ module: attempts === 1 ? new URL('./support/does-not-exist.ts', import.meta.url) : TASKS, exportName: 'sha256Rounds', workers: 1 })
  }, (err) => failures.push((err as { code?: string }).code ?? String(err)))
  try {
    const first = await lazy.submit('k', { seed: 'a', rounds: 1 }).then(() => 'resolved', (e: { code?: string }) => e.code)
    assert.is(first, 'POOL_TASK_LOAD_FAILED')
    assert.equal(failures, ['POOL_TASK_LOAD_FAILED'])
    assert.is(typeof await lazy.submit('k', { seed: 'a', rounds: 1 }), 'string', 'the second attempt started the workers')
    assert.is(attempts, 2)
  } finally { await lazy.close() }
})

L('a started hub holds no verify worker until a batch arrives; the batch is verified and stored', async () => {
  const tmp = tmpDir()
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: await freePort(), approval: 'auto', workers: 2, control: false })
  try {
    const idle = threads()
    const a = Identity.generate()
    await hub.registry.onIdentity(a.agentId, a.document())
    let prev: string | null = null
    const records = Array.from({ length: 5 }, (_, i) => { const r = stampEvent(a, { event_type: 'tick', i }, { previousHash: prev }); prev = r.hash; return encodeRecord(r.event, 0) })
    const out = await hub.ingest.submit(a.agentId, { from: 0, ids: [a.agentId], records, topic: 't' })
    assert.ok('ack' in out, JSON.stringify(out))
    assert.ok(threads() >= idle + 2, `the first batch started the 2 workers (${idle} threads before, ${threads()} after)`)
  } finally { await hub.close(); tmp.cleanup() }
})

L('startVerifyWorkers starts them before any batch (a warm-up); a second call starts no more', async () => {
  const tmp = tmpDir()
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: await freePort(), approval: 'auto', workers: 2, control: false })
  try {
    const idle = threads()
    await hub.startVerifyWorkers()
    const warm = threads()
    assert.ok(warm >= idle + 2, `${idle} threads before, ${warm} after`)
    await hub.startVerifyWorkers()
    assert.is(threads(), warm)
  } finally { await hub.close(); tmp.cleanup() }
})

L.run()
