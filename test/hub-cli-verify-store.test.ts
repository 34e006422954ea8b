// pcp hub verify-store as an operator runs it (the CLI as a child process), on a LevelDB store and on a
// PostgreSQL one (PCP_TEST_PG_URL, a fresh database; that part skipped with the reason without one): three
// chains, of which faults are planted in the stored bytes of two after they were written: an event whose
// payload was changed (its signature no longer matches) and an event deleted from the middle. The verdict
// names the first fault of each damaged agent, with its code and position, passes the good chain, and
// exits 1; the intact store exits 0.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { Level } from 'level'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { LevelHubStore } from '../hub/store/level.js'
import { newRecord } from '../hub/registry.js'
import type { AgentRecord, HubStore } from '../hub/store/types.js'
import { tmpDir, ROOT } from './helpers.js'
import { createTestDb, pgSkipReason } from './support/pg.js'

const S = suite('pcp hub verify-store')
const CLI = join(ROOT, 'test/support/hub-cli.ts')

interface Planted { good: Identity, tampered: Identity, holed: Identity, chains: Map<string, Array<{ event: AissEvent, hash: string }>> }

/** Three chains of 12 events, stored through the store's own writes (as ingest stores them). */
async function fill (store: HubStore): Promise<Planted> {
  const ids = [Identity.generate(), Identity.generate(), Identity.generate()]
  const chains = new Map<string, Array<{ event: AissEvent, hash: string }>>()
  for (const [k, id] of ids.entries()) {
    let prev: string | null = null
    const c = Array.from({ length: 12 }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: 1_700_000_000 + i }); prev = r.hash; return { ...r, keyIndex: 0 } })
    const rec: AgentRecord = { ...newRecord(id.agentId, `dev-${k}`, 'allowed', 1 + k), identity: id.document(), keys: [{ agentId: id.agentId, publicKey: id.publicKey }] }
    await store.putAgent(rec)
    const last = c.at(-1)!
    await store.append([{ agentId: id.agentId, expectedSeq: -1, events: c, record: { ...rec, head: { seq: 11, hash: last.hash, timestamp: last.event.timestamp }, count: 12 } }])
    chains.set(id.agentId, c)
  }
  return { good: ids[0]!, tampered: ids[1]!, holed: ids[2]!, chains }
}

/** Event #5 of `tampered` with another payload and its old signature: what an edit of the stored bytes makes. */
function tamperedRecord (p: Planted): Uint8Array {
  const ev = p.chains.get(p.tampered.agentId)![5]!.event
  return encodeRecord({ ...ev, payload: { ...ev.payload, i: 500 } } as AissEvent, 0)
}

function cli (args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'hub', 'verify-store', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function checkVerdict (out: { status: number | null, stdout: string, stderr: string }, p: Planted): void {
  assert.is(out.status, 1, out.stderr + out.stdout)
  const v = JSON.parse(out.stdout) as { ok: boolean, agents: number, faults: Array<{ agentId: string, index: number, code: string }>, perAgent: Array<{ agentId: string, ok: boolean, events: number }> }
  assert.is(v.ok, false)
  assert.is(v.agents, 3)
  const faults = Object.fromEntries(v.faults.map((f) => [f.agentId, [f.code, f.index]]))
  assert.equal(faults, { [p.tampered.agentId]: ['SIGNATURE_INVALID', 5], [p.holed.agentId]: ['STORE_CORRUPTED', 7] }, JSON.stringify(v.faults))
  assert.equal(v.perAgent.find((a) => a.agentId === p.good.agentId), { agentId: p.good.agentId, name: 'dev-0', state: 'allowed', events: 12, ok: true })
}

S('--help names what it checks and the exit status', () => {
  const r = cli(['--help'])
  assert.is(r.status, 0, r.stderr)
  assert.match(r.stdout, /re-verify every chain the hub store holds/)
  assert.match(r.stdout, /--store <url>/)
  assert.match(r.stdout, /Exit status: 0 every chain verifies, 1 at least one fault/)
})

S('LevelDB: an intact store verifies (exit 0); planted faults are reported, first per agent (exit 1); a missing store is refused', async () => {
  const tmp = tmpDir()
  try {
    const dir = join(tmp.path, 'hub')
    const store = await LevelHubStore.open(join(dir, 'store'))
    let p: Planted
    try { p = await fill(store) } finally { await store.close() }
    const intact = cli(['--data', dir])
    assert.is(intact.status, 0, intact.stderr + intact.stdout)
    assert.match(intact.stdout, /3 chain\(s\), 36 events verified in \d+ ms: all valid/)
    const db = new Level<string, Uint8Array>(join(dir, 'store'), { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    const key = (id: string, seq: number): string => `e!${id}!${seq.toString(16).padStart(16, '0')}`
    try {
      await db.put(key(p.tampered.agentId, 5), tamperedRecord(p))
      await db.del(key(p.holed.agentId, 7))
    } finally { await db.close() }
    checkVerdict(cli(['--data', dir, '--json']), p)
    const text = cli(['--data', dir])
    assert.match(text.stdout, new RegExp(`${p.tampered.agentId}  dev-1: SIGNATURE_INVALID at event #5`))
    const none = cli(['--data', join(tmp.path, 'nothing')])
    assert.is(none.status, 2)
    assert.match(none.stderr, /no hub store in .*nothing.*\[HUB_DATA_NOT_FOUND\]/)
  } finally { tmp.cleanup() }
})

S('PostgreSQL: the same faults planted in the rows are reported the same way', async () => {
  if (pgSkipReason) { console.log(`  skipped: ${pgSkipReason}`); return }
  const db = await createTestDb()
  try {
    const { PgHubStore } = await import('../hub/store/pg.js')
    const store = await PgHubStore.open(db.url)
    let p: Planted
    try { p = await fill(store) } finally { await store.close() }
    const tmp = tmpDir()
    try {
      const intact = cli(['--data', tmp.path, '--store', db.url, '--json'])
      assert.is(intact.status, 0, intact.stderr + intact.stdout)
      assert.is((JSON.parse(intact.stdout) as { events: number }).events, 36)
      await db.query('UPDATE pcp_events SET record = $1 WHERE agent_id = $2 AND seq = 5', [Buffer.from(tamperedRecord(p)), p.tampered.agentId])
      await db.query('DELETE FROM pcp_events WHERE agent_id = $1 AND seq = 7', [p.holed.agentId])
      checkVerdict(cli(['--data', tmp.path, '--store', db.url, '--json']), p)
    } finally { tmp.cleanup() }
  } finally { await db.drop() }
})

S.run()
