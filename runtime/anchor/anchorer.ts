// Anchoring (issue 21, "Trusted time"): every N events or T seconds the agent cuts the events since
// its last cut, computes the RFC 6962 root over their hashes, asks a TSA for a token on it and stamps
// an `anchor` event holding the token (runtime/anchor/payload.ts). Offline first: a cut is a durable
// entry of a pending queue in the store's meta slot before any network is tried; a TSA that is down
// leaves it pending, retried with backoff, across restarts and SIGKILL. The anchor event and the
// removal of its queue entry are one atomic store batch (Agent.stamp's `meta`), so a crash keeps both
// or neither: never a second anchor for one cut, never a rewritten event (the reference's retry
// appends a copy of the event it re-stamps, tsa.md §5).
import { join } from 'node:path'
import { randomBytes as nodeRandomBytes } from 'node:crypto'
import type { Agent } from '../agent.js'
import { eventHash } from '../event.js'
import { writeFileAtomic } from '../fsutil.js'
import { merkleRoot } from '../merkle.js'
import { fromHex, toHex } from '../encoding.js'
import { buildTimestampRequest } from '../tsa/request.js'
import { requestTimestamp } from '../tsa/client.js'
import { verifyTimestampToken } from '../tsa/verify-token.js'
import { TsaError } from '../tsa/errors.js'
import { anchorPayload, ANCHOR_EVENT_TYPE, parseAnchorPayload } from './payload.js'

export const ANCHOR_STATE_META = 'anchor.state'
export const ANCHOR_STATUS_FILE = 'anchor-status.json'

export interface AnchorOptions {
  /** The TSA's RFC 3161 HTTP endpoint. */
  tsaUrl: string
  /** Trusted TSA roots (DER; runtime/tsa/trust.ts reads PEM). A token is verified before it is stamped. */
  trustRoots: Uint8Array[]
  /** Cut once this many events are unanchored (default 1000). */
  everyEvents?: number
  /** Cut at least this often while events are unanchored (default 300 s). */
  everySeconds?: number
  /** First retry after a failed request, doubling up to retryMaxMs (defaults 5 s, 10 min). */
  retryMinMs?: number
  retryMaxMs?: number
  timeoutMs?: number
  /** Where the pending state is published for `pcp sync status` (default <agent dir>/anchor-status.json). */
  statusFile?: string
  clock?: () => number
  randomBytes?: (n: number) => Uint8Array
  fetch?: typeof globalThis.fetch
}

export interface PendingAnchor {
  from: number
  to: number
  root: string
  /** When the cut was made (ms since the epoch). */
  cut_at: number
  attempts: number
  last_try: number | null
  last_error: { code: string, message: string } | null
}

export interface AnchorState {
  /** The first event of the next cut. */
  next_from: number
  pending: PendingAnchor[]
  last_anchor: { index: number, from: number, to: number, gen_time: string } | null
}

export interface AnchorStatus extends AnchorState {
  agent: string
  tsa_url: string
  head_seq: number
  /** cut_at of the oldest pending entry: how long this device has been without trusted time. */
  oldest_pending_at: number | null
  updated_at: number
}

export class Anchorer {
  readonly agent: Agent
  #opts: Required<Pick<AnchorOptions, 'everyEvents' | 'everySeconds' | 'retryMinMs' | 'retryMaxMs'>> & AnchorOptions
  #state: AnchorState
  #clock: () => number
  #work: Promise<void> = Promise.resolve()
  #timer: ReturnType<typeof setInterval> | undefined
  #lastCutAt: number
  #retryAt = 0
  #backoff: number
  #closed = false
  // One step waiting behind the running one is enough: a burst of stamps must not queue a step each.
  #stepQueued = false
  #onStamped: () => void

  private constructor (agent: Agent, opts: AnchorOptions, state: AnchorState) {
    this.agent = agent
    this.#opts = { everyEvents: 1000, everySeconds: 300, retryMinMs: 5000, retryMaxMs: 600_000, ...opts }
    this.#state = state
    this.#clock = opts.clock ?? Date.now
    this.#lastCutAt = this.#clock()
    this.#backoff = this.#opts.retryMinMs
    this.#onStamped = () => {
      const head = this.agent.store.head
      if (head && head.seq - this.#state.next_from + 1 >= this.#opts.everyEvents) this.kick()
    }
  }

  static async start (agent: Agent, opts: AnchorOptions): Promise<Anchorer> {
    if (typeof opts.tsaUrl !== 'string') throw new TypeError('"tsaUrl" expected a URL string')
    if (!Array.isArray(opts.trustRoots) || opts.trustRoots.length === 0) throw new TsaError('TSA_NO_TRUST_ROOTS', 'anchoring needs at least one TSA trust root, to verify each token before it is stamped', { field: 'trustRoots' })
    for (const k of ['everyEvents', 'everySeconds'] as const) if (opts[k] !== undefined && !(Number(opts[k]) > 0)) throw new RangeError(`"${k}" expected a positive number, got ${String(opts[k])}`)
    const state = await agent.store.getMeta<AnchorState>(ANCHOR_STATE_META) ?? await stateFromChain(agent)
    const a = new Anchorer(agent, opts, state)
    agent.on('stamped', a.#onStamped)
    a.#timer = setInterval(() => a.kick(), Math.min(a.#opts.everySeconds * 1000, 60_000))
    a.#timer.unref()
    await a.#publish()
    // Whatever a previous run left pending is tried now (a device that was offline anchors on restart).
    a.kick()
    return a
  }

  /** The queue and the last anchor, as published in the status file. */
  status (): AnchorStatus {
    const s = this.#state
    return {
      agent: this.agent.name, tsa_url: this.#opts.tsaUrl, ...structuredClone(s),
      head_seq: this.agent.store.head?.seq ?? -1,
      oldest_pending_at: s.pending[0]?.cut_at ?? null,
      updated_at: this.#clock()
    }
  }

  /** Cuts if a cut is due, then tries the pending queue (when its retry time has come). Serialized. */
  kick (opts: { force?: boolean } = {}): Promise<void> {
    if (this.#closed) return this.#work
    if (this.#stepQueued && opts.force !== true) return this.#work
    this.#stepQueued = true
    this.#work = this.#work.then(() => { this.#stepQueued = false; return this.#step(opts.force === true) }).catch((err) => { this.agent.emit('warning', { code: (err as { code?: string }).code ?? 'ANCHOR_FAILED', message: `anchoring: ${(err as Error).message}` }) })
    return this.#work
  }

  /** Cuts whatever is unanchored now and tries the whole queue, ignoring the retry backoff. */
  async flush (): Promise<AnchorStatus> {
    this.#retryAt = 0
    await this.kick({ force: true })
    return this.status()
  }

  async #step (force: boolean): Promise<void> {
    if (this.#closed || this.agent.store.closed) return
    await this.#cutIfDue(force)
    if (force || this.#clock() >= this.#retryAt) await this.#drainQueue()
  }

  async #cutIfDue (force: boolean): Promise<void> {
    await this.agent.store.flush()
    const head = this.agent.store.head
    if (!head || head.seq < this.#state.next_from) return
    const n = head.seq - this.#state.next_from + 1
    const now = this.#clock()
    // An anchor event alone since the last cut is not worth a token of its own.
    if (n === 1 && !force) {
      const only = await this.agent.store.get(head.seq)
      if (only?.payload.event_type === ANCHOR_EVENT_TYPE) return
    }
    if (!force && n < this.#opts.everyEvents && now - this.#lastCutAt < this.#opts.everySeconds * 1000) return
    const from = this.#state.next_from; const to = head.seq
    const leaves: Uint8Array[] = []
    for await (const { event } of this.agent.store.events(from, to + 1)) leaves.push(fromHex(eventHash(event)))
    const root = toHex(merkleRoot(leaves))
    this.#state = { ...this.#state, next_from: to + 1, pending: [...this.#state.pending, { from, to, root, cut_at: now, attempts: 0, last_try: null, last_error: null }] }
    this.#lastCutAt = now
    // Durable before any network: a crash from here on leaves the cut pending, never lost.
    await this.agent.store.putMeta(ANCHOR_STATE_META, this.#state)
    await this.#publish()
  }

  async #drainQueue (): Promise<void> {
    while (this.#state.pending.length && !this.#closed) {
      const p = this.#state.pending[0]!
      try {
        const imprint = fromHex(p.root)
        const req = buildTimestampRequest(imprint, this.#opts.randomBytes ?? ((n) => new Uint8Array(nodeRandomBytes(n))))
        const reply = await requestTimestamp(req.der, { url: this.#opts.tsaUrl, ...(this.#opts.timeoutMs ? { timeoutMs: this.#opts.timeoutMs } : {}), ...(this.#opts.fetch ? { fetch: this.#opts.fetch } : {}) })
        const verdict = await verifyTimestampToken(reply, { imprint, trustRoots: this.#opts.trustRoots, nonce: req.nonce })
        if (!verdict.ok) throw new TsaError(verdict.code, `the TSA's token was refused: ${verdict.message}`, verdict.field ? { field: verdict.field } : {})
        const last = await this.agent.store.get(p.to)
        const payload = anchorPayload({ from: p.from, to: p.to, toHash: eventHash(last!), root: p.root, token: reply, nonce: req.nonce.toString(16), url: this.#opts.tsaUrl, genTime: verdict.genTime.toISOString() })
        const index = (this.agent.head?.seq ?? -1) + 1
        const next: AnchorState = { ...this.#state, pending: this.#state.pending.slice(1), last_anchor: { index, from: p.from, to: p.to, gen_time: verdict.genTime.toISOString() } }
        // Called in the same tick as `index` was read: stamp() chains synchronously, so it is that seq.
        await this.agent.stamp(ANCHOR_EVENT_TYPE, payload, { meta: { [ANCHOR_STATE_META]: next } })
        this.#state = next
        this.#backoff = this.#opts.retryMinMs
        this.#retryAt = 0
        this.agent.emit('anchored', { from: p.from, to: p.to, genTime: verdict.genTime })
      } catch (err) {
        const e = err as { code?: string, message?: string }
        const failed: PendingAnchor = { ...p, attempts: p.attempts + 1, last_try: this.#clock(), last_error: { code: e.code ?? 'ANCHOR_FAILED', message: e.message ?? String(err) } }
        this.#state = { ...this.#state, pending: [failed, ...this.#state.pending.slice(1)] }
        this.#retryAt = this.#clock() + this.#backoff
        this.#backoff = Math.min(this.#backoff * 2, this.#opts.retryMaxMs)
        if (!this.agent.store.closed) await this.agent.store.putMeta(ANCHOR_STATE_META, this.#state).catch(() => {})
        break
      } finally {
        await this.#publish()
      }
    }
  }

  async #publish (): Promise<void> {
    const file = this.#opts.statusFile ?? join(this.agent.dir, ANCHOR_STATUS_FILE)
    await writeFileAtomic(file, JSON.stringify(this.status(), null, 2) + '\n', 0o644).catch(() => {})
  }

  /** Stops the timer and waits for the request in flight; call before agent.close(). */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    this.agent.off('stamped', this.#onStamped)
    await this.#work
  }
}

/** A store that never ran an Anchorer: continue after its last anchor event, if it has one. */
async function stateFromChain (agent: Agent): Promise<AnchorState> {
  const [last] = await agent.store.search({ eventType: ANCHOR_EVENT_TYPE, reverse: true, limit: 1 })
  if (!last) return { next_from: 0, pending: [], last_anchor: null }
  const a = parseAnchorPayload(last.event.payload, last.seq)
  return { next_from: a.to + 1, pending: [], last_anchor: { index: last.seq, from: a.from, to: a.to, gen_time: a.genTime } }
}
