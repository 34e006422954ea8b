// Gate requests as an attacker on the network sends them (issue 14 #2): a plain MQTT client with no key
// (or with a key of its own) publishes gate requests on a victim's `up` topic, or under ids the hub never
// registered, or replays what it captured of the victim's own signed requests. The victim's state, VRS,
// escalation and gate decisions are what they were, the hub's signed journal gains nothing, and every
// refusal is counted in /metrics (pcp_gate_refused_total{reason}). The real device, asking for itself,
// still gets its answers — under the role the operator approved it with, whatever it claims. Runs on the
// embedded broker and, when PCP_TEST_MQTT_URL is set, on that broker.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { Agent, Identity, statementSigner } from '../runtime/index.js'
import { startHubServices, type HubServices } from '../hub/services.js'
import { DeviceGate } from '../sync/gate.js'
import { decodeEnvelope, encodeEnvelope, signGateRequest } from '../sync/gate-wire.js'
import { upTopic, downTopic } from '../sync/topics.js'
import { brokerTargets, type BrokerTarget } from './support/brokers.js'
import { rawClient, victimView } from './support/hostile.js'
import { until } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const Hostile = suite('trustgate gate: hostile requests')

interface Setup { s: HubServices, target: BrokerTarget, victim: Agent, gate: DeviceGate, attacker: MqttClient, journal: () => Promise<number>, refused: () => Promise<Record<string, number>>, cleanup: () => Promise<void> }

async function setup (target: BrokerTarget): Promise<Setup> {
  const tmp = tmpDir('pcp-gate-hostile-')
  const s = await startHubServices({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, workers: 0, control: false, vigilApi: { port: 0, localOnly: true }, trustgateApi: false })
  const victim = await Agent.open({ name: 'victim' }, { home: tmp.path })
  const client = await target.connect({ clientId: target.clientId('victim'), protocolVersion: 4 })
  const device = rawClient(client, target.prefix)
  assert.is((await device.ask(victim.agentId, { v: 1, kind: 'identity', identity: await victim.firstIdentityDocument(), name: 'robot-8' })).kind, 'head')
  await s.hub.approve(victim.agentId, { name: 'robot-8' }) // manual approval, default role (operator)
  const gate = await DeviceGate.open({ client, agent: victim, hub: s.hub.agent.identityDocument(), prefix: target.prefix, timeoutMs: 3000 })
  const attacker = await target.connect({ clientId: target.clientId('attacker'), protocolVersion: 4 })
  return {
    s, target, victim, gate, attacker,
    journal: async () => (await s.hub.agent.history()).filter((e) => e.payload.event_type === 'trustgate.decision').length,
    async refused () {
      const text = await (await fetch(`${s.vigilUrl}/metrics`)).text()
      return Object.fromEntries([...text.matchAll(/^pcp_gate_refused_total\{reason="([A-Z_]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
    },
    async cleanup () { await gate.close(); await s.close(); await victim.close(); tmp.cleanup() }
  }
}

const dangerous = (extra: object = {}): Record<string, unknown> => ({ v: 1, kind: 'gate', corr: randomBytes(16), action: 'shell', payload: { cmd: 'rm -rf /' }, request_id: randomBytes(16).toString('hex'), ...extra })

/** Publishes each envelope on `agentId`'s up topic. */
async function spray (c: MqttClient, prefix: string, agentId: string, envs: Array<Record<string, unknown>>): Promise<void> {
  for (const e of envs) await c.publishAsync(upTopic(agentId, prefix), Buffer.from(encodeEnvelope(e)), { qos: 1 })
}

for (const spec of brokerTargets()) {
  Hostile(`${spec.name}: spoofed dangerous requests do not make the victim RESTRICTED, nor reach the journal`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      const before = await victimView(x.s, x.victim.agentId)
      const journal = await x.journal()
      const mallory = Identity.generate()
      const now = Math.floor(Date.now() / 1000)
      // Well over the policy's auto_restrict_after (8): unsigned, claiming `role: trusted`, and signed by
      // the attacker's own key for the victim's topic.
      await spray(x.attacker, target.prefix, x.victim.agentId, [
        ...Array.from({ length: 10 }, () => dangerous()),
        ...Array.from({ length: 10 }, () => dangerous({ role: 'trusted' })),
        ...Array.from({ length: 10 }, () => signGateRequest(statementSigner(mallory), x.victim.agentId, dangerous(), now, randomBytes(16).toString('hex')))
      ])
      await until(async () => { const r = await x.refused(); return (r.REQUEST_UNSIGNED ?? 0) + (r.REQUEST_SIGNATURE_INVALID ?? 0) >= 30 }, 10_000, '30 refusals counted')
      assert.equal(await x.refused(), { REQUEST_UNSIGNED: 20, REQUEST_SIGNATURE_INVALID: 10 })
      assert.is(await x.journal(), journal, 'nothing journalled')
      assert.equal(await victimView(x.s, x.victim.agentId), before)
      // The victim itself is judged on its own record: read_db is allowed, not RESTRICTED.
      const v = await x.gate.check('read_db', { table: 'orders' })
      assert.equal([v.source, v.outcome], ['hub', 'ALLOW'])
    } finally { await x.cleanup(); await target.close() }
  })

  Hostile(`${spec.name}: never-registered ids do not write to the signed journal`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      const journal = await x.journal()
      const now = Math.floor(Date.now() / 1000)
      for (let i = 0; i < 50; i++) {
        // Each a fresh id with a valid signature of its own key: well-formed, and nobody the hub knows.
        const id = Identity.generate()
        await spray(x.attacker, target.prefix, id.agentId, [signGateRequest(statementSigner(id), id.agentId, dangerous({ action: 'read_db', payload: {} }), now, randomBytes(16).toString('hex'))])
      }
      await until(async () => ((await x.refused()).AGENT_UNKNOWN ?? 0) >= 50, 10_000, '50 AGENT_UNKNOWN')
      assert.equal(await x.refused(), { AGENT_UNKNOWN: 50 })
      assert.is(await x.journal(), journal)
      assert.is(x.s.trustgate.agents().length, 0, 'no agent state made up for them')
    } finally { await x.cleanup(); await target.close() }
  })

  Hostile(`${spec.name}: the device's "role: trusted" does not turn BLOCK into ALLOW; the approved role does`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      // nist_balanced: `delete` is not an operator's tool, and any tool but shell/admin is a trusted one's.
      const asked = await x.gate.check('delete', { path: '/var/log/old' }, { role: 'trusted' })
      assert.equal([asked.source, asked.outcome, asked.rule, asked.role], ['hub', 'BLOCK', 'role_violation', 'operator'])
      assert.is((await x.victim.history()).at(-1)!.payload.role, 'operator', 'the device stamps the role the hub decided under')
      await x.s.hub.approve(x.victim.agentId, { role: 'trusted' })
      const approved = await x.gate.check('delete', { path: '/var/log/old' })
      assert.equal([approved.outcome, approved.role], ['ALLOW', 'trusted'])
    } finally { await x.cleanup(); await target.close() }
  })

  Hostile(`${spec.name}: a replayed signed request is refused and changes nothing`, async () => {
    const target = await spec.start()
    const x = await setup(target)
    try {
      // The attacker records what the victim publishes (an open broker lets it; see mqtt-broker-auth for the ACL).
      const captured: Buffer[] = []
      x.attacker.on('message', (t, p) => { if (t === upTopic(x.victim.agentId, target.prefix)) captured.push(Buffer.from(p)) })
      await x.attacker.subscribeAsync(upTopic(x.victim.agentId, target.prefix), { qos: 1 })
      const answers: Array<Record<string, unknown>> = []
      x.attacker.on('message', (t, p) => { if (t === downTopic(x.victim.agentId, target.prefix)) answers.push(decodeEnvelope(p)!) })
      await x.attacker.subscribeAsync(downTopic(x.victim.agentId, target.prefix), { qos: 1 })
      const v = await x.gate.check('shell', { cmd: 'rm -rf /' })
      assert.equal([v.source, v.outcome, v.rule], ['hub', 'BLOCK', 'dangerous_pattern'])
      await until(() => captured.length === 1, 5000, 'the request captured')
      const journal = await x.journal()
      const before = await victimView(x.s, x.victim.agentId)
      for (let i = 0; i < 10; i++) await x.attacker.publishAsync(upTopic(x.victim.agentId, target.prefix), captured[0]!, { qos: 1 })
      await until(async () => ((await x.refused()).REQUEST_REPLAYED ?? 0) >= 10, 10_000, '10 replays refused')
      assert.equal(await x.refused(), { REQUEST_REPLAYED: 10 })
      await until(() => answers.filter((a) => a.code === 'REQUEST_REPLAYED').length === 10, 5000, 'refusals answered')
      assert.is(await x.journal(), journal)
      assert.equal(await victimView(x.s, x.victim.agentId), before)
    } finally { await x.cleanup(); await target.close() }
  })
}

Hostile.run()
