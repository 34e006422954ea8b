// A revocation that lands while a batch of the agent is being checked (its signatures in the verify pool):
// the hub checked the registry when the batch arrived, but stores nothing of it once it knows. Real
// LevelDB store on a temp dir; the pool is the real verifyBatch, held back until the revocation is written.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { LevelHubStore } from '../hub/store/level.js'
import { Ingest, type BatchOutcome } from '../hub/ingest.js'
import { verifyBatch } from '../hub/ingest-verify.js'
import { Registry, newRecord } from '../hub/registry.js'
import { tmpDir } from './helpers.js'

const S = suite('ingest and a revocation during the check')

function chain (id: Identity, n: number): AissEvent[] {
  let prev: string | null = null
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: 1_700_000_000 + i }); prev = r.hash; return r.event })
}

/** An allowed agent on a fresh store, and ingest whose verify pool holds every batch until released. */
async function heldIngest (fn: (w: { store: LevelHubStore, a: Identity, submit: () => Promise<BatchOutcome>, release: () => void }) => Promise<void>): Promise<void> {
  const dir = tmpDir()
  const store = await LevelHubStore.open(dir.path)
  try {
    const a = Identity.generate()
    await store.putAgent({ ...newRecord(a.agentId, 'dev', 'allowed', 1), keys: [{ agentId: a.agentId, publicKey: a.publicKey }] })
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const ingest = new Ingest({ store, pool: { submit: async (_k, item) => { await held; return verifyBatch(item) } }, now: () => 1_700_001_000 })
    const submit = (): Promise<BatchOutcome> => ingest.submit(a.agentId, { from: 0, ids: [a.agentId], records: chain(a, 3).map((e) => encodeRecord(e, 0)), topic: 't' })
    await fn({ store, a, submit, release })
  } finally { await store.close(); dir.cleanup() }
}

S('a batch checked while the agent was revoked is refused with AGENT_REVOKED and nothing of it is stored', async () => {
  await heldIngest(async ({ store, a, submit, release }) => {
    const out = submit()
    await new Registry(store).revoke(a.agentId)
    release()
    const o = await out
    assert.ok('nack' in o, `refused, got ${JSON.stringify(o)}`)
    const nack = (o as { nack: { code: string, retry: boolean } }).nack
    assert.equal([nack.code, nack.retry], ['AGENT_REVOKED', false])
    assert.is(store.agent(a.agentId)!.count, 0, 'no event counted')
    assert.is(await store.event(a.agentId, 0), undefined, 'no event stored')
    assert.is(store.agent(a.agentId)!.state, 'revoked', 'the revocation stands')
  })
})

S('the same batch on an allowed agent is stored (the held pool is not what refuses it)', async () => {
  await heldIngest(async ({ store, a, submit, release }) => {
    const out = submit()
    release()
    const o = await out
    assert.ok('ack' in o, JSON.stringify(o))
    assert.is(store.agent(a.agentId)!.count, 3)
  })
})

S.run()
