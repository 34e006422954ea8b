// Plumbing for test/hub-hostile.test.ts: a raw MQTT client that speaks the sync protocol by hand (no key,
// no SyncAgent: what an attacker on the network has), a /health prober, and a snapshot of everything the
// hub believes about one agent, to compare before and after an attack.
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { stampEvent, type AissEvent, type Identity } from '../../runtime/index.js'
import { upTopic, downTopic } from '../../sync/topics.js'
import { encodeEnvelope, parseDown, type DownEnvelope } from '../../sync/wire.js'
import type { HubServices } from '../../hub/services.js'

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
