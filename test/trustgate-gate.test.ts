// The device gate end to end over real TCP MQTT: a real DeviceGate on the device's Agent, the real
// gate-handler on a real TrustGateService with the hub's Agent, the embedded broker (and the external one
// when PCP_TEST_MQTT_URL is set). The "hub" here is a small harness that subscribes to `<prefix>/+/up`
// and feeds messages to the handler, as the hub process does.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { Agent, verifyAuditExport, type AissEvent } from '../runtime/index.js'
import { hubFilter } from '../sync/topics.js'
import { DeviceGate } from '../sync/gate.js'
import { createTrustGateService, type TrustGateService } from '../hub/trustgate/service.js'
import { createGateHandler } from '../hub/trustgate/gate-handler.js'
import { allowedDevices } from '../hub/trustgate/gate-auth.js'
import { createTrustGateHttp } from '../hub/trustgate/http.js'
import { AuditedPiAgent } from '../rpi/agent.js'
import { brokerTargets, type BrokerTarget } from './support/brokers.js'
import { tmpDir } from './helpers.js'

export const GATE_POLICY = `
name: gate-test
version: "1"
thresholds: { vrs_require_human: 0.6, vrs_block: 0.85 }
roles:
  operator:
    allowed_tools: [read_db, move_arm, actuator_led]
    blocked_tools: [shell]
network: { block_external: false }
notification: { timeout_seconds: 60, on_timeout: REJECT }
dangerous_patterns: ['rm\\s+-rf']
`

interface World {
  target: BrokerTarget
  hub: Agent
  device: Agent
  service: TrustGateService
  hubClient: MqttClient
  deviceClient: MqttClient
  dir: string
  cleanup: () => Promise<void>
}

async function world (spec: ReturnType<typeof brokerTargets>[number]): Promise<World> {
  const tmp = tmpDir('pcp-tg-gate-')
  const target = await spec.start()
  const hub = await Agent.open({ name: 'hub' }, { home: tmp.path })
  const device = await Agent.open({ name: 'robot' }, { home: tmp.path })
  const service = await createTrustGateService({ dir: join(tmp.path, 'trustgate'), hub, initialPolicy: GATE_POLICY, expiryIntervalMs: 0 })
  const handler = createGateHandler(service, { prefix: target.prefix, signer: hub, devices: allowedDevices([{ agentId: device.agentId, publicKey: device.publicKey }]) })
  const hubClient = await target.connect({ clientId: target.clientId('hub'), protocolVersion: 4 })
  hubClient.on('message', (topic, payload) => {
    // Concurrently: a long-polled gate_wait must not hold up other agents' requests.
    handler.handleMessage(topic, payload).then((out) => { if (out) hubClient.publish(out.topic, Buffer.from(out.payload), { qos: 1 }) }, () => {})
  })
  await hubClient.subscribeAsync(hubFilter({ prefix: target.prefix }), { qos: 1 })
  const deviceClient = await target.connect({ clientId: target.clientId('robot'), protocolVersion: 4 })
  return {
    target, hub, device, service, hubClient, deviceClient, dir: tmp.path,
    async cleanup () {
      await service.close(); await target.close(); await hub.close(); await device.close(); tmp.cleanup()
    }
  }
}

async function lastEvent (agent: Agent): Promise<AissEvent> {
  const all = await agent.history()
  return all[all.length - 1]!
}

for (const spec of brokerTargets()) {
  const Gate = suite(`trustgate-gate (${spec.name})`)

  Gate('allow and block over MQTT: the hub decides, both chains record it, the device caches the signed policy', async () => {
    const w = await world(spec)
    try {
      const cacheFile = join(w.dir, 'policy-cache.json')
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix, cacheFile })
      const ok = await gate.check('read_db', { table: 'orders' }, { role: 'operator' })
      assert.equal([ok.allowed, ok.source, ok.outcome, ok.state], [true, 'hub', 'ALLOW', 'DECIDED'])
      const stamped = await lastEvent(w.device)
      assert.is(stamped.payload.event_type, 'gate_decision')
      assert.equal([stamped.payload.decision_id, stamped.payload.source, stamped.payload.allowed], [ok.decisionId, 'hub', true])
      // The hub journaled the same decision before answering; the device's event links to it.
      const journal = await w.hub.history()
      const hubEv = journal.find((e) => e.payload.event_type === 'trustgate.decision' && (e.payload.decision as { decision_id: string }).decision_id === ok.decisionId)
      assert.ok(hubEv, 'decision is in the hub journal')
      assert.is((hubEv!.payload.decision as { agent_id: string }).agent_id, w.device.agentId)
      // gaps.md #43: what the policy blocks, the gate blocks — the dangerous pattern first, then the role.
      const bad = await gate.check('shell', { cmd: 'rm -rf /' }, { role: 'operator' })
      assert.equal([bad.allowed, bad.source, bad.outcome, bad.rule], [false, 'hub', 'BLOCK', 'dangerous_pattern'])
      const role = await gate.check('shell', { cmd: 'ls' }, { role: 'operator' })
      assert.equal([role.allowed, role.rule], [false, 'role_violation'])
      // The device cannot choose its role (issue 14 #2): the hub decides under the one it was approved with.
      const claimed = await gate.check('read_db', {}, { role: 'intruder' })
      assert.equal([claimed.allowed, claimed.role], [true, 'operator'])
      assert.equal(gate.cachedPolicy?.hash, w.service.policy!.hash)
      assert.ok(readFileSync(cacheFile, 'utf8').includes('trustgate.policy_activated'))
      assert.is((await w.device.verify()).valid, true)
      await gate.close()
    } finally { await w.cleanup() }
  })

  Gate('require-human: the device waits while an authenticated principal approves through the HTTP API', async () => {
    const w = await world(spec)
    const http = await createTrustGateHttp(w.service, { host: '127.0.0.1', port: 0, token: 'tok-0123456789abcdef' })
    try {
      const { token } = await w.service.principals.create({ name: 'alice', clearance: 'L2', createdBy: 'test', now: w.service.now() })
      w.service.ingestAgentState({ agent_id: w.device.agentId, vrs: 0.7, tsi_state: 'STABLE' }) // Vigil says: risky
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix })
      const api = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> => fetch(`http://127.0.0.1:${http.port}${path}`, {
        method: 'POST', headers: { authorization: 'Bearer tok-0123456789abcdef', 'content-type': 'application/json', ...headers }, body: JSON.stringify(body)
      })
      const asked = gate.check('move_arm', { joint: 2, angle: 45 }, { role: 'operator', approvalWaitMs: 10_000 })
      let pending: Array<{ decision_id: string }> = []
      for (let i = 0; i < 100 && pending.length === 0; i++) {
        const r = await fetch(`http://127.0.0.1:${http.port}/api/decisions`, { headers: { authorization: 'Bearer tok-0123456789abcdef' } })
        pending = ((await r.json()) as { decisions: Array<{ decision_id: string }> }).decisions
        if (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      }
      assert.is(pending.length, 1)
      const id = pending[0]!.decision_id
      // The API token alone cannot approve (gaps.md #44), nor can a body naming a principal.
      const anon = await api(`/api/decisions/${id}/approve`, { justification: 'ok' })
      assert.is(anon.status, 401)
      assert.is(((await anon.json()) as { code: string }).code, 'PRINCIPAL_AUTH_REQUIRED')
      assert.is((await api(`/api/decisions/${id}/approve`, { principal_name: 'alice' })).status, 400)
      const forged = await api(`/api/decisions/${id}/approve`, {}, { 'x-trustgate-principal': token.slice(0, -2) + 'AA' })
      assert.is(forged.status, 401)
      const ok = await api(`/api/decisions/${id}/approve`, { justification: 'checked the arm' }, { 'x-trustgate-principal': token })
      assert.is(ok.status, 200)
      const verdict = await asked
      assert.equal([verdict.allowed, verdict.state, verdict.outcome, verdict.source, verdict.decisionId], [true, 'APPROVED', 'ALLOW', 'hub', id])
      assert.match(verdict.reason, /approved by PRINCIPAL-/)
      const types = (await w.hub.history()).map((e) => e.payload.event_type)
      for (const t of ['trustgate.policy_activated', 'trustgate.decision', 'trustgate.pending', 'trustgate.approved']) assert.ok(types.includes(t), t)
      // Exported, the hub's journal verifies like any chain (what `pcp verify` runs).
      const exported = verifyAuditExport(JSON.parse(JSON.stringify(await w.service.auditExport())))
      assert.ok(exported.usable && exported.report.valid)
      await gate.close()
    } finally { await http.close(); await w.cleanup() }
  })

  Gate('require-human without waiting: PENDING is denied; a rejection later is seen by wait()', async () => {
    const w = await world(spec)
    try {
      const { principal } = await w.service.principals.create({ name: 'bob', clearance: 'L3', createdBy: 'test', now: w.service.now() })
      w.service.ingestAgentState({ agent_id: w.device.agentId, vrs: 0.7, tsi_state: 'STABLE' })
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix })
      const first = await gate.check('move_arm', { joint: 1 })
      assert.equal([first.allowed, first.state, first.outcome], [false, 'PENDING', 'REQUIRE_HUMAN'])
      const later = gate.wait(first.decisionId, 5000)
      await w.service.reject(first.decisionId, w.service.principals.get(principal.id), 'not now')
      const v = await later
      assert.equal([v.allowed, v.state, v.outcome], [false, 'REJECTED', 'BLOCK'])
      await gate.close()
    } finally { await w.cleanup() }
  })

  Gate('hub unreachable: cached signed policy decides, human-needed actions fail closed; a tampered cache is refused', async () => {
    const w = await world(spec)
    try {
      const cacheFile = join(w.dir, 'cache.json')
      const opts = { client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix, cacheFile, timeoutMs: 300 }
      const gate = await DeviceGate.open(opts)
      assert.ok(await gate.refreshPolicy())
      await gate.check('read_db', {}) // the hub's view of the agent (VRS 0) is remembered for offline use
      await w.hubClient.endAsync(true) // the hub goes away; the broker stays
      const off = await gate.check('read_db', { table: 't' })
      assert.equal([off.allowed, off.source, off.outcome], [true, 'cached_policy', 'ALLOW'])
      const blocked = await gate.check('shell', { cmd: 'rm -rf /' })
      assert.equal([blocked.allowed, blocked.source, blocked.rule], [false, 'cached_policy', 'dangerous_pattern'])
      assert.is((await lastEvent(w.device)).payload.source, 'cached_policy')
      await gate.close()

      // The same cache, with the policy's bytes edited on disk (roles widened): refused, so fail closed.
      const doc = JSON.parse(readFileSync(cacheFile, 'utf8'))
      doc.text = Buffer.from(Buffer.from(doc.text, 'base64').toString('utf8').replace('blocked_tools: [shell]', 'blocked_tools: []')).toString('base64')
      writeFileSync(cacheFile, JSON.stringify(doc))
      const tampered = await DeviceGate.open(opts)
      assert.is(tampered.cachedPolicy, null)
      assert.match(String(tampered.cacheProblem), /hash/)
      const v = await tampered.check('read_db', {})
      assert.equal([v.allowed, v.source], [false, 'fail_closed'])
      await tampered.close()

      // A genuine cache, but pinned to another hub key: refused too.
      const other = await Agent.open({ name: 'other-hub' }, { home: w.dir })
      writeFileSync(cacheFile, JSON.stringify({ ...doc, text: Buffer.from(w.service.policy!.text).toString('base64') }))
      const wrongKey = await DeviceGate.open({ ...opts, hub: other.identityDocument() })
      assert.is(wrongKey.cachedPolicy, null)
      assert.match(String(wrongKey.cacheProblem), /not the pinned hub/)
      await wrongKey.close(); await other.close()
    } finally { await w.cleanup() }
  })

  Gate('offline with a risky agent: what would need a human is blocked (fail-closed)', async () => {
    const w = await world(spec)
    try {
      w.service.ingestAgentState({ agent_id: w.device.agentId, vrs: 0.7, tsi_state: 'STABLE' })
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix, timeoutMs: 300 })
      const p = await gate.check('read_db', {})
      assert.is(p.state, 'PENDING')
      await w.hubClient.endAsync(true)
      const v = await gate.check('read_db', {})
      assert.equal([v.allowed, v.source, v.outcome, v.rule], [false, 'fail_closed', 'BLOCK', 'vrs_require_human'])
      await gate.close()
      // No cache at all and no hub: fail closed.
      const bare = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix, timeoutMs: 200 })
      const none = await bare.check('read_db', {})
      assert.equal([none.allowed, none.source], [false, 'fail_closed'])
      await bare.close()
    } finally { await w.cleanup() }
  })

  Gate('a device whose clock is an hour off learns the hub\'s time from REQUEST_STALE and is answered', async () => {
    const w = await world(spec)
    try {
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix, clock: () => Date.now() - 3_600_000 })
      const v = await gate.check('read_db', { table: 'orders' })
      assert.equal([v.allowed, v.source, v.outcome], [true, 'hub', 'ALLOW'])
      const again = await gate.check('read_db', { table: 'orders' }) // the offset is kept: no second refusal
      assert.equal([again.allowed, again.source], [true, 'hub'])
      await gate.close()
    } finally { await w.cleanup() }
  })

  Gate('a forged "allowed" from someone else on the down topic is not trusted', async () => {
    const w = await world(spec)
    try {
      // A rogue "hub" with its own key answers first (the real one is gone): its signatures do not verify.
      await w.hubClient.endAsync(true)
      const rogueHub = await Agent.open({ name: 'rogue' }, { home: w.dir })
      const rogue = await createTrustGateService({ dir: join(w.dir, 'rogue'), hub: rogueHub, initialPolicy: GATE_POLICY.replace('blocked_tools: [shell]', 'blocked_tools: []').replace('read_db,', 'read_db, shell,'), expiryIntervalMs: 0 })
      const handler = createGateHandler(rogue, { prefix: w.target.prefix, devices: allowedDevices([{ agentId: w.device.agentId, publicKey: w.device.publicKey }]) })
      const rc = await w.target.connect({ clientId: w.target.clientId('rogue'), protocolVersion: 4 })
      rc.on('message', (t, p) => { handler.handleMessage(t, p).then((o) => { if (o) rc.publish(o.topic, Buffer.from(o.payload), { qos: 1 }) }, () => {}) })
      await rc.subscribeAsync(hubFilter({ prefix: w.target.prefix }), { qos: 1 })
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix })
      const v = await gate.check('shell', { cmd: 'ls' })
      assert.equal([v.allowed, v.source], [false, 'fail_closed'])
      // Not an answer at all (sync/gate.ts): the device waited for the pinned hub, then decided offline.
      assert.match(v.reason, /hub unreachable/)
      assert.ok(gate.forgedAnswers >= 1, 'the rogue answer was seen and ignored')
      assert.is(gate.cachedPolicy, null) // nor is the rogue's policy cached
      await gate.close(); await rogue.close(); await rogueHub.close()
    } finally { await w.cleanup() }
  })

  Gate('RPi bridge: AuditedPiAgent.stampActuator behind a real DeviceGate', async () => {
    const w = await world(spec)
    try {
      const gate = await DeviceGate.open({ client: w.deviceClient, agent: w.device, hub: w.hub.identityDocument(), prefix: w.target.prefix })
      const pi = await AuditedPiAgent.start(w.device, { name: 'pi', gate, role: 'operator' })
      const ev = await pi.stampActuator('led', 'on')
      assert.is(ev.payload.event_type, 'rpi_actuator_command')
      try {
        await pi.stampActuator('valve', 'open')
        assert.unreachable('the gate should refuse actuator_valve')
      } catch (err) {
        assert.is((err as { code?: string }).code, 'ACTUATOR_BLOCKED')
      }
      const types = (await w.device.history()).map((e) => e.payload.event_type)
      assert.equal(types.slice(-4), ['gate_decision', 'rpi_actuator_command', 'gate_decision', 'rpi_actuator_blocked'])
      assert.is((await w.device.verify()).valid, true)
      await gate.close()
    } finally { await w.cleanup() }
  })

  Gate.run()
}
