// DeviceGate's way to the hub (sync/gate.ts): one signed request on the agent's `up` topic and its answer
// on `down`, matched by a random correlation id, with a bounded wait. Every request is signed by the
// device's key with a timestamp and a fresh nonce (sync/gate-wire.ts signGateRequest), so the hub
// answers nothing it cannot attribute; what an answer proves is for the gate to check, not this module.
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { toHex, type StatementSigner } from '../runtime/index.js'
import { downTopic, upTopic } from './topics.js'
import { GATE_KINDS, decodeEnvelope, encodeEnvelope, signGateRequest } from './gate-wire.js'

export interface GateRequestsOptions {
  client: MqttClient
  agent: StatementSigner & { agentId: string }
  prefix: string
  random?: (n: number) => Uint8Array
  /** Milliseconds. */
  clock?: () => number
  /** The cached policy's hash, sent with each request (null: none cached). */
  policyHash: () => string | null
}

interface Waiter { resolve: (env: Record<string, unknown> | null) => void, timer: NodeJS.Timeout, accept: Accept }

/** Whether an answer that carries a request's corr is authentic (the hub's signatures, checked by the gate). */
export type Accept = (env: Record<string, unknown>) => boolean

export class GateRequests {
  readonly #o: GateRequestsOptions
  readonly #down: string
  readonly #up: string
  readonly #waiters = new Map<string, Waiter>()
  /** Hub clock minus ours (seconds), learnt from a REQUEST_STALE refusal. */
  #skew = 0
  /** Answers ignored because they failed `accept`: someone else publishes on this agent's `down` topic. */
  forged = 0
  readonly #onMessage = (topic: string, payload: Buffer): void => {
    if (topic !== this.#down) return
    const env = decodeEnvelope(payload)
    const corr = env?.corr
    if (!(corr instanceof Uint8Array)) return
    const key = toHex(corr)
    const w = this.#waiters.get(key)
    if (w === undefined) return
    // Anyone who read the request off an open broker knows its corr: an answer the hub did not sign is
    // no answer, and the wait goes on for the real one.
    if (!w.accept(env!)) { this.forged++; return }
    this.#waiters.delete(key)
    clearTimeout(w.timer)
    w.resolve(env)
  }

  readonly #onConnect = (): void => { noDelay(this.#o.client); this.#o.client.subscribe(this.#down, { qos: 1 }) }

  constructor (o: GateRequestsOptions) {
    this.#o = o
    this.#down = downTopic(o.agent.agentId, o.prefix)
    this.#up = upTopic(o.agent.agentId, o.prefix)
  }

  /** Listens for answers on the agent's `down` topic (again after every reconnect). */
  async listen (): Promise<void> {
    const client = this.#o.client
    client.on('message', this.#onMessage)
    // After a reconnect with a clean session the broker has forgotten the subscription.
    client.on('connect', this.#onConnect)
    noDelay(client)
    if (client.connected) await client.subscribeAsync(this.#down, { qos: 1 }).catch(() => {})
  }

  /**
   * Sends one signed request and waits for its answer; null on timeout or when the client is offline. A
   * REQUEST_STALE refusal names the hub's clock: correct the offset and ask once more (a device without a
   * real-time clock boots in 1970). Only answers `accept` takes count (a forged refusal is ignored).
   */
  async request (body: Record<string, unknown>, waitMs: number, accept: Accept): Promise<Record<string, unknown> | null> {
    const env = await this.#send(body, waitMs, accept)
    if (env?.kind !== GATE_KINDS.error || env.code !== 'REQUEST_STALE' || !Number.isSafeInteger(env.hub_time)) return env
    this.#skew = (env.hub_time as number) - this.#seconds(0)
    return await this.#send(body, waitMs, accept)
  }

  /** Stops listening; requests still waiting resolve as unanswered (null). The mqtt client stays open. */
  async close (): Promise<void> {
    const client = this.#o.client
    client.off('message', this.#onMessage)
    client.off('connect', this.#onConnect)
    for (const [k, w] of this.#waiters) { clearTimeout(w.timer); this.#waiters.delete(k); w.resolve(null) }
    if (client.connected) await client.unsubscribeAsync(this.#down).catch(() => {})
  }

  #seconds (skew = this.#skew): number { return Math.floor((this.#o.clock ?? Date.now)() / 1000) + skew }

  #send (body: Record<string, unknown>, waitMs: number, accept: Accept): Promise<Record<string, unknown> | null> {
    if (!this.#o.client.connected) return Promise.resolve(null)
    const random = this.#o.random ?? randomBytes
    const corr = random(16)
    const key = toHex(corr)
    const policyHash = this.#o.policyHash()
    const env = signGateRequest(this.#o.agent, this.#o.agent.agentId, { v: 1, ...body, corr, ...(policyHash !== null ? { policy_hash: policyHash } : {}) }, this.#seconds(), toHex(random(16)))
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#waiters.delete(key); resolve(null) }, waitMs)
      this.#waiters.set(key, { resolve, timer, accept })
      this.#o.client.publish(this.#up, Buffer.from(encodeEnvelope(env)), { qos: 1 }, (err) => {
        if (err && this.#waiters.delete(key)) { clearTimeout(timer); resolve(null) }
      })
    })
  }
}

/**
 * A gate check is one small request and one small answer: with Nagle's algorithm on, the kernel holds
 * them for the peer's delayed ACK (~40 ms each way on Linux; measured 88 ms vs 2 ms per round trip).
 */
function noDelay (client: MqttClient): void {
  (client.stream as unknown as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true)
}
