// Hostile input, as an attacker on the network sends it: a plain MQTT client (the `mqtt` package) holding
// no key publishes on a victim's topic, for each class of claim the hub's ingest handles. After each, the
// victim's registry state, chain, evidence, VRS and TrustGate decision are what they were, the hub's
// /health answered in under 100 ms throughout, and every refusal is counted under its reason. Runs on
// the embedded broker and, when PCP_TEST_MQTT_URL is set, on that broker (Mosquitto in CI).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Identity, eventHash, stampEvent } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { startHubServices, type HubServices } from '../hub/services.js'
import { eventsEnvelope } from '../sync/wire.js'
import { brokerTargets, type BrokerTarget } from './support/brokers.js'
import { rawClient, chainOf, probeHealth, victimView } from './support/hostile.js'
import { until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const Hostile = suite('hub hostile input')

interface Setup { s: HubServices, target: BrokerTarget, attacker: ReturnType<typeof rawClient>, victim: Identity, events: ReturnType<typeof chainOf>, cleanup: () => Promise<void> }

/** A hub consuming `target`, and a victim whose first 5 of 10 events are stored. */
async function setup (target: BrokerTarget, approval: 'auto' | 'manual' = 'auto'): Promise<Setup> {
  const tmp = tmpDir()
  const s = await startHubServices({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, approval, workers: 2, control: false, vigilApi: { port: 0, localOnly: true }, trustgateApi: false })
  const victim = Identity.generate()
  const events = chainOf(victim, 10)
  const device = rawClient(await target.connect({ clientId: target.clientId('victim'), protocolVersion: 4 }), target.prefix)
  assert.is((await device.ask(victim.agentId, { v: 1, kind: 'identity', identity: victim.document(), name: 'robot-8' })).kind, 'head')
  if (approval === 'manual') await s.hub.approve(victim.agentId, { name: 'robot-8' })
  assert.is((await device.ask(victim.agentId, eventsEnvelope(randomBytes(8), 0, events.slice(0, 5)))).kind, 'ack')
  const attacker = rawClient(await target.connect({ clientId: target.clientId('attacker'), protocolVersion: 4 }), target.prefix)
  return { s, target, attacker, victim, events, cleanup: async () => { await s.close(); tmp.cleanup() } }
}

/** Runs `attack` while probing /health; checks the victim unchanged and the reasons counted. */
async function unchangedBy (x: Setup, attack: () => Promise<void>, counted: Record<string, number>): Promise<void> {
  const before = await victimView(x.s, x.victim.agentId)
  const base = x.s.hub.rejections()
  const probe = await probeHealth(`${x.s.vigilUrl}/health`)
  try {
    await attack()
    await until(() => Object.entries(counted).every(([k, n]) => (x.s.hub.rejections()[k] ?? 0) - (base[k] ?? 0) >= n), 10_000, `counted ${JSON.stringify(counted)}`)
  } finally {
    const h = await probe.stop()
    assert.ok(h.probes > 0 && h.failures === 0, JSON.stringify(h))
    // 100 ms is the bound (issue 14); a loaded CI machine's own idle jitter is not the hub's doing.
    assert.ok(h.maxMs < 100 + probe.idleMs, `/health took ${h.maxMs.toFixed(1)} ms during the attack (idle: ${probe.idleMs.toFixed(1)} ms)`)
  }
  const now = x.s.hub.rejections()
  for (const [k, n] of Object.entries(counted)) assert.is((now[k] ?? 0) - (base[k] ?? 0), n, `count of ${k}: ${JSON.stringify(now)}`)
  assert.equal(await victimView(x.s, x.victim.agentId), before)
}

for (const spec of brokerTargets()) {
  Hostile(`${spec.name}: junk at a held position is not a fork of the victim (issue 14 #1)`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      await unchangedBy(x, async () => {
        // The message: no valid signature needed, and it turned the victim CRITICAL.
        await x.attacker.send(x.victim.agentId, { v: 1, kind: 'events', from: 0, ids: [x.victim.agentId], records: [new Uint8Array([1, 2, 3])] })
        // A well-formed event at #2 signed by another key, and one with the victim's signature edited in.
        const other = Identity.generate()
        const mallory = stampEvent(other, { event_type: 'tick', i: 2 }, { previousHash: eventHash(x.events[1]!), timestamp: 1_700_000_002 }).event
        await x.attacker.send(x.victim.agentId, { v: 1, kind: 'events', from: 2, ids: [x.victim.agentId], records: [encodeRecord({ ...mallory, agent_id: x.victim.agentId }, 0)] })
        const edited = { ...x.events[3]!, payload: { ...x.events[3]!.payload, i: 99 } }
        await x.attacker.send(x.victim.agentId, eventsEnvelope(randomBytes(8), 3, [edited]))
        // The victim's own event #1 claimed at #4 (held): a copy, not a fork.
        await x.attacker.send(x.victim.agentId, eventsEnvelope(randomBytes(8), 4, [x.events[1]!]))
      }, { FORGED_EVENT_MALFORMED: 1, FORGED_SIGNATURE_INVALID: 2, REPLAYED_EVENT: 1 })
      assert.is(x.s.hub.rejections().FORK_DETECTED, undefined)
    } finally { await x.cleanup(); await target.close() }
  })

  Hostile(`${spec.name}: forged, replayed and foreign events at the next position change nothing`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      await unchangedBy(x, async () => {
        const edited = { ...x.events[5]!, payload: { ...x.events[5]!.payload, i: 99 } }
        await x.attacker.send(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, [edited]))
        // A bad signature encoding, and an undecodable record after a good-looking one.
        await x.attacker.send(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, [{ ...x.events[5]!, signature: 'not base64!' }]))
        // Stored event #2 as the next event (a replay), and another device's genuine chain.
        await x.attacker.send(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, [x.events[2]!]))
        await x.attacker.send(x.victim.agentId, eventsEnvelope(randomBytes(8), 0, chainOf(Identity.generate(), 3)))
      }, { FORGED_SIGNATURE_INVALID: 2, FORGED_SIGNATURE_ENCODING: 1, REPLAYED_EVENT: 1 })
      // The genuine device carries on from where it was.
      const device = rawClient(await target.connect({ clientId: target.clientId('victim2'), protocolVersion: 4 }), target.prefix)
      const ok = await device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, x.events.slice(5)))
      assert.is(ok.kind, 'ack')
      assert.is(x.s.hub.chain.status(x.victim.agentId)!.rejectedCount, 0)
    } finally { await x.cleanup(); await target.close() }
  })

  Hostile(`${spec.name}: a real fork (both events signed by the victim's key) is still evidence`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      const fork = stampEvent(x.victim, { event_type: 'tick', i: 'other' }, { previousHash: eventHash(x.events[2]!), timestamp: 1_700_000_003 }).event
      const device = rawClient(await target.connect({ clientId: target.clientId('clone'), protocolVersion: 4 }), target.prefix)
      const k = await device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 3, [fork]))
      assert.is(k.kind, 'nack'); assert.match((k as { message: string }).message, /FORK_DETECTED/)
      assert.is(x.s.hub.chain.status(x.victim.agentId)!.rejectedCount, 1)
      assert.is(x.s.hub.vigil!.vrs(x.victim.agentId)!.state, 'CRITICAL')
    } finally { await x.cleanup(); await target.close() }
  })
}

Hostile.run()
