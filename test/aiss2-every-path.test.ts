// The AISS-2 faults through every user of the profile rule (runtime/profile.ts, reached by runtime/chain-step.ts):
// ChainVerifier (verifyChain, hence `pcp verify` and the browser verifier), the hub's ingest (a real Hub,
// its verify pool on a worker thread, a LevelDB store on a temp dir), the HTTP record route (POST
// /api/agent/<a>/record on that hub) and Vigil's chain risk, as test/chain-step.test.ts does for the
// AISS-1 rules. Each fault starts from a real event signed by the agent's keys and is changed the way an
// attacker on the wire (an unsigned part altered) or a broken device (both halves signed over something
// wrong) would. The verifier is the reference: every other path must report its first problem at that
// index — code, field, expected, actual and message — and Vigil must count it under a kind.
// Input the agent's Ed25519 key did not sign is the hub's hostile input instead (hub/hostile.ts): the
// verifier's problem is the HTTP route's, and nothing is charged to the agent.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Identity, stampEvent, verifyChain, signingBytes, finishEvent, toBase64, profileUpgradePayload, crypto,
  type AissEvent, type IdentityDocument, type ProfilePolicy, type UnsignedEvent
} from '../runtime/aiss2-entry.js'
import { encodeRecord } from '../runtime/record.js'
import { withEveryPath, fields } from './support/every-path.js'
import { kindOf } from '../hub/vigil/chain-risk.js'
import { ROOT } from './helpers.js'

const E = suite('aiss2-every-path')
const T0 = 1700000000
const POLICY: ProfilePolicy = { default: 'AISS-2.0', event_types: { telemetry: 'AISS-1.0' } }
const V = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'aiss2_vectors.json'), 'utf8'))
type Profile = 'AISS-1.0' | 'AISS-2.0'
/** An event as an attacker or a broken device edits it. */
type Loose = Record<string, any>

/** Where the chain stands before the faulty event 3: its document, three good events, their head. */
interface Chain { id: Identity, doc: IdentityDocument, events: AissEvent[], head: string }
/**
 * - upgraded: an AISS-1 agent (AISS-1.0 document) whose event 1 is a profile_upgrade (Agent.upgradeProfile);
 * - born: an agent created with profile AISS-2.0 (its document binds the ML-DSA key from event 0);
 * - classic: an AISS-1 agent with an ML-DSA key it has not bound yet (what an upgrade starts from).
 */
type Kind = 'upgraded' | 'born' | 'classic'

function chainOf (kind: Kind): Chain {
  const id = Identity.generate({ now: T0, pq: true })
  const steps: Array<[Record<string, unknown>, Profile]> = kind === 'upgraded'
    ? [[{ event_type: 'telemetry', i: 0 }, 'AISS-1.0'], [profileUpgradePayload(id.publicKeyPq!, POLICY), 'AISS-2.0'], [{ event_type: 'actuator_command', i: 2 }, 'AISS-2.0']]
    : [0, 1, 2].map((i) => [{ event_type: 'actuator_command', i }, kind === 'born' ? 'AISS-2.0' : 'AISS-1.0'])
  const events: AissEvent[] = []
  let prev: string = id.genesisHash()
  for (const [i, [payload, profile]] of steps.entries()) {
    const { event, hash } = stampEvent(id, payload as never, { previousHash: prev, timestamp: T0 + i, profile })
    events.push(event); prev = hash
  }
  return { id, doc: kind === 'born' ? id.documentAiss2() : id.document(), events, head: prev }
}

/** Event 3, as the agent's keys sign it. */
const next = (c: Chain, payload: Record<string, unknown> = { event_type: 'actuator_command', i: 3 }, profile: Profile = 'AISS-2.0'): Loose =>
  stampEvent(c.id, payload as never, { previousHash: c.head, timestamp: T0 + 3, profile }).event as unknown as Loose

/** A signed event 3 changed after signing (what an attacker can do: the signatures stay as they were). */
function altered (c: Chain, change: (e: Loose) => void, payload?: Record<string, unknown>, profile?: Profile): AissEvent {
  const e = structuredClone(next(c, payload, profile)); change(e); return e as AissEvent
}

/** An AISS-2.0 event 3 changed before signing and signed by both keys (what a broken device does). */
function misSigned (c: Chain, change: (e: Loose) => void): AissEvent {
  const { signatures: _s, ...unsigned } = next(c)
  change(unsigned)
  const bytes = signingBytes(unsigned as AissEvent)
  return finishEvent(unsigned as UnsignedEvent, { classical: c.id.sign(bytes), postQuantum: c.id.signPq(bytes) })
}

const pqSig = (e: Loose, value: string | undefined): void => {
  if (value === undefined) delete e.signatures.post_quantum.signature
  else e.signatures.post_quantum.signature = value
}
const randomBytes = (n: number): Uint8Array => crypto().randomBytes(n)

interface Fault { name: string, kind: Kind, code: string, field: string, make: (c: Chain) => AissEvent }

const FAULTS: Fault[] = [
  // The ML-DSA half removed, replaced, or taken from another event.
  ...(['upgraded', 'born'] as const).flatMap((kind): Fault[] => [
    { name: `${kind}: the post_quantum entry removed`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum', make: (c) => altered(c, (e) => { delete e.signatures.post_quantum }) },
    { name: `${kind}: the ML-DSA signature removed`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum.signature', make: (c) => altered(c, (e) => pqSig(e, undefined)) },
    { name: `${kind}: garbage that is no base64 for the ML-DSA signature`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum.signature', make: (c) => altered(c, (e) => pqSig(e, 'not base64!')) },
    { name: `${kind}: 3309 random bytes for the ML-DSA signature`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum.signature', make: (c) => altered(c, (e) => pqSig(e, toBase64(randomBytes(3309)))) },
    { name: `${kind}: a signature of the wrong length`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum.signature', make: (c) => altered(c, (e) => pqSig(e, toBase64(randomBytes(2420)))) },
    {
      name: `${kind}: a valid ML-DSA signature of the chain's key over other bytes (event 2's)`,
      kind,
      code: 'PROFILE_MISMATCH',
      field: 'signatures.post_quantum.signature',
      make: (c) => altered(c, (e) => pqSig(e, (c.events[2] as unknown as Loose).signatures.post_quantum.signature))
    },
    { name: `${kind}: a round-3 Dilithium3 signature (3293 bytes, the reference's)`, kind, code: 'PQ_SIGNATURE_ROUND3', field: 'signatures.post_quantum.signature', make: (c) => altered(c, (e) => pqSig(e, V.genesis_event.signatures.post_quantum.signature)) },
    // Downgrades: AISS-1.0 where the chain's profile says AISS-2.0, correctly signed by the Ed25519 key.
    { name: `${kind}: an actuator_command stamped AISS-1.0`, kind, code: 'PROFILE_DOWNGRADE', field: 'version', make: (c) => next(c, undefined, 'AISS-1.0') as AissEvent },
    // Algorithm labels: the unsigned ones in `signatures` (an attacker), the signed ones (a broken device).
    { name: `${kind}: the post-quantum label renamed`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum.algorithm', make: (c) => altered(c, (e) => { e.signatures.post_quantum.algorithm = 'Dilithium3' }) },
    { name: `${kind}: the classical label renamed`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.classical.algorithm', make: (c) => altered(c, (e) => { e.signatures.classical.algorithm = 'Ed448' }) },
    { name: `${kind}: other algorithm names signed by both keys`, kind, code: 'PROFILE_MISMATCH', field: 'signature_algorithms', make: (c) => misSigned(c, (e) => { e.signature_algorithms = { classical: 'Ed25519', post_quantum: 'Dilithium3' } }) },
    { name: `${kind}: both labels renamed, in signatures and signed`, kind, code: 'PROFILE_MISMATCH', field: 'signatures.post_quantum.algorithm', make: (c) => { const e = misSigned(c, (u) => { u.signature_algorithms = { classical: 'Ed25519', post_quantum: 'SLH-DSA' } }) as unknown as Loose; e.signatures.post_quantum.algorithm = 'SLH-DSA'; return e as AissEvent } }
  ]),
  { name: 'born: a key_rotation stamped AISS-1.0 is a downgrade before it is a rotation', kind: 'born', code: 'PROFILE_DOWNGRADE', field: 'version', make: (c) => next(c, { event_type: 'key_rotation', previous_agent_id: 'nobody' }, 'AISS-1.0') as AissEvent },
  // Upgrades whose payload cannot be followed, each signed by both keys the event names or has in force.
  { name: 'classic: an upgrade naming a key of the wrong length', kind: 'classic', code: 'PROFILE_UPGRADE_INVALID', field: 'payload', make: (c) => next(c, { ...profileUpgradePayload(c.id.publicKeyPq!, POLICY), public_key_pq: toBase64(randomBytes(1951)) }) as AissEvent },
  { name: 'classic: an upgrade with no policy', kind: 'classic', code: 'PROFILE_UPGRADE_INVALID', field: 'payload', make: (c) => { const p: Loose = profileUpgradePayload(c.id.publicKeyPq!, POLICY); delete p.event_profiles; return next(c, p) as AissEvent } },
  { name: 'classic: an upgrade stamped AISS-1.0', kind: 'classic', code: 'PROFILE_UPGRADE_INVALID', field: 'version', make: (c) => next(c, profileUpgradePayload(c.id.publicKeyPq!, POLICY), 'AISS-1.0') as AissEvent },
  { name: 'upgraded: an upgrade back to AISS-1.0', kind: 'upgraded', code: 'PROFILE_UPGRADE_INVALID', field: 'payload', make: (c) => next(c, { ...profileUpgradePayload(c.id.publicKeyPq!, POLICY), profile: 'AISS-1.0' }) as AissEvent },
  { name: 'upgraded: an upgrade naming another ML-DSA key', kind: 'upgraded', code: 'PROFILE_UPGRADE_INVALID', field: 'payload', make: (c) => next(c, profileUpgradePayload(Identity.generate({ pq: true }).publicKeyPq!, POLICY)) as AissEvent },
  {
    name: 'born: an upgrade putting key_rotation under AISS-1.0',
    kind: 'born',
    code: 'PROFILE_UPGRADE_INVALID',
    field: 'payload',
    make: (c) => { const p: Loose = profileUpgradePayload(c.id.publicKeyPq!, POLICY); p.event_profiles.event_types.key_rotation = 'AISS-1.0'; return next(c, p) as AissEvent }
  }
]

/**
 * Not signed by the Ed25519 key in force: hostile input at the hub, never the agent's evidence. `code` and
 * `field` name the verifier's problem that says so (not always its first); the HTTP route must give it.
 */
const HOSTILE: Fault[] = [
  { name: 'upgraded: the signed algorithm names changed after signing', kind: 'upgraded', code: 'SIGNATURE_INVALID', field: 'signatures.classical.signature', make: (c) => altered(c, (e) => { e.signature_algorithms.post_quantum = 'Dilithium3' }) },
  { name: 'born: both signatures removed', kind: 'born', code: 'PROFILE_MISMATCH', field: 'signatures', make: (c) => altered(c, (e) => { delete e.signatures }) },
  { name: 'born: the classical entry removed', kind: 'born', code: 'PROFILE_MISMATCH', field: 'signatures', make: (c) => altered(c, (e) => { delete e.signatures.classical }) },
  { name: "born: event 2's Ed25519 signature", kind: 'born', code: 'SIGNATURE_INVALID', field: 'signatures.classical.signature', make: (c) => altered(c, (e) => { e.signatures.classical.signature = (c.events[2] as unknown as Loose).signatures.classical.signature }) },
  { name: 'upgraded: an AISS-1.0 telemetry (the policy allows it) with a signature of other bytes', kind: 'upgraded', code: 'SIGNATURE_INVALID', field: 'signature', make: (c) => altered(c, (e) => { e.signature = (c.events[0] as unknown as Loose).signature }, { event_type: 'telemetry', i: 3 }, 'AISS-1.0') }
]


E('each AISS-2 fault: the same problem from ChainVerifier, hub ingest, the HTTP record route and Vigil', async () => {
  await withEveryPath(async ({ hub, offerIngest, offerRecord }) => {
    for (const [hostile, fault] of [...FAULTS.map((f) => [false, f] as const), ...HOSTILE.map((f) => [true, f] as const)]) {
      // Each path gets its own agent: Vigil counts one (code, index) of an agent once.
      const chains = [chainOf(fault.kind), chainOf(fault.kind)]
      for (const c of chains) {
        await hub.registry.onIdentity(c.id.agentId, c.doc)
        const ok = await hub.ingest.submit(c.id.agentId, { from: 0, ids: [c.id.agentId], records: c.events.map((e) => encodeRecord(e, 0)), topic: 'test' })
        assert.ok('ack' in ok, `${fault.name}: good prefix stored (${JSON.stringify(ok)})`)
      }

      // 1. ChainVerifier, the reference.
      const bad = chains.map((c) => fault.make(c))
      const reports = chains.map((c, k) => verifyChain([...c.events, bad[k]!], c.doc))
      const want = reports.map((r) => r.errors.find((e) => e.index === 3 && (!hostile || (e.code === fault.code && e.field === fault.field))))
      for (const [k, w] of want.entries()) {
        assert.equal(reports[k]!.errors.filter((e) => e.index !== 3), [], `${fault.name}: the prefix verifies`)
        assert.is(w?.code, fault.code, `${fault.name}: verifier code (${JSON.stringify(reports[k]!.errors)})`)
        assert.is(w?.field, fault.field, `${fault.name}: verifier field (${JSON.stringify(reports[k]!.errors)})`)
      }
      const vigilBefore = chains.map((c) => hub.vigil!.vrs(c.id.agentId)!.components.chain.recent.length)

      // 2. Hub ingest (the MQTT path).
      const out = await offerIngest(chains[0]!.id.agentId, bad[0]!)
      if (hostile) assert.ok('hostile' in out && out.index === 3, `${fault.name}: ingest counts it as hostile (${JSON.stringify(out)})`)
      else {
        assert.ok('nack' in out, `${fault.name}: ingest refuses (${JSON.stringify(out)})`)
        assert.equal(fields('nack' in out ? out.problem : undefined), fields(want[0]), `${fault.name}: ingest`)
      }

      // 3. The HTTP record route, for real over fastify.
      const h = chains[1]!
      const r = await offerRecord(h.id.agentId, bad[1]!)
      assert.is(r.status, 422, `${fault.name}: ${r.body}`)
      assert.equal(fields(JSON.parse(r.body).problems[0]), fields(want[1]), `${fault.name}: HTTP record route`)

      // 4. Vigil's chain risk, fed by both paths; nothing for hostile input.
      for (const [k, c] of chains.entries()) {
        const recent = hub.vigil!.vrs(c.id.agentId)!.components.chain.recent
        const path = k === 0 ? 'MQTT' : 'HTTP'
        if (hostile) { assert.is(recent.length, vigilBefore[k], `${fault.name}: Vigil charges the agent nothing (${path})`); continue }
        const seen = recent.at(-1)
        assert.equal({ code: seen?.code, index: seen?.index, message: seen?.message }, { code: want[k]!.code, index: 3, message: want[k]!.message }, `${fault.name}: Vigil (${path})`)
        assert.is.not(kindOf(seen!.code), 'other', `${fault.name}: Vigil has a kind for ${seen?.code}`)
      }
      // Refused everywhere means stored nowhere: both chains still end at the good prefix.
      for (const c of chains) assert.is(hub.chain.status(c.id.agentId)!.headHash, c.head, `${fault.name}: head unchanged`)
      for (const c of chains) c.id.destroy()
    }
  })
})

E('the faults are made from real events: unchanged, each event 3 verifies on every kind of chain', () => {
  for (const kind of ['upgraded', 'born', 'classic'] as const) {
    const c = chainOf(kind)
    const ev = kind === 'classic' ? next(c, profileUpgradePayload(c.id.publicKeyPq!, POLICY)) : next(c)
    assert.equal(verifyChain([...c.events, ev as AissEvent], c.doc).errors, [], kind)
    c.id.destroy()
  }
})

E.run()
