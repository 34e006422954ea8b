// Every message on an agent's `up` topic, from bytes to the answer for its `down` topic: the checks that
// cost nothing (size, topic, a CBOR scan that counts what decoding would cost before paying it, issue 14
// #4), then routing by `kind`: `identity`, `head?` and `events` to the sync protocol (hub/sync-kinds.ts),
// anything else to the handlers registered with handle() (TrustGate's `gate*` kinds). Untrusted input
// never throws out of onMessage: it is counted under a reason and, when it carries a valid `corr`, answered.
import { parseTopic, MAX_PAYLOAD_BYTES } from '../sync/topics.js'
import { decodeEnvelope, MESSAGE_SCAN } from '../sync/wire.js'
import { scanCbor } from '../sync/cbor-scan.js'
import { syncKind, type SyncKindsContext } from './sync-kinds.js'

/** A handler for one envelope kind: returns the envelope to publish on the agent's `down` topic, or null. */
export type KindHandler = (agentId: string, envelope: Record<string, unknown>) => Promise<object | null> | object | null

export interface UpRouterContext extends SyncKindsContext {
  prefix: string
  /** Publishes `out` on the agent's `down` topic; `t0` is when its message arrived (performance.now()). */
  reply (agentId: string, out: object, t0: number): void
}

export class UpRouter {
  readonly #ctx: UpRouterContext
  readonly #handlers = new Map<string, KindHandler>()

  constructor (ctx: UpRouterContext) { this.#ctx = ctx }

  /** Routes envelopes of `kind` arriving on any agent's `up` topic to `handler`. */
  handle (kind: string, handler: KindHandler): void {
    if (typeof kind !== 'string' || kind.length === 0) throw new TypeError('"kind" expected a non-empty string')
    if (['identity', 'head?', 'events'].includes(kind)) throw new RangeError(`"kind" ${kind} is the sync protocol's own`)
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function')
    this.#handlers.set(kind, handler)
  }

  onMessage (topic: string, payload: Buffer): void {
    const ctx = this.#ctx
    if (payload.length > MAX_PAYLOAD_BYTES) return ctx.reject('PAYLOAD_TOO_LARGE')
    const t = parseTopic(topic, ctx.prefix)
    if (!t.ok || t.channel !== 'up') return ctx.reject('TOPIC_INVALID')
    const scan = scanCbor(payload, MESSAGE_SCAN)
    if (!scan.ok) return ctx.reject(scan.reason === 'CBOR_MALFORMED' ? 'PAYLOAD_NOT_CBOR' : scan.reason)
    const d = decodeEnvelope(payload)
    if (!d.ok) return ctx.reject(d.reason)
    const env = d.env
    const t0 = performance.now()
    this.#dispatch(t.agentId, topic, env).then((out) => { if (out !== null) ctx.reply(t.agentId, out, t0) }, (err) => {
      ctx.reject('HANDLER_FAILED')
      ctx.log.error({ event: 'handler_failed', kind: String(env.kind), agent: t.agentId, reason: (err as Error).message }, `handler for ${String(env.kind)} failed: ${(err as Error).message}`)
    })
  }

  async #dispatch (agentId: string, topic: string, env: Record<string, unknown> & { kind: string }): Promise<object | null> {
    const sync = await syncKind(this.#ctx, agentId, topic, env)
    if (sync !== undefined) return sync
    const handler = this.#handlers.get(env.kind)
    if (!handler) { this.#ctx.reject('KIND_UNKNOWN'); return null }
    return await handler(agentId, env)
  }
}
