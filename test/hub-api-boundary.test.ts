// The hub's HTTP APIs attacked by what the README's threat table says a caller can and cannot do: a holder
// of TRUSTGATE_TOKEN may ask for decisions and read state, never decide a device's own gate request or
// move the risk the hub's Vigil computed for it; a web page in the operator's browser may not reach an
// API served without a token (--local-only) through a DNS name that resolves to 127.0.0.1 (DNS
// rebinding) or by a cross-site request. A real hub (startHubServices), real MQTT, real HTTP.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { Agent } from '../runtime/index.js'
import { startHubServices, type HubServices } from '../hub/services.js'
import { DeviceGate } from '../sync/gate.js'
import { brokerTargets, type BrokerTarget } from './support/brokers.js'
import { rawClient } from './support/hostile.js'
import { tmpDir } from './helpers.js'

const Api = suite('hub HTTP APIs: trust boundaries')
const TOKEN = 'tg-token-' + 'x'.repeat(16)

interface Setup { s: HubServices, target: BrokerTarget, victim: Agent, gate: DeviceGate, requestIds: Buffer[], cleanup: () => Promise<void> }

/** A hub with both APIs, and a device approved as `read_only` whose gate's request ids the test chooses. */
async function setup (apis: { localOnly: boolean }): Promise<Setup> {
  const target = await brokerTargets()[0]!.start()
  const tmp = tmpDir('pcp-api-boundary-')
  const api = apis.localOnly ? { port: 0, localOnly: true } : { port: 0, token: TOKEN }
  const s = await startHubServices({ dataDir: join(tmp.path, 'hub'), mqttUrl: target.url, prefix: target.prefix, workers: 0, control: false, vigilApi: api, trustgateApi: api })
  const victim = await Agent.open({ name: 'victim' }, { home: tmp.path })
  const client = await target.connect({ clientId: target.clientId('victim'), protocolVersion: 4 })
  assert.is((await rawClient(client, target.prefix).ask(victim.agentId, { v: 1, kind: 'identity', identity: await victim.firstIdentityDocument(), name: 'robot-3' })).kind, 'head')
  await s.hub.approve(victim.agentId, { name: 'robot-3', role: 'read_only' })
  // The attacker reads each gate request off the broker (an open broker, or anyone on its path); here it
  // simply knows the next request id, so the order is not left to a race.
  const requestIds: Buffer[] = []
  const random = (n: number): Uint8Array => requestIds.shift() ?? randomBytes(n)
  const gate = await DeviceGate.open({ client, agent: victim, hub: s.hub.agent.identityDocument(), prefix: target.prefix, timeoutMs: 3000, random })
  return { s, target, victim, gate, requestIds, async cleanup () { await gate.close(); await s.close(); await victim.close(); await target.close(); tmp.cleanup() } }
}

async function post (url: string, path: string, body: object, headers: Record<string, string> = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

/** node:http, because fetch will not send a Host header of the caller's choosing. */
function rawGet (url: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'GET', headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject); req.end()
  })
}

Api('an API decision made with the request id a device is about to use does not become the answer to that device', async () => {
  const x = await setup({ localOnly: false })
  try {
    const id = randomBytes(16)
    x.requestIds.push(Buffer.from(id))
    // With the API token: the same agent, action and payload, but the role and risk of the caller's choosing.
    const planted = await post(x.s.trustgateUrl!, '/api/evaluate', { agent_id: x.victim.agentId, action: 'write_db', payload: { q: 'update orders' }, role: 'operator', vrs: 0, request_id: id.toString('hex') })
    assert.equal([planted.status, planted.body.outcome], [200, 'ALLOW'])
    const v = await x.gate.check('write_db', { q: 'update orders' })
    assert.is(v.source, 'hub')
    assert.is(v.role, 'read_only', 'decided under the role the operator approved the device with')
    assert.equal([v.outcome, v.allowed], ['BLOCK', false])
    assert.is.not(v.decisionId, planted.body.decision_id)
  } finally { await x.cleanup() }
})

Api('the API token cannot overwrite the risk the hub\'s own Vigil holds for a device (POST /api/vigil/agent-state)', async () => {
  const x = await setup({ localOnly: false })
  try {
    const pushed = await post(x.s.trustgateUrl!, '/api/vigil/agent-state', { agent_id: x.victim.agentId, vrs: 0.95, tsi_state: 'STABLE' })
    assert.is(pushed.status, 409)
    assert.is(pushed.body.error, 'VIGIL_PUSH_REFUSED')
    const v = await x.gate.check('read_db', { table: 'orders' })
    assert.equal([v.source, v.outcome], ['hub', 'ALLOW'])
  } finally { await x.cleanup() }
})

Api('--local-only APIs answer only requests addressed to a loopback name, and no cross-site page', async () => {
  const x = await setup({ localOnly: true })
  try {
    const port = (u: string): string => new URL(u).port
    for (const [url, path] of [[x.s.vigilUrl!, '/api/summary'], [x.s.trustgateUrl!, '/api/agents']] as const) {
      assert.is(await rawGet(url, path, { host: `127.0.0.1:${port(url)}` }), 200, 'loopback by address')
      assert.is(await rawGet(url, path, { host: `localhost:${port(url)}` }), 200, 'loopback by name')
      // DNS rebinding: evil.example resolved to 127.0.0.1 a moment after the page loaded.
      assert.is(await rawGet(url, path, { host: `evil.example:${port(url)}` }), 403)
      assert.is(await rawGet(url, '/health', { host: `evil.example:${port(url)}` }), 403)
      assert.is(await rawGet(url, path, { host: `127.0.0.1.evil.example:${port(url)}` }), 403)
    }
    // A page on another origin posting to the loopback API (the browser adds Origin).
    const ack = await post(x.s.vigilUrl!, '/api/alerts/a1/ack', { by: 'page' }, { origin: 'https://evil.example' })
    assert.equal([ack.status, ack.body.error], [403, 'API_ORIGIN_REFUSED'])
    const state = await post(x.s.trustgateUrl!, '/api/evaluate', { agent_id: x.victim.agentId, action: 'read_db' }, { origin: 'null' })
    assert.is(state.status, 403)
    // The dashboard itself (same origin) still works.
    const own = await post(x.s.trustgateUrl!, '/api/evaluate', { agent_id: x.victim.agentId, action: 'read_db' }, { origin: x.s.trustgateUrl! })
    assert.is(own.status, 200)
  } finally { await x.cleanup() }
})

Api.run()
