// A2A request/response over MQTT, so two devices (a robot and a Pi) can handshake and interact through
// a broker. Topic per agent, beside the sync channels of sync/topics.ts:
//   <prefix>/<agent_id>/a2a     QoS 1, never retained: requests TO this agent and replies FOR it.
// (parseTopic() rejects this 3-level topic, so a hub listening on `+/up` never mistakes it for sync.)
// Payload: UTF-8 JSON `{ v: 1, kind: "req" | "res" | "err", corr, from, to, body | error }`. JSON rather than
// the sync channels' CBOR because the bodies are signed JSON (Base58 handshake messages, AISS events):
// lossless JSON carries them without any number-type conversion that would change the signed bytes.
// Correlation is in the payload, as the rest of PCP does (sync/topics.ts): the embedded broker speaks
// MQTT 3.1.1 only, so there are no MQTT 5 responseTopic/correlationData; the reply topic is the
// requester's own a2a topic, named by `from`.
// Trust: `from`/`to` are claims. A handler never trusts them (every A2A message is signed); the worst a
// lying `from` achieves is a reply published to another agent, who drops it (unknown corr). QoS 1 may
// deliver a request twice: replies are cached per (from, corr), so a duplicate gets the same reply.
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { parseJson, stringifyJson, PcpError } from '../runtime/index.js'
import type { JsonObject } from '../runtime/index.js'
import { A2AErrorCodes as C } from '../runtime/a2a/errors.js'
import { errorFromReply, errorReply, timeoutError, DEFAULT_TIMEOUT_MS, type A2AHandler, type A2ATransport } from '../runtime/a2a/transport.js'
import { DEFAULT_PREFIX, MAX_PAYLOAD_BYTES, checkPrefix, isAgentIdShape } from './topics.js'

export const A2A_CHANNEL = 'a2a'
const REPLY_CACHE = 256

/** `<prefix>/<agent_id>/a2a`. Throws TypeError for a malformed agent_id or prefix. */
export function a2aTopic (agentId: string, prefix: string = DEFAULT_PREFIX): string {
  if (!isAgentIdShape(agentId)) throw new TypeError(`"agentId" expected Base58, 32 chars, got ${JSON.stringify(String(agentId).slice(0, 64))}`)
  return `${checkPrefix(prefix)}/${agentId}/${A2A_CHANNEL}`
}

interface Envelope { v: 1, kind: 'req' | 'res' | 'err', corr: string, from: string, to: string, body?: JsonObject, error?: { code: string, message: string } }

export class MqttA2ATransport implements A2ATransport {
  readonly #client: MqttClient
  readonly #prefix: string
  readonly #handlers = new Map<string, A2AHandler>()
  readonly #listening = new Set<string>() // topics subscribed (served agents and reply-only requesters)
  readonly #pending = new Map<string, { resolve: (b: JsonObject) => void, reject: (e: unknown) => void, peer: string }>()
  readonly #replies = new Map<string, Promise<Envelope>>()
  readonly #onMessage = (topic: string, payload: Buffer): void => { this.#receive(topic, payload) }
  #closed = false

  /** `client` is connected and owned by the caller (it may also carry sync traffic). */
  constructor (client: MqttClient, opts: { prefix?: string } = {}) {
    this.#client = client
    this.#prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX)
    client.on('message', this.#onMessage)
    // Request/response is latency-bound: with Nagle on, each small reply waits for the peer's delayed ACK
    // (measured: 90 ms per interaction on loopback, 47 ms without; the broker's own sockets add the rest).
    client.on('connect', this.#noDelay)
    this.#noDelay()
  }

  readonly #noDelay = (): void => { (this.#client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true) }

  async #listen (agentId: string): Promise<void> {
    const topic = a2aTopic(agentId, this.#prefix)
    if (this.#listening.has(topic)) return
    await this.#client.subscribeAsync(topic, { qos: 1 })
    this.#listening.add(topic)
  }

  async serve (agentId: string, handler: A2AHandler): Promise<() => Promise<void>> {
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function')
    this.#handlers.set(agentId, handler)
    await this.#listen(agentId)
    return async () => { if (this.#handlers.get(agentId) === handler) this.#handlers.delete(agentId) }
  }

  async request (from: string, peer: string, body: JsonObject, opts: { timeoutMs?: number } = {}): Promise<JsonObject> {
    if (this.#closed) throw new PcpError(C.A2A_UNREACHABLE, 'the MQTT A2A transport is closed', { agent: peer })
    const topic = a2aTopic(peer, this.#prefix)
    await this.#listen(from) // replies come back on the requester's own topic
    const corr = randomBytes(16).toString('hex')
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const text = stringifyJson({ v: 1, kind: 'req', corr, from, to: peer, body })
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw new RangeError(`A2A request of ${Buffer.byteLength(text)} bytes exceeds ${MAX_PAYLOAD_BYTES}`)
    return new Promise<JsonObject>((resolve, reject) => {
      const timer = setTimeout(() => { this.#pending.delete(corr); reject(timeoutError(peer, ms)) }, ms)
      const done = <T>(f: (x: T) => void) => (x: T): void => { clearTimeout(timer); this.#pending.delete(corr); f(x) }
      this.#pending.set(corr, { resolve: done(resolve), reject: done(reject), peer })
      this.#client.publishAsync(topic, text, { qos: 1 }).catch((err: unknown) => {
        this.#pending.get(corr)?.reject(new PcpError(C.A2A_UNREACHABLE, `cannot publish to ${topic}: ${(err as Error).message}`, { agent: peer, cause: err }))
      })
    })
  }

  #receive (topic: string, payload: Buffer): void {
    if (!this.#listening.has(topic) || payload.length > MAX_PAYLOAD_BYTES) return
    let env: Envelope
    try { env = parseJson(payload.toString('utf8')) as unknown as Envelope } catch { return }
    if (!env || env.v !== 1 || typeof env.corr !== 'string' || env.corr.length > 64) return
    if (env.kind === 'res' || env.kind === 'err') {
      const p = this.#pending.get(env.corr)
      if (!p || env.from !== p.peer) return
      if (env.kind === 'res' && env.body && typeof env.body === 'object') p.resolve(env.body)
      else p.reject(errorFromReply(p.peer, env.error ?? {}))
      return
    }
    if (env.kind !== 'req' || !isAgentIdShape(env.from) || !isAgentIdShape(env.to) || topic !== a2aTopic(env.to, this.#prefix)) return
    const handler = this.#handlers.get(env.to)
    if (!handler) return
    const key = `${env.from}\u0000${env.corr}`
    let reply = this.#replies.get(key)
    if (!reply) {
      reply = handler(env.from, env.body as JsonObject).then(
        (body): Envelope => ({ v: 1, kind: 'res', corr: env.corr, from: env.to, to: env.from, body }),
        (err): Envelope => ({ v: 1, kind: 'err', corr: env.corr, from: env.to, to: env.from, error: errorReply(err) }))
      this.#replies.set(key, reply)
      if (this.#replies.size > REPLY_CACHE) this.#replies.delete(this.#replies.keys().next().value!)
    }
    reply.then((r) => {
      if (this.#closed) return
      return this.#client.publishAsync(a2aTopic(env.from, this.#prefix), stringifyJson(r as unknown as JsonObject), { qos: 1 })
    }).catch(() => { /* the requester times out; nothing else to tell */ })
  }

  /** Stops listening and fails pending requests; the MQTT client stays connected (it is the caller's). */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#client.off('message', this.#onMessage)
    this.#client.off('connect', this.#noDelay)
    for (const p of this.#pending.values()) p.reject(new PcpError(C.A2A_UNREACHABLE, 'the MQTT A2A transport was closed', { agent: p.peer }))
    const topics = [...this.#listening]
    this.#listening.clear()
    if (topics.length && this.#client.connected) await this.#client.unsubscribeAsync(topics).catch(() => {})
  }
}
