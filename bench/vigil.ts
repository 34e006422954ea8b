// Throughput of the Vigil engine on synthetic verified events (the lead's bench calls benchVigil).
// Events are plain objects: signature checks happen in ingest, before Vigil, and are not measured here.
import { performance } from 'node:perf_hooks'
import type { AissEvent } from '../runtime/types.js'
import { VigilEngine } from '../hub/vigil/engine.js'

export interface BenchDetail {
  events: number
  eventsPerSecond: number
  /** Mean µs per event for each tenth of the run: flat when per-event cost does not grow with history. */
  microsPerEventByDecile: number[]
  stateBytes: number
}

/** Synthetic traffic: `agents` agents, one event per agent every `spacing` seconds, a third of them A2A to a ring neighbour. */
export function syntheticEvent (i: number, agents: number, start: number, spacing = 1): { agentId: string, event: AissEvent } {
  const a = i % agents
  const agentId = `agent-${a}`
  const t = start + Math.floor(i / agents) * spacing
  const a2a = i % 3 === 0
  const payload: AissEvent['payload'] = a2a
    ? { event_type: 'a2a_message', peer_agent_id: `agent-${(a + 1 + (i % 2)) % agents}`, peer_signature: 'x' }
    : { event_type: 'decision', step: i }
  const event: AissEvent = { version: 'AISS-1.0', agent_id: agentId, timestamp: t, nonce: `n-${i}`, payload, previous_hash: null, signature: 's' }
  return { agentId, event }
}

export function benchVigilDetailed (n: number, agents = 20, spacing = 1): BenchDetail {
  if (!Number.isInteger(n) || n < 10) throw new RangeError(`"n" expected an integer ≥ 10, got ${n}`)
  const start = 1_700_000_000
  let now = start
  const engine = new VigilEngine({ now: () => now })
  const deciles: number[] = []
  const chunk = Math.floor(n / 10)
  let t0 = performance.now()
  const begin = t0
  for (let i = 0; i < n; i++) {
    const { agentId, event } = syntheticEvent(i, agents, start, spacing)
    now = event.timestamp + 1
    engine.onEvent(agentId, event)
    if ((i + 1) % chunk === 0 && deciles.length < 10) {
      const t1 = performance.now()
      deciles.push(Math.round((t1 - t0) * 1000 / chunk * 100) / 100)
      t0 = t1
    }
  }
  const seconds = (performance.now() - begin) / 1000
  return { events: n, eventsPerSecond: Math.round(n / seconds), microsPerEventByDecile: deciles, stateBytes: JSON.stringify(engine.toJSON()).length }
}

/** Events per second through VigilEngine.onEvent (scoring, alerts, history included). */
export function benchVigil (n: number): number {
  return benchVigilDetailed(n).eventsPerSecond
}
