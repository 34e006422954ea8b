// Shared set-up of the Vigil HTTP tests: real Agents on a temp home stamp real events, which go
// through the same path as the hub's ingest (verify against the stored head, then score) into a
// MemoryChainView (TEST FIXTURE, see vigil-http-fixture.ts) and a real VigilEngine.
import { Agent, type AissEvent, type JsonValue } from '../runtime/index.js'
import { VigilEngine } from '../hub/vigil/index.js'
import { MetricsRegistry } from '../hub/metrics.js'
import { createVigilApi, type VigilApiOptions } from '../hub/vigil/http.js'
import { recordEvent } from '../hub/vigil/record.js'
import { countAlert } from '../hub/vigil/vigil-metrics.js'
import { MemoryChainView } from './vigil-http-fixture.js'
import { tmpDir } from './helpers.js'

export const TOKEN = 'test-token-0123456789abcdef'

export interface Hub {
  clock: { now: number }
  vigil: VigilEngine
  chain: MemoryChainView
  metrics: MetricsRegistry
  agents: Agent[]
  ctx: { chain: MemoryChainView, vigil: VigilEngine, metrics: MetricsRegistry, now: () => number }
  /** Stamps with a real Agent and feeds the event through recordEvent (the ingest path). */
  stampAndIngest: (agent: Agent, type: string, payload?: Record<string, JsonValue>) => Promise<AissEvent>
  close: () => Promise<void>
}

/** Agents named `names`, each with `events` stamped events 60 s apart, ending about now. */
export async function makeHub (names: string[], events: number): Promise<Hub> {
  const home = tmpDir('pcp-vigil-http-')
  const clock = { now: Math.floor(Date.now() / 1000) - events * 60 }
  const metrics = new MetricsRegistry()
  const vigil = new VigilEngine({ now: () => clock.now, onAlert: (a) => countAlert(metrics, a) })
  const chain = new MemoryChainView(() => clock.now)
  const ctx = { chain, vigil, metrics, now: () => clock.now }
  const agents: Agent[] = []
  for (const name of names) {
    const agent = await Agent.open({ name }, { home: home.path, clock: () => clock.now * 1000 })
    agents.push(agent)
    chain.register(await agent.firstIdentityDocument(), name)
    vigil.registerAgent(agent.agentId, { name })
  }
  const stampAndIngest = async (agent: Agent, type: string, payload: Record<string, JsonValue> = {}): Promise<AissEvent> => {
    const ev = await agent.stamp(type, payload)
    const r = await recordEvent(ctx, agent.agentId, ev)
    if (!r.accepted) throw new Error(`fixture refused a genuine event: ${r.problems.map((p) => p.message).join('; ')}`)
    return ev
  }
  for (let i = 0; i < events; i++) {
    for (const agent of agents) await stampAndIngest(agent, i === 0 ? 'genesis' : 'observation', { i, temp: 20.5 + i })
    clock.now += 60
  }
  return {
    clock, vigil, chain, metrics, agents, ctx, stampAndIngest,
    close: async () => { for (const a of agents) await a.close(); home.cleanup() }
  }
}

export function apiFor (hub: Hub, extra: Partial<VigilApiOptions> = {}): ReturnType<typeof createVigilApi> {
  return createVigilApi({ vigil: hub.vigil, chain: hub.chain, metrics: hub.metrics, token: TOKEN, now: () => hub.clock.now, ...extra })
}

export const auth = { authorization: `Bearer ${TOKEN}` }

/** A copy of an event with its payload changed after signing: what a tampering broker would send. */
export function tampered (ev: AissEvent, change: Record<string, JsonValue>): AissEvent {
  return { ...ev, payload: { ...ev.payload, ...change } }
}
