// Plumbing for test/hub-hostile.test.ts: a raw MQTT client that speaks the sync protocol by hand (no key,
// no SyncAgent: what an attacker on the network has), a /health prober, and a snapshot of everything the
// hub believes about one agent, to compare before and after an attack.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { connectAsync, type MqttClient } from 'mqtt'
import { Identity, stampEvent, type AissEvent } from '../../runtime/index.js'
import { upTopic, downTopic, DEFAULT_PREFIX } from '../../sync/topics.js'
import { encodeEnvelope, eventsEnvelope, parseDown, type DownEnvelope } from '../../sync/wire.js'
import { startHubServices, type HubServices, type HubServicesOptions } from '../../hub/services.js'
import { tmpDir } from '../helpers.js'
import { loginCredentials } from '../../sync/broker-login.js'
import { statementSigner } from '../../runtime/statement.js'

export function rawClient (client: MqttClient, prefix: string) {
  const waiting = new Map<string, (env: DownEnvelope) => void>()
  client.on('message', (_t, payload) => {
    const env = parseDown(payload)
    if (env) waiting.get(Buffer.from(env.corr).toString('hex'))?.(env)
  })
  return {
    /** Publishes `env` with a fresh corr and resolves with the answer (rejects after `ms` without one). */
    async ask (agentId: string, env: object, ms = 5000): Promise<DownEnvelope> {
      const corr = randomBytes(8)
      await client.subscribeAsync(downTopic(agentId, prefix), { qos: 1 })
      const answer = new Promise<DownEnvelope>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${String((env as { kind?: unknown }).kind)}`)), ms)
        waiting.set(corr.toString('hex'), (e) => { clearTimeout(timer); resolve(e) })
      })
      await client.publishAsync(upTopic(agentId, prefix), Buffer.from(encodeEnvelope({ ...env, corr })), { qos: 1 })
      return answer
    },
    /** Publishes raw bytes on an agent's `up` topic, expecting nothing back. */
    async send (agentId: string, payload: Uint8Array | object): Promise<void> {
      const bytes = payload instanceof Uint8Array ? payload : encodeEnvelope({ corr: randomBytes(8), ...payload })
      await client.publishAsync(upTopic(agentId, prefix), Buffer.from(bytes), { qos: 1 })
    }
  }
}

export function chainOf (id: Identity, n: number, prev: string | null = null, ts = 1_700_000_000): AissEvent[] {
  const out: AissEvent[] = []
  for (let i = 0; i < n; i++) {
    const { event, hash } = stampEvent(id, { event_type: 'tick', i }, { previousHash: prev, timestamp: ts + i })
    out.push(event); prev = hash
  }
  return out
}

/** Polls `url` every `everyMs` until stopped; `stop()` resolves with the slowest answer's milliseconds. */
export async function probeHealth (url: string, everyMs = 25): Promise<{ idleMs: number, stop: () => Promise<{ maxMs: number, probes: number, failures: number }> }> {
  let maxMs = 0; let probes = 0; let failures = 0; let running = true
  // Warm-up, not counted: the first requests open the connection and compile the route. Then the
  // slowest of 20 answers with nothing happening: what this (shared, maybe loaded) machine adds anyway.
  for (let i = 0; i < 5; i++) await (await fetch(url)).arrayBuffer()
  let idleMs = 0
  for (let i = 0; i < 20; i++) {
    const t = performance.now()
    await (await fetch(url)).arrayBuffer()
    idleMs = Math.max(idleMs, performance.now() - t)
    await new Promise((r) => setTimeout(r, everyMs))
  }
  const loop = (async () => {
    while (running) {
      const t = performance.now()
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
        await res.arrayBuffer()
        if (res.status !== 200) failures++
      } catch { failures++ }
      maxMs = Math.max(maxMs, performance.now() - t); probes++
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return { idleMs, async stop () { running = false; await loop; return { maxMs, probes, failures } } }
}

/** Everything the hub holds about `agentId` that an attacker must not be able to change. */
export async function victimView (s: HubServices, agentId: string): Promise<Record<string, unknown>> {
  const st = s.hub.chain.status(agentId)
  const vrs = s.hub.vigil?.vrs(agentId)
  const gate = s.trustgate.simulate({ agent_id: agentId, action: 'move_arm', payload: { joint: 1 } })
  return {
    state: s.hub.registry.state(agentId),
    name: st?.name,
    eventCount: st?.eventCount,
    headHash: st?.headHash,
    rejectedCount: st?.rejectedCount,
    lastProblem: st?.lastProblem,
    lastSeen: st?.lastSeen,
    evidence: (await s.hub.store.evidence(agentId)).length,
    vrs: vrs?.vrs,
    vrsState: vrs?.state,
    gate: [gate.outcome, gate.rule]
  }
}

export interface VictimSetup {
  s: HubServices
  attacker: ReturnType<typeof rawClient>
  /** The victim's genuine device (a raw client too: it speaks for the victim's key). */
  device: ReturnType<typeof rawClient>
  victim: Identity
  /** The victim's chain; the first `stored` events are on the hub. */
  events: AissEvent[]
  cleanup: () => Promise<void>
}

/** A hub (auto approval, /health on a Vigil API) consuming `target` (or its own embedded broker), and a victim whose first 5 of 10 events are stored. */
export async function startVictim (target: { url: string, prefix: string, clientId (l: string): string, connect (o?: object): Promise<MqttClient> } | 'own broker', hubOpts: Partial<HubServicesOptions> = {}): Promise<VictimSetup & { connect (label: string, as: Identity): Promise<MqttClient>, login (label: string): object, prefix: string, attackOn: string, attackFrom: number }> {
  const tmp = tmpDir()
  const own = target === 'own broker'
  const prefix = own ? DEFAULT_PREFIX : target.prefix
  const s = await startHubServices({ dataDir: join(tmp.path, 'hub'), ...(own ? { port: 0 } : { mqttUrl: target.url }), prefix, approval: 'auto', workers: 2, control: false, vigilApi: { port: 0, localOnly: true }, trustgateApi: false, ...hubOpts })
  const clients: MqttClient[] = []
  // The hub's own broker lets in only devices that log in with their key (sync/broker-login.ts), each
  // on its own topics: there an attacker is a device of its own, and attacks on its own topic.
  const connect = async (label: string, as: Identity): Promise<MqttClient> => {
    if (!own) return target.connect({ clientId: target.clientId(label), protocolVersion: 4 })
    const clientId = `${label}-${randomBytes(4).toString('hex')}`
    const login = loginCredentials([{ chainId: as.agentId, signer: statementSigner(as) }], clientId, Math.floor(Date.now() / 1000), randomBytes(16).toString('hex'))
    const c = await connectAsync(s.hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, clientId, ...login })
    clients.push(c)
    return c
  }
  const victim = Identity.generate()
  const events = chainOf(victim, 10)
  const device = rawClient(await connect('victim', victim), prefix)
  if ((await device.ask(victim.agentId, { v: 1, kind: 'identity', identity: victim.document(), name: 'robot-8' })).kind !== 'head') throw new Error('victim not registered')
  if ((await device.ask(victim.agentId, eventsEnvelope(randomBytes(8), 0, events.slice(0, 5)))).kind !== 'ack') throw new Error('victim events not stored')
  const mallory = Identity.generate()
  const attacker = rawClient(await connect('attacker', mallory), prefix)
  // A registered device of its own (auto approval) with no events yet: its next position is 0.
  if (own && (await attacker.ask(mallory.agentId, { v: 1, kind: 'identity', identity: mallory.document() })).kind !== 'head') throw new Error('attacker not registered')
  // A fresh login of the attacker's, for a client in another process (each login is good once).
  const login = (label: string): object => {
    if (!own) return { clientId: target.clientId(label) }
    const clientId = `${label}-${randomBytes(4).toString('hex')}`
    return { clientId, ...loginCredentials([{ chainId: mallory.agentId, signer: statementSigner(mallory) }], clientId, Math.floor(Date.now() / 1000), randomBytes(16).toString('hex')) }
  }
  return { s, attacker, attackOn: own ? mallory.agentId : victim.agentId, attackFrom: own ? 0 : 5, login, device, victim, events, connect, prefix, cleanup: async () => { for (const c of clients) c.end(true); await s.close(); tmp.cleanup() } }
}

/**
 * Runs `attack` while probing /health; then checks that /health stayed under 100 ms (plus this machine's
 * idle jitter), that the rejections grew by exactly `counted`, and that the victim is unchanged.
 */
export async function assertUnchangedBy (x: VictimSetup, attack: () => Promise<void>, counted: Record<string, number>, until: (c: () => boolean, ms: number, what: string) => Promise<void>): Promise<{ maxMs: number, idleMs: number }> {
  const before = await victimView(x.s, x.victim.agentId)
  const base = x.s.hub.rejections()
  const probe = await probeHealth(`${x.s.vigilUrl}/health`)
  let h: { maxMs: number, probes: number, failures: number }
  try {
    await attack()
    await until(() => Object.entries(counted).every(([k, n]) => (x.s.hub.rejections()[k] ?? 0) - (base[k] ?? 0) >= n), 10_000, `counted ${JSON.stringify(counted)}`)
  } finally {
    h = await probe.stop()
  }
  if (!(h.probes > 0 && h.failures === 0)) throw new Error(`/health probes: ${JSON.stringify(h)}`)
  if (!(h.maxMs < 100 + probe.idleMs)) throw new Error(`/health took ${h.maxMs.toFixed(1)} ms during the attack (idle: ${probe.idleMs.toFixed(1)} ms)`)
  const now = x.s.hub.rejections()
  for (const [k, n] of Object.entries(counted)) {
    if ((now[k] ?? 0) - (base[k] ?? 0) !== n) throw new Error(`count of ${k}: ${JSON.stringify(now)} (before: ${JSON.stringify(base)})`)
  }
  const after = await victimView(x.s, x.victim.agentId)
  if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`the victim changed: ${JSON.stringify(before)} → ${JSON.stringify(after)}`)
  return { maxMs: h.maxMs, idleMs: probe.idleMs }
}
