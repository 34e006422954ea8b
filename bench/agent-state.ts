// What one more agent costs the hub (issue 18: ≤ 20 KB per agent): a hub in its own process
// (bench/hub-child.ts, embedded broker), `agents` devices that register and send `events` events each,
// and the hub's heap after a full GC before and after them. 512 by default: with the 64 of the warm-up,
// under the registry's 600 first contacts a minute (hub/registry.ts), which the bench does not lift. The devices speak the sync protocol by hand,
// up to 64 per connection (one login may carry 64 chains, sync/broker-login.ts), so the bench process
// holds no device store per agent; what the broker keeps per connection is counted, shared by its 64.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { connectAsync, type MqttClient } from 'mqtt'
import { Identity, stampEvent, type AissEvent } from '../runtime/index.js'
import { statementSigner } from '../runtime/statement.js'
import { upTopic, downTopic, DEFAULT_PREFIX } from '../sync/topics.js'
import { encodeEnvelope, eventsEnvelope, parseDown, type DownEnvelope } from '../sync/wire.js'
import { loginCredentials } from '../sync/broker-login.js'
import { startHubChild, type HubChild } from './ingest.js'

export interface AgentState {
  agents: number
  events: number
  /** Heap used after a full GC, per agent added (bytes). */
  heapPerAgent: number
  /** The same with what V8 holds outside its heap (Buffers, typed arrays). */
  heapAndExternalPerAgent: number
  /** Resident set per agent added (bytes): includes LevelDB's caches and allocator slack, so noisy. */
  rssPerAgent: number
  seconds: number
}

interface Heap { heapUsed: number, rss: number, external: number }

/** One connection carrying up to 64 devices: asks go out on their `up` topics, answers come by corr. */
async function fleet (url: string, ids: Identity[]): Promise<{ ask (id: Identity, env: object): Promise<DownEnvelope>, client: MqttClient }> {
  const clientId = `bench-fleet-${randomBytes(4).toString('hex')}`
  const login = loginCredentials(ids.map((id) => ({ chainId: id.agentId, signer: statementSigner(id) })), clientId, Math.floor(Date.now() / 1000), randomBytes(16).toString('hex'))
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, clientId, ...login })
  await client.subscribeAsync(ids.map((id) => downTopic(id.agentId, DEFAULT_PREFIX)), { qos: 1 })
  const waiting = new Map<string, (env: DownEnvelope) => void>()
  client.on('message', (_t, payload) => {
    const env = parseDown(payload)
    if (env) waiting.get(Buffer.from(env.corr).toString('hex'))?.(env)
  })
  return {
    client,
    async ask (id, env) {
      const corr = randomBytes(8)
      const answer = new Promise<DownEnvelope>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bench: no answer to ${String((env as { kind?: unknown }).kind)} of ${id.agentId}`)), 60_000)
        waiting.set(corr.toString('hex'), (e) => { clearTimeout(timer); waiting.delete(corr.toString('hex')); resolve(e) })
      })
      await client.publishAsync(upTopic(id.agentId, DEFAULT_PREFIX), Buffer.from(encodeEnvelope({ ...env, corr })), { qos: 1 })
      return answer
    }
  }
}

function chainOf (id: Identity, n: number): AissEvent[] {
  let prev: string | null = null
  return Array.from({ length: n }, (_, i) => { const r = stampEvent(id, { event_type: 'sensor_reading', seq: i, value: 20.5 }, { previousHash: prev }); prev = r.hash; return r.event })
}

/** Registers `ids` (auto approval) and stores `events` events of each, 64 devices per connection. */
async function addAgents (url: string, ids: Identity[], events: number, clients: MqttClient[]): Promise<void> {
  const groups: Identity[][] = []
  for (let i = 0; i < ids.length; i += 64) groups.push(ids.slice(i, i + 64))
  await Promise.all(groups.map(async (group) => {
    const f = await fleet(url, group)
    clients.push(f.client)
    await Promise.all(group.map(async (id) => {
      const head = await f.ask(id, { v: 1, kind: 'identity', identity: id.document(), name: `robot-${id.agentId.slice(0, 6)}` })
      if (head.kind !== 'head') throw new Error(`bench: identity of ${id.agentId} answered ${JSON.stringify(head)}`)
      const ack = await f.ask(id, eventsEnvelope(randomBytes(8), 0, chainOf(id, events)))
      if (ack.kind !== 'ack') throw new Error(`bench: events of ${id.agentId} answered ${JSON.stringify(ack)}`)
    }))
  }))
}

/** `hub`: more Hub.start options (e.g. `{ vigil: false }`, to see what Vigil's part is). */
export async function benchAgentState (opts: { agents?: number, events?: number, hub?: object } = {}): Promise<AgentState> {
  const n = opts.agents ?? 512
  const events = opts.events ?? 4
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-agents-'))
  const clients: MqttClient[] = []
  let child: HubChild | undefined
  try {
    child = await startHubChild({ dataDir: join(dir, 'hub'), port: 0, approval: 'auto', workers: 2, control: false, ...opts.hub })
    // A first 64 agents outside the measurement: compiled code, pools, the broker's and the store's first allocations.
    await addAgents(child.url, Array.from({ length: 64 }, () => Identity.generate()), events, clients)
    const before = await child.ask<Heap>('heap')
    const ids = Array.from({ length: n }, () => Identity.generate())
    const t = performance.now()
    await addAgents(child.url, ids, events, clients)
    const seconds = (performance.now() - t) / 1000
    const after = await child.ask<Heap>('heap')
    return {
      agents: n,
      events,
      heapPerAgent: (after.heapUsed - before.heapUsed) / n,
      heapAndExternalPerAgent: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
      rssPerAgent: (after.rss - before.rss) / n,
      seconds
    }
  } finally {
    for (const c of clients) await c.endAsync(true).catch(() => {})
    await child?.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}
