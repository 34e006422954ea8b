// How A2A requests reach a peer: an interface with two implementations, the in-process one here (agents
// of one process, e.g. AgentSession) and MQTT request/response (sync/a2a-transport.ts) between devices.
// A request carries a JSON body and resolves with the peer's JSON reply; a peer-side failure arrives as a
// PcpError with the peer's code. Bodies cross as JSON text even in-process, so both transports hand the
// peer its own copy, with the same number types (lossless JSON), and nothing but JSON gets through.
import { parseJson, stringifyJson } from '../json.js'
import { PcpError } from '../errors.js'
import type { JsonObject } from '../value.js'
import { A2AErrorCodes as C } from './errors.js'

/** Handles one request addressed to a local agent. `from` is what the sender claims: never trust it. */
export type A2AHandler = (from: string, body: JsonObject) => Promise<JsonObject>

export interface A2ATransport {
  /** Sends `body` from local agent `from` to `peer`; resolves with the reply. */
  request (from: string, peer: string, body: JsonObject, opts?: { timeoutMs?: number }): Promise<JsonObject>
  /** Routes requests addressed to `agentId` to `handler`. Returns the function that stops it. */
  serve (agentId: string, handler: A2AHandler): Promise<() => Promise<void>>
}

export const DEFAULT_TIMEOUT_MS = 10_000

/** The wire form of a failure: the peer's code when it is one of ours, A2A_PEER_FAILED otherwise. */
export function errorReply (err: unknown): { code: string, message: string } {
  const code = err instanceof PcpError ? err.code : C.A2A_PEER_FAILED
  return { code, message: (err as Error)?.message ?? String(err) }
}

export function errorFromReply (peer: string, e: { code?: unknown, message?: unknown }): PcpError {
  const code = typeof e.code === 'string' && e.code.length <= 64 ? e.code : C.A2A_PEER_FAILED
  return new PcpError(code, `peer ${peer}: ${String(e.message ?? 'failed').slice(0, 500)}`, { agent: peer })
}

export function timeoutError (peer: string, ms: number): PcpError {
  return new PcpError(C.A2A_TIMEOUT, `peer ${peer} did not answer within ${ms} ms`, { agent: peer, expected: ms })
}

/** Agents of one process. Delivery is asynchronous, as on a network. */
export class InProcessTransport implements A2ATransport {
  readonly #handlers = new Map<string, A2AHandler>()

  async serve (agentId: string, handler: A2AHandler): Promise<() => Promise<void>> {
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function')
    this.#handlers.set(agentId, handler)
    return async () => { if (this.#handlers.get(agentId) === handler) this.#handlers.delete(agentId) }
  }

  async request (from: string, peer: string, body: JsonObject, opts: { timeoutMs?: number } = {}): Promise<JsonObject> {
    const handler = this.#handlers.get(peer)
    if (!handler) throw new PcpError(C.A2A_UNREACHABLE, `no agent ${peer} on this in-process transport`, { agent: peer })
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const wire = stringifyJson(body)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(timeoutError(peer, ms)), ms) })
    const call = (async () => {
      await new Promise((resolve) => setImmediate(resolve))
      let reply: JsonObject
      try {
        reply = await handler(from, parseJson(wire) as JsonObject)
      } catch (err) {
        throw errorFromReply(peer, errorReply(err))
      }
      return parseJson(stringifyJson(reply)) as JsonObject
    })()
    try { return await Promise.race([call, timeout]) } finally { clearTimeout(timer) }
  }
}
