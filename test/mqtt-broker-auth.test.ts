// The hub's embedded broker authenticates devices by their keys and confines each to its own topics
// (issue 14 #3). Against a real Hub on port 0 with plain MQTT clients (the `mqtt` package) as an attacker
// on the network uses them: no credentials, garbage, another device's id, a sniffed login replayed, a
// stale one, a login made for another client id, a client id in use, publishes and subscriptions on the
// victim's topics and wildcards. Meanwhile the real device, a SyncAgent on its Agent, keeps syncing,
// across reconnects (each with a fresh login) and a key rotation; revoked, it is disconnected and stays out.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { Agent, Identity, statementSigner, type StatementSigner } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { loginCredentials } from '../sync/broker-login.js'
import { upTopic, downTopic } from '../sync/topics.js'
import { encodeEnvelope } from '../sync/wire.js'
import { chainOf } from './support/hostile.js'
import { until } from './support/hub-helpers.js'
import { encodeRecord } from '../runtime/record.js'
import { tmpDir } from './helpers.js'

const Auth = suite('embedded broker: authentication and ACL')
const P = 'pcp/v1'

interface World { hub: Hub, victim: Agent, sync: SyncAgent, clients: MqttClient[], refused: () => Promise<Record<string, number>>, cleanup: () => Promise<void> }

async function world (): Promise<World> {
  const tmp = tmpDir('pcp-broker-auth-')
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: 0, approval: 'auto', workers: 0, control: false })
  const victim = await Agent.open({ name: 'victim' }, { home: join(tmp.path, 'dev') })
  for (let i = 0; i < 20; i++) await victim.stamp('tick', { i })
  const sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [victim], ackTimeoutMs: 1000, minReconnectMs: 100, maxReconnectMs: 300, statusFile: false })
  await sync.flush(15_000)
  const clients: MqttClient[] = []
  return {
    hub, victim, sync, clients,
    async refused () {
      const text = await hub.metrics.render()
      return Object.fromEntries([...text.matchAll(/^pcp_broker_refused_total\{reason="([A-Z_]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
    },
    async cleanup () {
      for (const c of clients) await c.endAsync(true).catch(() => {})
      await sync.close(); await victim.close(); await hub.close(); tmp.cleanup()
    }
  }
}

const now = (): number => Math.floor(Date.now() / 1000)
const nonce = (): string => randomBytes(16).toString('hex')
const login = (keys: Array<{ chainId: string, signer: StatementSigner }>, clientId: string, ts = now()): IClientOptions =>
  ({ clientId, ...loginCredentials(keys, clientId, ts, nonce()) })

/** Connects (no reconnect); resolves with the client, or with the CONNACK refusal code. */
async function tryConnect (w: World, opts: IClientOptions): Promise<MqttClient | number | string> {
  try {
    const c = await connectAsync(w.hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clientId: `t-${nonce()}`, ...opts })
    w.clients.push(c)
    return c
  } catch (err) { return (err as { code?: number | string }).code ?? (err as Error).message }
}

async function connected (w: World, opts: IClientOptions): Promise<MqttClient> {
  const c = await tryConnect(w, opts)
  if (typeof c !== 'object') throw new Error(`connect refused: ${String(c)}`)
  return c
}

Auth('unauthenticated, garbage, forged, stale, replayed and re-targeted logins are refused; the device still syncs', async () => {
  const w = await world()
  try {
    const v = w.victim
    const mallory = Identity.generate()
    assert.is(await tryConnect(w, {}), 4, 'no credentials')
    assert.is(await tryConnect(w, { username: v.agentId, password: 'letmein' }), 4, 'a password that is no login')
    assert.is(await tryConnect(w, { username: 'pcp-hub', password: 'guess' }), 4, 'the hub account without its secret')
    // The victim's id with mallory's key (and its signature), then with the victim's public key but mallory's signature.
    assert.is(await tryConnect(w, login([{ chainId: v.agentId, signer: statementSigner(mallory) }], 'm1')), 4)
    const impostor: StatementSigner = { agentId: v.agentId, publicKey: v.publicKey, signStatement: (p, b) => statementSigner(mallory).signStatement(p, b) }
    assert.is(await tryConnect(w, login([{ chainId: v.agentId, signer: impostor }], 'm2')), 4)
    // The victim's genuine login (as sniffed from the wire): once only, and only for the client id it names.
    const sniffed = login([{ chainId: v.agentId, signer: v }], 'victim-2')
    assert.is(await tryConnect(w, { ...sniffed, clientId: 'mallory-1' }), 4, 'made for another client id')
    const first = await connected(w, sniffed)
    await first.endAsync(true)
    assert.is(await tryConnect(w, sniffed), 4, 'replayed')
    assert.is(await tryConnect(w, login([{ chainId: v.agentId, signer: v }], 'victim-3', now() - 700)), 4, 'stale')
    assert.equal(await w.refused(), { LOGIN_MISSING: 1, LOGIN_MALFORMED: 1, LOGIN_SIGNATURE_INVALID: 3, LOGIN_KEY_UNKNOWN: 1, LOGIN_REPLAYED: 1, LOGIN_STALE: 1 })

    // Through it all, and after the broker drops its connection (a fresh login each time), the device syncs.
    for (let i = 0; i < 10; i++) await v.stamp('more', { i })
    await w.sync.flush(15_000)
    assert.is(w.hub.broker!.disconnect(v.agentId), 1)
    for (let i = 0; i < 10; i++) await v.stamp('after_reconnect', { i })
    await w.sync.flush(15_000)
    assert.is(w.hub.chain.status(v.agentId)!.eventCount, 40)
  } finally { await w.cleanup() }
})

Auth('a logged-in device cannot publish on another agent\'s topic, subscribe to its down topic, or take its client id', async () => {
  const w = await world()
  try {
    const v = w.victim
    const before = w.hub.chain.status(v.agentId)
    const mallory = Identity.generate()
    const m = { chainId: mallory.agentId, signer: statementSigner(mallory) }
    // Mallory may log in as herself (a first contact) and use her own topics...
    const c = await connected(w, login([m], 'mallory'))
    const granted: number[] = []
    for (const f of [downTopic(mallory.agentId, P), downTopic(v.agentId, P), `${P}/+/down`, '#', `${P}/${v.agentId}/a2a`]) {
      granted.push(await c.subscribeAsync(f, { qos: 1 }).then((g) => g[0]!.qos, () => 128)) // mqtt.js rejects a 0x80 grant
    }
    assert.equal(granted, [1, 128, 128, 128, 128])
    // ...but a publish on the victim's up topic (the junk batch) costs her the connection and reaches nobody.
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.publish(upTopic(v.agentId, P), Buffer.from(encodeEnvelope({ v: 1, kind: 'events', corr: randomBytes(8), from: 0, ids: [v.agentId], records: [new Uint8Array([1, 2, 3])] })), { qos: 1 })
    await closed
    // A retained message, even on her own topic, is refused too (PCP topics are never retained).
    const c2 = await connected(w, login([m], 'mallory-2'))
    const closed2 = new Promise<void>((resolve) => c2.once('close', () => resolve()))
    c2.publish(upTopic(mallory.agentId, P), Buffer.from(encodeEnvelope({ v: 1, kind: 'identity', corr: randomBytes(8), identity: mallory.document() })), { qos: 1, retain: true })
    await closed2
    // The victim's client id, while the victim is connected: refused, and the victim stays connected.
    const victimClientId = w.sync.client.options.clientId!
    assert.is(await tryConnect(w, login([m], victimClientId)), 4)
    assert.is(w.sync.client.connected, true)
    assert.equal(await w.refused(), { SUBSCRIBE_DENIED: 4, PUBLISH_DENIED: 2, CLIENT_ID_TAKEN: 1 })
    assert.equal(w.hub.chain.status(v.agentId), before)
    assert.is(w.hub.rejections().FORGED_EVENT_MALFORMED, undefined, 'the junk never reached the hub')
    // Her own chain, on her own topic, is taken as any device's.
    const own = await connected(w, login([m], 'mallory-3'))
    await own.publishAsync(upTopic(mallory.agentId, P), Buffer.from(encodeEnvelope({ v: 1, kind: 'identity', corr: randomBytes(8), identity: mallory.document() })), { qos: 1 })
    // As a sync agent does (it waits for the answer to its identity): the hub handles an agent's messages
    // side by side, so events sent before the identity is registered get AGENT_UNKNOWN (retry: true).
    await until(() => w.hub.store.agent(mallory.agentId) !== undefined, 10_000, 'mallory registered')
    await own.publishAsync(upTopic(mallory.agentId, P), Buffer.from(encodeEnvelope({ v: 1, kind: 'events', corr: randomBytes(8), from: 0, ids: [mallory.agentId], records: chainOf(mallory, 3).map((e) => encodeEventRecord(e)) })), { qos: 1 })
    await until(() => w.hub.chain.status(mallory.agentId)?.eventCount === 3, 10_000, 'mallory\'s own events stored')
  } finally { await w.cleanup() }
})

Auth('key rotation, while connected or offline, keeps the device able to log in; a revoked device is disconnected and cannot log in again', async () => {
  const w = await world()
  try {
    const v = w.victim
    const chainId = v.agentId
    await v.rotate()
    await v.stamp('after_rotation', {})
    await w.sync.flush(15_000) // the hub now holds the new key, so the next login with it is accepted
    assert.is(w.hub.broker!.disconnect(chainId), 1)
    await v.stamp('after_reconnect', {})
    await w.sync.flush(15_000)
    assert.is(w.hub.chain.status(chainId)!.eventCount, 23)
    // Rotated twice while offline: the hub holds an older key; the login carries the attestations to the new one.
    await w.sync.close()
    await v.rotate(); await v.rotate()
    await v.stamp('after_offline_rotation', {})
    const again = await SyncAgent.start({ url: w.hub.mqttUrl, agents: [v], ackTimeoutMs: 1000, statusFile: false })
    try {
      await again.flush(15_000)
      assert.is(w.hub.chain.status(chainId)!.eventCount, 26)
      // An attacker cannot use a rotation chain that does not start at the hub's key.
      const mallory = Identity.generate()
      assert.is(await tryConnect(w, login([{ chainId, signer: statementSigner(mallory) }], 'mallory-rot')), 4)
      await w.hub.revoke(chainId)
      await until(() => !again.client.connected, 5000, 'the revoked device disconnected')
    } finally { await again.close() }
    assert.is(await tryConnect(w, login([{ chainId, signer: v }], 'after-revoke')), 4)
    assert.ok((await w.refused()).LOGIN_REVOKED! >= 1)
  } finally { await w.cleanup() }
})

function encodeEventRecord (e: ReturnType<typeof chainOf>[number]): Uint8Array { return encodeRecord(e, 0) }

Auth.run()
