// Shared plumbing of the Vigil tests: plain events (Vigil receives events that ingest already verified,
// so unit tests need no signatures), real signed chains for the tamper tests, and a controllable clock.
import { Identity, stampEvent, verifyChain, type AissEvent, type JsonValue } from '../runtime/index.js'
import { VigilEngine, type VigilOptions } from '../hub/vigil/index.js'

export const T0 = 1_700_000_000
export const DAY = 86_400
export const HOUR = 3_600

let nonce = 0
/** An event as ingest hands it over (signature not checked by Vigil). */
export function ev (timestamp: number, payload: Record<string, JsonValue>, extra: Record<string, JsonValue> = {}): AissEvent {
  return { version: 'AISS-1.0', agent_id: 'A', timestamp, nonce: `n${nonce++}`, payload, previous_hash: null, signature: 'sig', ...extra }
}

export function a2a (timestamp: number, peer: string, verified = false, type = 'a2a_message'): AissEvent {
  return ev(timestamp, verified ? { event_type: type, peer_agent_id: peer, peer_signature: 'p' } : { event_type: type, peer_agent_id: peer })
}

/** An engine on a clock the test moves by assigning `clock.now`. */
export function engineWithClock (start = T0, opts: VigilOptions = {}): { engine: VigilEngine, clock: { now: number } } {
  const clock = { now: start }
  return { engine: new VigilEngine({ ...opts, now: () => clock.now }), clock }
}

/** A real signed chain (runtime stampEvent), genesis linked to SHA-256(pubkey) as the reference does. */
export function signedChain (n: number, start = T0): { identity: Identity, events: AissEvent[] } {
  const identity = Identity.generate({ now: start })
  const events: AissEvent[] = []
  let prev: string | null = identity.genesisHash()
  for (let i = 0; i < n; i++) {
    const { event, hash } = stampEvent(identity, { event_type: i === 0 ? 'genesis' : 'step', i }, { previousHash: prev, timestamp: start + i * 60 })
    events.push(event)
    prev = hash
  }
  return { identity, events }
}

/**
 * What the hub's ingest will do: verify the chain, pass good events to onEvent and each problem to
 * onAnomaly. Returns the verifier's report.
 */
export function ingest (engine: VigilEngine, identity: Identity, events: AissEvent[], clock: { now: number }): ReturnType<typeof verifyChain> {
  const report = verifyChain(events, identity.document())
  const bad = new Set(report.errors.map((e) => e.index))
  events.forEach((event, index) => {
    clock.now = event.timestamp + 1
    for (const p of report.errors.filter((e) => e.index === index)) engine.onAnomaly(identity.agentId, { code: p.code, index, message: p.message, at: clock.now })
    if (!bad.has(index)) engine.onEvent(identity.agentId, event)
  })
  return report
}

/** A small deterministic PRNG so scenarios replay the same way. */
export function seeded (seed: number): () => number {
  return () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
}

export function close (actual: number, expected: number, eps = 1e-4): boolean {
  return Math.abs(actual - expected) <= eps
}
