// The same HubStore assertions against both stores: LevelDB in a temp dir and PostgreSQL in a database of
// its own (PCP_TEST_PG_URL; skipped with the reason without one). What ingest relies on: appends guarded
// by the head, several chains in one write, records and events back after a reopen, nonces per signer,
// the exact record bytes, bounded evidence newest first, putAgent not touching events.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { LevelHubStore } from '../hub/store/level.js'
import { PgHubStore } from '../hub/store/pg.js'
import { newRecord } from '../hub/registry.js'
import type { AgentRecord, HubStore } from '../hub/store/types.js'
import { tmpDir } from './helpers.js'
import { createTestDb, pgSkipReason } from './support/pg.js'

interface Backend { name: string, skip: string | null, setup: () => Promise<{ open: (o?: { maxEvidence?: number }) => Promise<HubStore>, cleanup: () => Promise<void> }> }

const backends: Backend[] = [
  {
    name: 'LevelDB',
    skip: null,
    setup: async () => { const tmp = tmpDir(); return { open: (o) => LevelHubStore.open(join(tmp.path, 's'), o), cleanup: async () => tmp.cleanup() } }
  },
  {
    name: 'PostgreSQL',
    skip: pgSkipReason,
    setup: async () => { const db = await createTestDb(); return { open: (o) => PgHubStore.open(db.url, o), cleanup: () => db.drop() } }
  }
]

export function chain (id: Identity, n: number, start = 0, prev: string | null = null): Array<{ event: AissEvent, hash: string, keyIndex: number }> {
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i: start + i }, { previousHash: prev, timestamp: 1_700_000_000 + start + i }); prev = r.hash; return { ...r, keyIndex: 0 } })
}

export function after (rec: AgentRecord, items: Array<{ event: AissEvent, hash: string }>, count: number): AgentRecord {
  const last = items.at(-1)!
  return { ...rec, head: { seq: count - 1, hash: last.hash, timestamp: last.event.timestamp }, count }
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => { try { await p } catch (err) { return (err as { code?: string }).code } return undefined }

for (const b of backends) {
  const S = suite(`hub store conformance (${b.name})`)
  if (b.skip) { console.log(`skip hub store conformance (${b.name}): ${b.skip}`); continue }

  S('appends two chains in one write, refuses a stale head, reopens with everything', async () => {
    const env = await b.setup()
    const a = Identity.generate(); const c = Identity.generate()
    let store = await env.open()
    try {
      const ra = { ...newRecord(a.agentId, 'a', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] }
      const rc = { ...newRecord(c.agentId, 'c', 'allowed', 2), keys: [{ agentId: c.agentId, publicKey: c.publicKey }] }
      await store.putAgent(ra); await store.putAgent(rc)
      const ca = chain(a, 5); const cc = chain(c, 3)
      await store.append([
        { agentId: a.agentId, expectedSeq: -1, events: ca, record: after(ra, ca, 5) },
        { agentId: c.agentId, expectedSeq: -1, events: cc, record: after(rc, cc, 3) }
      ])
      assert.is(await codeOf(store.append([{ agentId: a.agentId, expectedSeq: 2, events: ca.slice(0, 1), record: after(ra, ca.slice(0, 1), 4) }])), 'STORE_CONFLICT', 'a stale head is refused')
      assert.is(store.agent(a.agentId)!.count, 5, 'the refused append left the record as it was')
      assert.equal(await store.noncesUsed(a.agentId, [{ signer: a.agentId, nonce: ca[3]!.event.nonce }, { signer: a.agentId, nonce: 'fresh' }, { signer: c.agentId, nonce: ca[3]!.event.nonce }]), [3, undefined, undefined], 'nonces are per signer')
      // The next batch of a chain goes on after the last.
      const more = chain(a, 2, 5, ca[4]!.hash)
      await store.append([{ agentId: a.agentId, expectedSeq: 4, events: more, record: after(store.agent(a.agentId)!, more, 7) }])
      await store.close()
      store = await env.open()
      assert.equal(store.agents().map((r) => [r.name, r.count, r.head?.seq]), [['a', 7, 6], ['c', 3, 2]])
      const back: AissEvent[] = []
      for await (const { event } of store.events(a.agentId)) back.push(event)
      assert.equal(back, [...ca, ...more].map((x) => x.event))
      const mid: number[] = []
      for await (const { seq } of store.events(a.agentId, 2, 4)) mid.push(seq)
      assert.equal(mid, [2, 3], '[from, to)')
      assert.equal(await store.event(c.agentId, 2), cc[2]!.event)
      assert.is(await store.event(c.agentId, 3), undefined)
      assert.equal((await store.reload(a.agentId))!.keys[0]!.publicKey, a.publicKey)
    } finally { await store.close(); await env.cleanup() }
  })

  S('putAgent changes the record, not the events; an unknown agent reloads as undefined', async () => {
    const env = await b.setup()
    const a = Identity.generate()
    const store = await env.open()
    try {
      const ra = { ...newRecord(a.agentId, 'a', 'pending', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] }
      await store.putAgent(ra)
      const ca = chain(a, 3)
      await store.append([{ agentId: a.agentId, expectedSeq: -1, events: ca, record: after(ra, ca, 3) }])
      await store.putAgent({ ...store.agent(a.agentId)!, state: 'allowed', role: 'arm' })
      const rec = await store.reload(a.agentId)
      assert.equal([rec!.state, rec!.role, rec!.count], ['allowed', 'arm', 3])
      let n = 0
      for await (const _ of store.events(a.agentId)) n++
      assert.is(n, 3)
      assert.is(await store.reload(Identity.generate().agentId), undefined)
    } finally { await store.close(); await env.cleanup() }
  })

  S('keeps the newest evidence entries per agent, bounded, with their bytes', async () => {
    const env = await b.setup()
    const a = Identity.generate()
    const store = await env.open({ maxEvidence: 3 })
    try {
      let rec = newRecord(a.agentId, 'a', 'allowed', 1)
      for (let i = 0; i < 5; i++) {
        rec = { ...rec, evidenceCount: rec.evidenceCount + 1 }
        await store.putAgent(rec, { at: i, code: `C${i}`, message: 'm', seq: i, topic: 't', raw: new Uint8Array([i, 255]) })
      }
      const ev = await store.evidence(a.agentId, 10)
      assert.equal(ev.map((e) => e.code), ['C4', 'C3', 'C2'])
      assert.equal(ev[0]!.raw, new Uint8Array([4, 255]))
      assert.equal((await store.evidence(a.agentId, 1)).map((e) => e.code), ['C4'])
    } finally { await store.close(); await env.cleanup() }
  })

  S.run()
}
