// Vigil's state across hub restarts (hub/vigil-state.ts) and when it is saved next to the shared-store feed
// positions (hub/consumers.ts): an unreadable vigil.json costs history but is kept for a person to read,
// and positions are never saved past a Vigil state that failed to save. Real files; real PostgreSQL for
// the shared store (skipped, saying why, without PCP_TEST_PG_URL).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadVigil, saveVigil } from '../hub/vigil-state.js'
import { EventConsumers } from '../hub/consumers.js'
import { openHubStore } from '../hub/store/open.js'
import { VigilEngine } from '../hub/vigil/engine.js'
import { tmpDir } from './helpers.js'
import { pgSkipReason, createTestDb } from './support/pg.js'

const V = suite('hub-vigil-state')

V('a torn vigil.json: the hub starts with an empty Vigil, says so, and keeps the file aside instead of saving over it', async () => {
  const tmp = tmpDir()
  try {
    const engine = new VigilEngine()
    engine.onAnomaly('A', { code: 'FORK_DETECTED', index: 6 })
    await saveVigil(tmp.path, engine)
    const whole = readFileSync(join(tmp.path, 'vigil.json'))
    const torn = whole.subarray(0, whole.length >> 1)
    writeFileSync(join(tmp.path, 'vigil.json'), torn)
    const lines: Array<Record<string, unknown>> = []
    const logger = { error: (o: object) => { lines.push(o as Record<string, unknown>) }, warn: () => {}, info: () => {}, debug: () => {}, child () { return logger } }
    const restored = await loadVigil(tmp.path, {}, logger)
    assert.is(restored.alerts().length, 0)
    await saveVigil(tmp.path, restored) // what the hub does within a minute
    const kept = readdirSync(tmp.path).filter((f) => f.startsWith('vigil.json.unreadable-'))
    assert.is(kept.length, 1, 'the torn file is kept aside') // the old code: written over by the next save
    assert.equal(readFileSync(join(tmp.path, kept[0]!)), torn)
    assert.is(lines[0]?.event, 'restore_failed')
    assert.is(lines[0]?.kept, join(tmp.path, kept[0]!))
    assert.ok((await loadVigil(tmp.path)).alerts().length === 0, 'the fresh state is readable again')
  } finally { tmp.cleanup() }
})

const P = pgSkipReason ? V.skip : V
if (pgSkipReason) console.log(`  hub-vigil-state: shared-store case skipped: ${pgSkipReason}`)

P('a shared store: feed positions are not saved when vigil.json could not be (they would skip events Vigil never saw)', async () => {
  const tmp = tmpDir(); const db = await createTestDb()
  const store = await openHubStore(tmp.path, db.url)
  try {
    const consumers = new EventConsumers({ store, vigil: new VigilEngine(), interactions: null })
    // vigil.json cannot be replaced (a directory in its place: rename fails, as a full disk fails the big
    // file while the small positions file still fits).
    mkdirSync(join(tmp.path, 'vigil.json'))
    await consumers.save(tmp.path)
    assert.is(existsSync(join(tmp.path, 'vigil-fed.json')), false, 'no positions without the state they belong with')
    const fresh = join(tmp.path, 'again'); mkdirSync(fresh)
    await consumers.save(fresh)
    assert.ok(existsSync(join(fresh, 'vigil.json')) && existsSync(join(fresh, 'vigil-fed.json')), 'both once the state saves')
  } finally { await store.close(); await db.drop(); tmp.cleanup() }
})

V.run()
