// Issue 6: the sync agent and the hub over TLS (`mqtts://`) with client certificates AND username/password,
// against a real broker: a PRIVATE Mosquitto (child process, free port, generated config and password
// file, logs in the temp dir; the system broker is never touched) and certificates made by `openssl` at
// test time (nothing committed). Real Agents on temp homes, a real Hub. Then the refusals: a wrong
// password, no client certificate, an untrusted broker certificate, each reported (not a silent hang) while
// the hub keeps working; and a hub whose own credentials are refused fails its start with the reason.
// Without openssl/mosquitto the tests are skipped, and say why.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { Agent, eventHash, parseJson, verifyAuditExport } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { connectMqtt, whenConnected, type MqttTls } from '../sync/connect.js'
import { SyncErrorCodes } from '../sync/errors.js'
import { until } from './support/hub-helpers.js'
import { makeTestPki, readPem, type TestPki } from './support/tls-pki.js'
import { startMosquitto, tlsTools, type PrivateMosquitto } from './support/tls-mosquitto.js'
import { tmpDir } from './helpers.js'

const T = suite('sync over TLS: private Mosquitto, client certificates + passwords')
const tools = tlsTools()
if (!tools.ok) console.log(`sync-tls: SKIPPED (every broker test below): ${tools.why}`)
const t = tools.ok ? T : T.skip

// Shaped like PEM, not a certificate: what a truncated or wrongly pasted file looks like.
const PEM_LIKE = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n'
const USERS = { hub: { username: 'hub', password: 'hub-secret-1' }, device: { username: 'device', password: 'device-secret-2' } }
// Short everywhere: a refusal shows on the first attempt, and the file must stay quick.
const FAST = { connectTimeoutMs: 3000, minReconnectMs: 200, maxReconnectMs: 1000, ackTimeoutMs: 2000, statusFile: false as const }

interface Env {
  dir: string
  pki: TestPki
  broker: PrivateMosquitto
  hub: Hub
  tls: (client: string | null, ca?: 'ca' | 'other') => MqttTls
  device: Agent
  sync: SyncAgent
}

let envP: Promise<Env> | null = null
let envNow: Partial<Env> = {}
// Whatever happens to the tests, the broker must not outlive this process, nor the temp dir.
function lastResort (): void {
  envNow.broker?.killNow()
  if (envNow.dir) rmSync(envNow.dir, { recursive: true, force: true })
}
process.on('exit', lastResort)
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { lastResort(); process.exit(130) })

function env (): Promise<Env> {
  envP ??= (async () => {
    if (!tools.ok) throw new Error(tools.why)
    const dir = tmpDir('pcp-tls-').path
    envNow.dir = dir
    const pki = makeTestPki(dir, ['hub', 'device'])
    const broker = await startMosquitto(dir, tools.tools, pki, [USERS.hub, USERS.device])
    envNow.broker = broker
    const pem = (f: string): string => readFileSync(f, 'utf8')
    const tls = (client: string | null, ca: 'ca' | 'other' = 'ca'): MqttTls => ({
      ca: pem(ca === 'ca' ? pki.ca.cert : pki.otherCa.cert),
      ...(client ? readPem(pki.clients[client]!) : {})
    })
    const hub = await Hub.start({
      dataDir: join(dir, 'hub'), mqttUrl: broker.url, mqtt: { ...USERS.hub, tls: tls('hub'), connectTimeoutMs: 3000 },
      approval: 'auto', workers: 1, control: false
    })
    envNow.hub = hub
    const device = await Agent.open({ name: 'arm' }, { home: join(dir, 'device') })
    envNow.device = device
    const sync = await SyncAgent.start({ url: broker.url, agents: [device], ...USERS.device, tls: tls('device'), ...FAST })
    envNow.sync = sync
    return { dir, pki, broker, hub, tls, device, sync }
  })()
  return envP
}

async function stampMany (agent: Agent, n: number, type = 'tick'): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => agent.stamp(type, { i })))
}

/** The good device stamps one more event and the hub acknowledges it: the hub still works. */
async function hubStillIngests (e: Env): Promise<void> {
  assert.ok(e.hub.client.connected, 'hub still connected to the broker')
  assert.is(e.broker.proc.exitCode, null, 'broker still running')
  const before = e.hub.chain.status(e.device.agentId)!.eventCount
  await e.device.stamp('still_alive')
  await e.sync.flush(5000)
  assert.is(e.hub.chain.status(e.device.agentId)!.eventCount, before + 1)
  assert.is(e.hub.chain.status(e.device.agentId)!.headHash, e.device.head!.hash)
}

interface Refused { warnings: string[], codes: Array<string | number | undefined>, errors: Error[], agentId: string, sync: SyncAgent, agent: Agent, close: () => Promise<void> }

/** A second device with the given (bad) connection settings: waits for its first reported error. */
async function refusedDevice (e: Env, name: string, conn: { username?: string, password?: string, tls: MqttTls }): Promise<Refused> {
  const agent = await Agent.open({ name }, { home: join(e.dir, `device-${name}`) })
  const warnings: string[] = []; const codes: Array<string | number | undefined> = []; const errors: Error[] = []
  const sync = await SyncAgent.start({ url: e.broker.url, agents: [agent], ...conn, ...FAST, onError: (err) => { codes.push(err.code); errors.push(err) } })
  sync.on('warning', (w: { code: string, message: string }) => { if (w.code === 'MQTT') warnings.push(w.message) })
  await stampMany(agent, 5)
  await until(() => sync.status().agents[0]!.backlog === 5, 2000, `${name}: 5 events in the outbox`)
  await until(() => warnings.length > 0, 5000, `${name}: a connection warning`)
  return { warnings, codes, errors, agentId: agent.agentId, sync, agent, close: async () => { await sync.close(); await agent.close() } }
}

/** What every refused device shares: not connected, its flush times out (no hang), the hub never saw it. */
async function assertRefused (e: Env, r: Refused): Promise<void> {
  const st = r.sync.status()
  assert.is(st.connected, false)
  assert.is(st.agents[0]!.backlog, 5, 'its 5 events still wait in the outbox')
  assert.is(st.agents[0]!.ackedSeq, -1)
  const t0 = Date.now()
  try {
    await r.sync.flush(400)
    assert.unreachable('flush must not succeed')
  } catch (err) {
    assert.is((err as { code?: string }).code, SyncErrorCodes.SYNC_TIMEOUT)
    assert.match((err as Error).message, /backlog .*5\)/)
  }
  assert.ok(Date.now() - t0 < 2000, 'flush gave up at its timeout')
  assert.is(e.hub.chain.status(r.agentId), undefined, 'the hub never registered it')
}

T('prerequisites: openssl, mosquitto and mosquitto_passwd (skipped with the reason when missing)', () => {
  if (!tools.ok) { console.log(`  skipped: ${tools.why}`); return }
  assert.match(tools.tools.mosquitto, /mosquitto$/)
  assert.match(tools.tools.mosquittoPasswd, /mosquitto_passwd$/)
  assert.match(tools.tools.openssl, /openssl$/)
})

// These two need no broker: the configuration is refused before any connection, with the option named.
T('certificates with a plain mqtt:// URL are refused up front (mqtt.js would ignore them and send the password in clear)', async () => {
  const tls = { ca: PEM_LIKE, cert: PEM_LIKE, key: PEM_LIKE }
  for (const url of ['mqtt://127.0.0.1:1', 'tcp://127.0.0.1:1', 'ws://127.0.0.1:1']) {
    assert.throws(() => connectMqtt({ url, username: 'u', password: 'p', tls }), (err: Error) => err instanceof TypeError && /"tls" options given but "url" .* is not TLS: use mqtts:\/\//.test(err.message), url)
  }
  const tmp = tmpDir()
  try {
    const agent = await Agent.open({ name: 'plain' }, { home: tmp.path })
    try {
      const started = await SyncAgent.start({ url: 'mqtt://127.0.0.1:1', agents: [agent], tls, statusFile: false }).catch((err: Error) => err)
      if (started instanceof SyncAgent) { await started.close(); assert.unreachable('SyncAgent started') }
      assert.instance(started, TypeError)
    } finally { await agent.close() }
  } finally { tmp.cleanup() }
})

T('a hub on its embedded broker (plain loopback TCP) ignores external-broker TLS options instead of failing', async () => {
  const tmp = tmpDir()
  try {
    const hub = await Hub.start({ dataDir: tmp.path, port: 0, mqtt: { tls: { ca: PEM_LIKE } }, workers: 0, control: false })
    try {
      assert.match(hub.mqttUrl, /^mqtt:\/\/127\.0\.0\.1:\d+$/)
      assert.ok(hub.client.connected)
    } finally { await hub.close() }
  } finally { tmp.cleanup() }
})

T('unusable TLS material is refused at start, naming the option (not a bare OpenSSL message from inside mqtt.js)', () => {
  const url = 'mqtts://127.0.0.1:1'
  const refused = (tls: MqttTls, re: RegExp): void => assert.throws(() => connectMqtt({ url, tls }), (err: Error) => err instanceof TypeError && re.test(err.message), re.source)
  refused({ ca: 'not a certificate' }, /^"tls\.ca" expected PEM CA certificate\(s\), found no "BEGIN CERTIFICATE" block$/)
  refused({ ca: PEM_LIKE }, /^"tls\.ca" certificate #1 does not parse/)
  refused({ cert: PEM_LIKE }, /^"tls\.cert" and "tls\.key" go together, got only "tls\.cert"$/)
  refused({ key: PEM_LIKE }, /^"tls\.cert" and "tls\.key" go together, got only "tls\.key"$/)
  refused({ cert: 'x', key: 'y' }, /^"tls\.cert"\/"tls\.key" expected a PEM client certificate and its private key: /)
})

t('unusable TLS material from real files: a key file as CA, a certificate with another client\'s key', async () => {
  const e = await env()
  const hub = readPem(e.pki.clients.hub!); const dev = readPem(e.pki.clients.device!)
  const refused = (tls: MqttTls, re: RegExp): void => assert.throws(() => connectMqtt({ url: e.broker.url, tls }), (err: Error) => err instanceof TypeError && re.test(err.message), re.source)
  refused({ ca: readFileSync(e.pki.ca.key, 'utf8') }, /"tls\.ca" expected PEM CA certificate/)
  refused({ ca: readFileSync(e.pki.ca.cert, 'utf8'), cert: hub.cert, key: dev.key }, /"tls\.cert"\/"tls\.key" .*: key values mismatch/)
  // A bundle of several CAs is fine.
  const c = connectMqtt({ url: e.broker.url, tls: { ca: readFileSync(e.pki.otherCa.cert, 'utf8') + readFileSync(e.pki.ca.cert, 'utf8'), ...dev }, ...USERS.device })
  c.on('error', () => {})
  try { await whenConnected(c, 5000, { failOnRefusal: true }) } finally { await c.endAsync(true) }
})

t('mutual TLS + password: 200 events reach the hub; its chain equals the device\'s and verifies', async () => {
  const e = await env()
  await stampMany(e.device, 200)
  await e.sync.flush(10_000)
  const st = e.sync.status()
  assert.is(st.connected, true)
  assert.is(st.protocolVersion, 5, 'Mosquitto speaks MQTT 5: no fall-back')
  assert.is(st.agents[0]!.ackedSeq, e.device.head!.seq)
  assert.is(st.agents[0]!.backlog, 0)

  const status = e.hub.chain.status(e.device.agentId)!
  assert.is(status.eventCount, e.device.head!.seq + 1)
  assert.is(status.eventCount, 200)
  assert.is(status.headHash, e.device.head!.hash)
  assert.is(status.verification, 'valid')
  assert.is(status.rejectedCount, 0)
  const local = await e.device.history()
  const stored = [...(await e.hub.chain.recent(e.device.agentId, 1000))].reverse()
  assert.equal(stored.map(eventHash), local.map(eventHash), 'same events, same order')
  assert.ok((await e.device.verify()).valid)
  let text = ''
  for await (const chunk of (await e.hub.chain.exportChain(e.device.agentId))!) text += chunk
  const v = verifyAuditExport(parseJson(text))
  assert.ok(v.usable && v.report.valid, 'the hub\'s export verifies')

  // Both connections really are TLS, verified against our CA, presenting their own client certificate,
  // and the broker logged them under their own usernames at MQTT 5.
  for (const [who, client, cn] of [['hub', e.hub.client, 'client-hub'], ['device', e.sync.client, 'client-device']] as const) {
    const sock = client.stream as TLSSocket
    assert.is(sock.encrypted, true, `${who}: TLS socket`)
    assert.is(sock.authorized, true, `${who}: broker certificate verified`)
    assert.is(sock.getPeerCertificate().subject.CN, 'localhost')
    assert.is((sock.getCertificate() as { subject?: { CN?: string } }).subject?.CN, cn, `${who}: presented its client certificate`)
  }
  const log = e.broker.log()
  assert.match(log, /New client connected from 127\.0\.0\.1:\d+ as pcp-hub-\S+ \(p5, [^)]*u'hub'\)/)
  assert.match(log, /New client connected from 127\.0\.0\.1:\d+ as pcp-sync-\S+ \(p5, [^)]*u'device'\)/)
})

t('wrong password: refused by the broker, reported as a warning (not a silent hang); the hub keeps working', async () => {
  const e = await env()
  const from = e.broker.log().length
  const r = await refusedDevice(e, 'pw', { username: USERS.device.username, password: 'not-the-password', tls: e.tls('device') })
  try {
    assert.match(r.warnings[0]!, /Connection refused: (Not authorized|Bad User Name or Password)/i)
    assert.ok(r.codes[0] === 0x86 || r.codes[0] === 0x87, `MQTT 5 reason code ${String(r.codes[0])}`)
    await assertRefused(e, r)
    await e.broker.waitLog(/disconnected, not authori[sz]ed/, 2000, from)
  } finally { await r.close() }
  await hubStillIngests(e)
})

t('no client certificate: the TLS handshake is refused, reported as a warning; the hub keeps working', async () => {
  const e = await env()
  const from = e.broker.log().length
  const r = await refusedDevice(e, 'nocert', { ...USERS.device, tls: e.tls(null) })
  try {
    assert.match(r.warnings[0]!, /certificate required|handshake failure/i)
    assert.match(String(r.codes[0]), /^ERR_SSL_/)
    await assertRefused(e, r)
    await e.broker.waitLog(/peer did not return a certificate/, 2000, from)
  } finally { await r.close() }
  await hubStillIngests(e)
})

t('broker not trusted (device holds another CA): certificate error, reported; the hub keeps working', async () => {
  const e = await env()
  const from = e.broker.log().length
  const r = await refusedDevice(e, 'wrongca', { ...USERS.device, tls: e.tls('device', 'other') })
  try {
    assert.match(r.warnings[0]!, /self[- ]signed certificate in certificate chain|unable to (verify|get)/i)
    assert.match(String(r.codes[0]), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_/)
    await assertRefused(e, r)
    // The device hung up during the handshake (the broker logs an aborted TLS session, no client).
    await e.broker.waitLog(/OpenSSL Error\[\d+\]: [^\n]*\n[^\n]*Client <unknown> disconnected/, 2000, from)
    // One warning per failed attempt: mqtt.js emits a failed TLS handshake twice (its TLS wrapper and its
    // stream handler, the same Error object); connect.ts drops the repeat.
    await until(() => r.errors.length >= 2, 5000, 'a second attempt')
    assert.is(new Set(r.errors).size, r.errors.length, 'no failure reported twice')
    // (Warnings listened to from after start(): a failure during start() is in errors only.)
    assert.ok(r.warnings.length >= 1 && r.warnings.length <= r.errors.length, 'at most one warning per reported failure')
  } finally { await r.close() }
  await hubStillIngests(e)
})

t('a hub whose own password or CA is wrong fails to start at once, with the reason (not a 10 s timeout)', async () => {
  const e = await env()
  const cases = [
    { name: 'password', mqtt: { username: USERS.hub.username, password: 'nope', tls: e.tls('hub') }, why: /refused the connection: Connection refused: Not authorized|Bad User Name/ },
    { name: 'ca', mqtt: { ...USERS.hub, tls: e.tls('hub', 'other') }, why: /refused the connection: self[- ]signed certificate in certificate chain/ }
  ]
  for (const c of cases) {
    const t0 = Date.now()
    try {
      const h = await Hub.start({ dataDir: join(e.dir, `hub-${c.name}`), mqttUrl: e.broker.url, mqtt: { ...c.mqtt, connectTimeoutMs: 3000 }, approval: 'auto', workers: 0, control: false })
      await h.close()
      assert.unreachable(`${c.name}: the hub started`)
    } catch (err) {
      assert.match((err as Error).message, c.why, `${c.name}: ${(err as Error).message}`)
      assert.match((err as Error).message, new RegExp(`mqtts://127\\.0\\.0\\.1:${e.broker.port}`))
    }
    assert.ok(Date.now() - t0 < 4000, `${c.name}: failed in ${Date.now() - t0} ms`)
  }
  await hubStillIngests(e)
})

// Uses whatever env() got to start (even if it failed half-way), so a failure elsewhere never leaves the
// hub's reconnecting client holding this process open or the broker running; asserts at the end.
t('teardown: device, hub and the private broker stop cleanly', async () => {
  await envP?.catch(() => {})
  const n = envNow
  envNow = {}
  const problems: string[] = []
  const step = async (what: string, fn: (() => Promise<unknown>) | undefined): Promise<void> => {
    try { await fn?.() } catch (err) { problems.push(`${what}: ${(err as Error).message}`) }
  }
  await step('sync', n.sync && (() => n.sync!.close()))
  await step('device', n.device && (() => n.device!.close()))
  await step('hub', n.hub && (() => n.hub!.close()))
  await step('broker', n.broker && (() => n.broker!.stop()))
  if (n.dir) rmSync(n.dir, { recursive: true, force: true })
  assert.equal(problems, [])
  assert.ok(n.broker, 'the broker had started')
  assert.ok(n.broker.proc.exitCode !== null || n.broker.proc.signalCode !== null, 'mosquitto exited')
})

T.run()
