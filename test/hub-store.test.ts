// The hub's LevelDB chain store: group-committed appends guarded by the head (compare-and-set), reopen,
// nonce index, bounded evidence, and the lock that keeps a second process out.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { LevelHubStore } from '../hub/store/level.js'
import { newRecord } from '../hub/registry.js'
import type { AgentRecord } from '../hub/store/types.js'
import { tmpDir } from './helpers.js'

const Store = suite('hub store (LevelDB)')

function chain (id: Identity, n: number): Array<{ event: AissEvent, hash: string, keyIndex: number }> {
  let prev: string | null = null
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: 1_700_000_000 + i }); prev = r.hash; return { ...r, keyIndex: 0 } })
}

function after (rec: AgentRecord, items: Array<{ event: AissEvent, hash: string }>, count: number): AgentRecord {
  const last = items.at(-1)!
  return { ...rec, head: { seq: count - 1, hash: last.hash, timestamp: last.event.timestamp }, count }
}

Store('appends two chains in one durable write, refuses a stale head, reopens with everything', async () => {
  const tmp = tmpDir()
  const a = Identity.generate(); const b = Identity.generate()
  let store = await LevelHubStore.open(join(tmp.path, 's'))
  try {
    const ra = { ...newRecord(a.agentId, 'a', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] }
    const rb = { ...newRecord(b.agentId, 'b', 'allowed', 2), keys: [{ agentId: b.agentId, publicKey: b.publicKey }] }
    await store.putAgent(ra); await store.putAgent(rb)
    const ca = chain(a, 5); const cb = chain(b, 3)
    await store.append([
      { agentId: a.agentId, expectedSeq: -1, events: ca, record: after(ra, ca, 5) },
      { agentId: b.agentId, expectedSeq: -1, events: cb, record: after(rb, cb, 3) }
    ])
    try {
      await store.append([{ agentId: a.agentId, expectedSeq: 2, events: ca.slice(0, 1), record: after(ra, ca.slice(0, 1), 4) }])
      assert.unreachable('a stale head must be refused')
    } catch (err) { assert.is((err as { code?: string }).code, 'STORE_CONFLICT') }
    assert.equal(await store.noncesUsed(a.agentId, [{ signer: a.agentId, nonce: ca[3]!.event.nonce }, { signer: a.agentId, nonce: 'fresh' }]), [3, undefined])
    // A second opener (another hub process would be the same) is refused while this one holds it.
    try { await LevelHubStore.open(join(tmp.path, 's')); assert.unreachable() } catch (err) { assert.is((err as { code?: string }).code, 'STORE_LOCKED') }
    await store.close()
    store = await LevelHubStore.open(join(tmp.path, 's'))
    assert.equal(store.agents().map((r) => [r.name, r.count]), [['a', 5], ['b', 3]])
    const back: AissEvent[] = []
    for await (const { event } of store.events(a.agentId)) back.push(event)
    assert.equal(back, ca.map((c) => c.event))
    assert.equal(await store.event(b.agentId, 2), cb[2]!.event)
  } finally { await store.close(); tmp.cleanup() }
})

Store('keeps the newest evidence entries per agent, bounded', async () => {
  const tmp = tmpDir()
  const a = Identity.generate()
  const store = await LevelHubStore.open(join(tmp.path, 's'), { maxEvidence: 3 })
  try {
    let rec = newRecord(a.agentId, 'a', 'allowed', 1)
    for (let i = 0; i < 5; i++) {
      rec = { ...rec, evidenceCount: rec.evidenceCount + 1 }
      await store.putAgent(rec, { at: i, code: `C${i}`, message: 'm', seq: i, topic: 't', raw: new Uint8Array([i]) })
    }
    const ev = await store.evidence(a.agentId, 10)
    assert.equal(ev.map((e) => e.code), ['C4', 'C3', 'C2'])
    assert.equal(ev[0]!.raw, new Uint8Array([4]))
  } finally { await store.close(); tmp.cleanup() }
})

Store.run()
