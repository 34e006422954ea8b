// The Mosquitto configuration docs/brokers.md describes, run for real: a private Mosquitto (started here
// on a free port, dynamic-security plugin, no anonymous clients) provisioned with scripts/mosquitto-dynsec.sh,
// a Hub consuming it with its own account, a device syncing with its own. The ACL confines each device
// to its own topics as the embedded broker does (test/mqtt-broker-auth.test.ts): another device's `up`
// topic is not publishable and its `down` topic not subscribable; no account, no connection; a revoked
// account is disconnected. Skipped (with the reason) when mosquitto, mosquitto_ctrl or the plugin is missing.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { userInfo } from 'node:os'
import { randomBytes } from 'node:crypto'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { Agent, Identity } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { SyncAgent } from '../sync/agent.js'
import { upTopic, downTopic } from '../sync/topics.js'
import { encodeEnvelope } from '../sync/wire.js'
import { freePort, until } from './support/hub-helpers.js'
import { ROOT, tmpDir } from './helpers.js'

const Acl = suite('mosquitto dynamic security (docs/brokers.md)')

const PATHS = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin'])
const which = (bin: string): string | undefined => PATHS.map((d) => join(d, bin)).find((p) => existsSync(p))
const PLUGIN = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib/arm-linux-gnueabihf', '/usr/lib', '/usr/local/lib']
  .map((d) => join(d, 'mosquitto_dynamic_security.so')).find((p) => existsSync(p))
const MOSQUITTO = which('mosquitto')
const CTRL = which('mosquitto_ctrl')
const missing = !MOSQUITTO ? 'no mosquitto binary' : !CTRL ? 'no mosquitto_ctrl' : !PLUGIN ? 'no mosquitto_dynamic_security.so' : null

interface Broker { url: string, env: NodeJS.ProcessEnv, proc: ChildProcess, provision: (...args: string[]) => string, stop: () => Promise<void> }

async function startMosquitto (dir: string): Promise<Broker> {
  const admin = randomBytes(12).toString('hex')
  const dynsec = join(dir, 'dynamic-security.json')
  const init = spawnSync(CTRL!, ['dynsec', 'init', dynsec, 'admin', admin], { encoding: 'utf8' })
  if (init.status !== 0 || !existsSync(dynsec)) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`)
  // Mosquitto cannot listen on port 0: take a free port (a race with another process is possible but rare).
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    // As root, Mosquitto switches to the `mosquitto` user, who cannot read our 0700 temp dir: stay who we are.
    `listener ${port} 127.0.0.1`, `user ${userInfo().username}`, 'allow_anonymous false', 'persistence false', 'retain_available false',
    `plugin ${PLUGIN}`, `plugin_opt_config_file ${dynsec}`, ''
  ].join('\n'))
  const proc = spawn(MOSQUITTO!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''; proc.stderr!.on('data', (d) => { stderr += d })
  const url = `mqtt://127.0.0.1:${port}`
  const env = { ...process.env, MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), DYNSEC_ADMIN_USER: 'admin', DYNSEC_ADMIN_PASSWORD: admin }
  try {
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`)
      try { await (await connectAsync(url, { username: 'admin', password: admin, reconnectPeriod: 0, connectTimeout: 1000 })).endAsync(true); return true } catch { return false }
    }, 10_000, 'mosquitto to accept the admin account')
  } catch (err) {
    proc.kill('SIGKILL')
    throw new Error(`${(err as Error).message}; mosquitto said: ${stderr}`)
  }
  return {
    url, env, proc,
    provision (...args) {
      const r = spawnSync('sh', [join(ROOT, 'scripts', 'mosquitto-dynsec.sh'), ...args], { env, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`mosquitto-dynsec.sh ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
      return r.stdout.trim()
    },
    async stop () { proc.kill('SIGKILL'); if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r)) }
  }
}

async function connectCode (url: string, opts: IClientOptions): Promise<MqttClient | number | string> {
  try { return await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts }) } catch (err) { return (err as { code?: number }).code ?? (err as Error).message }
}

if (missing) {
  Acl.skip(`skipped: ${missing} (install mosquitto and mosquitto-clients)`, () => {})
} else {
  Acl('the hub and a device with their own accounts work; another device cannot use their topics', async () => {
    const tmp = tmpDir('pcp-mosq-acl-')
    const broker = await startMosquitto(tmp.path)
    let hub: Hub | undefined; let sync: SyncAgent | undefined; let victim: Agent | undefined
    const clients: MqttClient[] = []
    try {
      victim = await Agent.open({ name: 'victim' }, { home: join(tmp.path, 'dev') })
      const mallory = Identity.generate()
      const hubPw = broker.provision('hub', 'pcp-hub-1')
      const victimPw = broker.provision('device', victim.agentId)
      const malloryPw = broker.provision('device', mallory.agentId)
      assert.match(victimPw, /^[0-9a-f]{48}$/)
      assert.throws(() => broker.provision('device', 'pcp/v1/#'), /not an agent_id/)

      hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), mqttUrl: broker.url, mqtt: { username: 'pcp-hub-1', password: hubPw }, approval: 'auto', workers: 0, control: false })
      for (let i = 0; i < 30; i++) await victim.stamp('tick', { i })
      sync = await SyncAgent.start({ url: broker.url, agents: [victim], username: victim.agentId, password: victimPw, ackTimeoutMs: 1000, statusFile: false })
      await sync.flush(15_000)
      const before = hub.chain.status(victim.agentId)!
      assert.is(before.eventCount, 30)

      // No account, a wrong password, or mallory's password under the victim's name: no connection.
      for (const opts of [{}, { username: victim.agentId, password: 'guess' }, { username: victim.agentId, password: malloryPw }]) {
        const c = await connectCode(broker.url, opts)
        if (typeof c === 'object') { clients.push(c); assert.unreachable(`connected with ${JSON.stringify(opts)}`) }
        assert.ok([0x86, 0x87, 4, 5].includes(c as number), String(c))
      }
      // Mallory, logged in as herself: the victim's up topic is not hers to publish on (PUBACK 0x87), nor
      // its down topic to read (SUBACK 0x87), nor everything (#).
      const m = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, username: mallory.agentId, password: malloryPw })
      clients.push(m)
      const received = hub.stats().received
      const junk = Buffer.from(encodeEnvelope({ v: 1, kind: 'events', corr: randomBytes(8), from: 0, ids: [victim.agentId], records: [new Uint8Array([1, 2, 3])] }))
      const pub = await m.publishAsync(upTopic(victim.agentId), junk, { qos: 1 }).then(() => 'accepted', (err: Error & { code?: number }) => err.code ?? err.message)
      assert.is(pub, 0x87)
      for (const f of [downTopic(victim.agentId), 'pcp/v1/+/down', '#']) {
        const g = await m.subscribeAsync(f, { qos: 1 }).then((r) => r[0]!.qos, (err: Error & { code?: number }) => err.code ?? 128)
        assert.ok(g === 0x87 || g === 128, `${f}: granted ${String(g)}`)
      }
      // Her own topic is hers: the hub receives what she sends there (a first contact).
      await m.publishAsync(upTopic(mallory.agentId), Buffer.from(encodeEnvelope({ v: 1, kind: 'identity', corr: randomBytes(8), identity: mallory.document() })), { qos: 1 })
      await until(() => hub!.store.agent(mallory.agentId) !== undefined, 10_000, 'mallory registered')
      assert.is(hub.stats().received, received + 1, 'only her own message reached the hub')
      assert.equal(hub.chain.status(victim.agentId), before)

      // Revoked at the broker: the device is disconnected and cannot come back.
      broker.provision('revoke', victim.agentId)
      await until(() => !sync!.client.connected, 10_000, 'the revoked device disconnected')
      assert.is(typeof await connectCode(broker.url, { username: victim.agentId, password: victimPw }), 'number')
    } finally {
      for (const c of clients) await c.endAsync(true).catch(() => {})
      await sync?.close(); await hub?.close(); await victim?.close()
      await broker.stop(); tmp.cleanup()
    }
  })
}

Acl.run()
