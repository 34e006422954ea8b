// One table of chain faults, each checked through every user of the chain step (runtime/chain-step.ts):
// ChainVerifier (verifyChain), the hub's MQTT ingest (a real Hub, its verify pool on a worker thread, a
// LevelDB store on a temp dir), the HTTP record route (POST /api/agent/<a>/record on that hub), and Vigil's
// chain risk (what both hub paths feed). Every fault is signed by the agent's own key, so the hub charges
// it to the agent rather than counting it as hostile input; each user must report the same code, index,
// field, expected, actual and message.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  Identity, stampEvent, eventHash, verifyChain, signingBytes, toBase64, type AissEvent
} from '../runtime/index.js'
import { chainStep, type ChainState, type StepFacts } from '../runtime/chain-step.js'
import { encodeRecord } from '../runtime/record.js'
import { withEveryPath, fields } from './support/every-path.js'
import { kindOf } from '../hub/vigil/chain-risk.js'

const Step = suite('chain step')
const T0 = 1700000000

function sign (id: Identity, unsigned: Record<string, unknown>): AissEvent {
  const ev = unsigned as unknown as AissEvent
  return { ...ev, signature: toBase64(id.sign(signingBytes(ev))) }
}

/** Three good events of `id`. */
function prefix (id: Identity): { events: AissEvent[], head: string } {
  const events: AissEvent[] = []
  let prev: string | null = id.genesisHash()
  for (let i = 0; i < 3; i++) {
    const { event, hash } = stampEvent(id, { event_type: 'step', i }, { previousHash: prev, timestamp: T0 + i })
    events.push(event); prev = hash
  }
  return { events, head: prev! }
}

interface Fault { name: string, code: string, field?: string, make: (id: Identity, good: AissEvent[], head: string) => AissEvent }
const base = (id: Identity, head: string): Record<string, unknown> => ({
  version: 'AISS-1.0', agent_id: id.agentId, timestamp: T0 + 3, nonce: `n-${Math.random()}`, payload: { event_type: 'step', i: 3 }, previous_hash: head
})

const FAULTS: Fault[] = [
  { name: 'link to something else than the head', code: 'CHAIN_LINK_BROKEN', field: 'previous_hash', make: (id, _g, head) => sign(id, { ...base(id, head), previous_hash: 'ab'.repeat(32) }) },
  { name: 'a second successor of an earlier event (a fork)', code: 'FORK_DETECTED', field: 'previous_hash', make: (id, g, head) => sign(id, { ...base(id, head), previous_hash: eventHash(g[0]!) }) },
  { name: 'time going backwards', code: 'TIMESTAMP_BACKWARDS', field: 'timestamp', make: (id, _g, head) => sign(id, { ...base(id, head), timestamp: T0 + 1 }) },
  { name: 'a nonce used before', code: 'NONCE_REPLAYED', field: 'nonce', make: (id, g, head) => sign(id, { ...base(id, head), nonce: g[1]!.nonce }) },
  { name: 'an empty nonce', code: 'EVENT_MALFORMED', field: 'nonce', make: (id, _g, head) => sign(id, { ...base(id, head), nonce: '' }) },
  { name: "another agent's agent_id", code: 'AGENT_ID_MISMATCH', field: 'agent_id', make: (id, _g, head) => sign(id, { ...base(id, head), agent_id: Identity.generate().agentId }) },
  { name: 'a payload that is no object', code: 'EVENT_MALFORMED', field: 'payload', make: (id, _g, head) => sign(id, { ...base(id, head), payload: [1, 2] }) },
  { name: 'a timestamp that is no number', code: 'EVENT_MALFORMED', field: 'timestamp', make: (id, _g, head) => sign(id, { ...base(id, head), timestamp: 'soon' }) },
  { name: 'a rotation the chain cannot follow', code: 'ROTATION_INVALID', field: 'payload', make: (id, _g, head) => sign(id, { ...base(id, head), payload: { event_type: 'key_rotation', previous_agent_id: 'nobody' } }) }
]


Step('the step allocates no problem list for a good event and leaves a refused one to the caller', () => {
  const id = Identity.generate({ now: T0 })
  const { events } = prefix(id)
  const state: ChainState = { seq: 0, headHash: null, lastTimestamp: null, agentId: id.agentId, publicKey: id.publicKey }
  const facts: StepFacts = { hash: 'cd'.repeat(32), signature: 'ok', nonceUsed: false, predecessorClaimedBy: undefined }
  const a = chainStep(state, events[0], facts, state)
  const b = chainStep(state, { ...events[1], previous_hash: 'cd'.repeat(32) }, facts, state)
  assert.is(a, b, 'one shared empty list')
  assert.ok(Object.isFrozen(a))
  assert.is(state.seq, 2)
  const next = { ...state }
  const bad = chainStep(state, { ...events[2], previous_hash: 'ef'.repeat(32) }, facts, next)
  assert.equal(bad.map((p) => p.code), ['CHAIN_LINK_BROKEN'])
  assert.is(state.seq, 2, 'state itself untouched when next is another object')
  assert.is(next.seq, 3)
})

Step('each fault: the same problem from ChainVerifier, hub ingest, the HTTP record route and Vigil', async () => {
  await withEveryPath(async ({ hub, offerIngest, offerRecord }) => {
    for (const fault of FAULTS) {
      // Each path gets its own agent: Vigil counts one (code, index) of an agent once.
      const viaMqtt = Identity.generate({ now: T0 }); const viaHttp = Identity.generate({ now: T0 })
      const chains = [viaMqtt, viaHttp].map((id) => ({ id, ...prefix(id) }))
      for (const c of chains) {
        await hub.registry.onIdentity(c.id.agentId, c.id.document())
        const ok = await hub.ingest.submit(c.id.agentId, { from: 0, ids: [c.id.agentId], records: c.events.map((e) => encodeRecord(e, 0)), topic: 'test' })
        assert.ok('ack' in ok, `${fault.name}: good prefix stored (${JSON.stringify(ok)})`)
      }

      // 1. ChainVerifier.
      const bad = chains.map((c) => fault.make(c.id, c.events, c.head))
      const reports = chains.map((c, k) => verifyChain([...c.events, bad[k]!], c.id.document()))
      const want = reports.map((r) => r.errors.find((e) => e.index === 3))
      for (const w of want) {
        assert.is(w?.code, fault.code, `${fault.name}: verifier code (${JSON.stringify(reports.map((r) => r.errors))})`)
        assert.is(w?.field, fault.field, `${fault.name}: verifier field`)
      }

      // 2. Hub ingest (the MQTT path): the batch's nack carries the problem.
      const out = await offerIngest(chains[0]!.id.agentId, bad[0]!)
      assert.ok('nack' in out, `${fault.name}: ingest refuses (${JSON.stringify(out)})`)
      assert.equal(fields('nack' in out ? out.problem : undefined), fields(want[0]), `${fault.name}: ingest`)

      // 3. The HTTP record route, for real over fastify.
      const h = chains[1]!
      const r = await offerRecord(h.id.agentId, bad[1]!)
      assert.is(r.status, 422, `${fault.name}: ${r.body}`)
      assert.equal(fields(JSON.parse(r.body).problems[0]), fields(want[1]), `${fault.name}: HTTP record route`)

      // 4. Vigil's chain risk, fed by both paths: the same code, index and message, under a kind.
      for (const [k, c] of chains.entries()) {
        const seen = hub.vigil!.vrs(c.id.agentId)!.components.chain.recent.at(-1)
        assert.equal({ code: seen?.code, index: seen?.index, message: seen?.message }, { code: want[k]!.code, index: 3, message: want[k]!.message }, `${fault.name}: Vigil (${k === 0 ? 'MQTT' : 'HTTP'})`)
        assert.is.not(kindOf(seen!.code), 'other', `${fault.name}: Vigil has a kind for ${seen?.code}`)
      }
      // Refused everywhere means stored nowhere: both chains still end at the good prefix.
      for (const c of chains) assert.is(hub.chain.status(c.id.agentId)!.headHash, c.head, `${fault.name}: head unchanged`)
    }
  })
})

Step.run()
