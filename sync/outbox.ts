// Over 300 lines (313): one state machine (handshake, window, acks, backoff); not split in issue 19's
// restructuring, which ran while another session was changing its backoff.
// One agent's side of the sync protocol (sync/wire.ts): store and forward. The chain in the device store
// IS the outbox: nothing is copied, stamping never waits for the network, and what to send next is a
// position in the chain. Per agent:
//   handshake  on every (re)connect: send the chain's first identity document, learn the hub's head,
//              check it is a prefix of the local chain (same hash at the same position; otherwise stop
//              loudly: never send a different history), and continue from head + 1;
//   streaming  batches of up to `batchSize` consecutive events, at most `maxInFlight` unacknowledged,
//              at most `maxEventsPerSec` (a token bucket: a backlog of hours drains at a bounded rate,
//              and live events queue behind it in chain order); a partial batch waits `batchDelayMs`
//              for company. Only the hub's `ack` (sent after its durable write) moves the cursor; a
//              broker PUBACK proves nothing (a broker may drop QoS 1 messages for a slow subscriber).
//   resync     an ack that does not come within `ackTimeoutMs`, a GAP nack or a busy hub: ask for the
//              head again and resend from there (the hub drops what it already holds).
//   stopped    the hub refused an event or the agent, or the histories differ: nothing more is sent
//              until restart; status says why.
import { eventHash } from '../runtime/event.js'
import type { EventStore } from '../runtime/store.js'
import type { AissEvent, IdentityDocument } from '../runtime/types.js'
import { toHex } from '../runtime/encoding.js'
import { rawEventsEnvelope, recordCosts, NACK_CODES, MAX_MESSAGE_VALUES, MAX_CBOR_DEPTH, type DownEnvelope, type WireHead } from './wire.js'
import { SyncErrorCodes } from './errors.js'
import { jitteredDelay } from './backoff.js'

export type Phase = 'offline' | 'handshake' | 'pending' | 'streaming' | 'stopped'

export interface OutboxConfig {
  batchSize: number
  batchDelayMs: number
  maxInFlight: number
  maxEventsPerSec: number
  ackTimeoutMs: number
  maxBatchBytes: number
}

export interface OutboxIo {
  /** Publishes an envelope on this agent's `up` topic (only called while connected). */
  send (env: object): void
  corr (): Uint8Array
  now (): number
  /** Something changed that status readers may want. */
  changed (): void
  /** A stop or a warning, for the agent's listeners. */
  report (kind: 'stopped' | 'warning', code: string, message: string): void
}

interface Flight { from: number, to: number, sentAt: number }

/**
 * A `hello` restarts the handshake at most this often. It is unsigned (anyone on an open broker can send
 * one, or replay the hub's), and each restart drops what is in flight: a flood of them stalled a
 * device's sync entirely and had it flood the hub with identity messages. A real hub says hello when it
 * (re)subscribes, far less often.
 */
export const HELLO_MIN_INTERVAL_MS = 5000

export class Outbox {
  readonly name: string
  readonly chainId: string
  readonly identity: IdentityDocument
  readonly store: EventStore
  phase: Phase = 'offline'
  durable: WireHead | null
  acked: WireHead | null = null
  lastAckAt: number | null = null
  lastError: { code: string, message: string } | null = null
  readonly #cfg: OutboxConfig
  readonly #io: OutboxIo
  readonly #inflight = new Map<string, Flight>()
  #next = 0
  #handshake: { corr: string, sentAt: number } | null = null
  #retryAt = 0
  #backoffMs: number
  #attempt = 0
  #tokens: number
  #tokensAt: number
  #pumping = false
  #delayTimer: NodeJS.Timeout | undefined
  // A busy hub (HUB_BUSY: its queue is full or its store cannot write) is asked again after a growing
  // pause: an immediate handshake and resend would loop as fast as the network allows.
  #busyTimer: NodeJS.Timeout | undefined
  #busyMs = 0
  #firstWaitAt: number | null = null
  /** The hub answering now told us its head in this connection (a cursor saved from an earlier hub proves nothing). */
  #heardFromHub = false
  #helloAt = -Infinity

  constructor (p: { name: string, identity: IdentityDocument, store: EventStore, durable: WireHead | null, cursor: WireHead | null, cfg: OutboxConfig, io: OutboxIo }) {
    this.name = p.name; this.identity = p.identity; this.chainId = p.identity.agent_id; this.store = p.store
    this.durable = p.durable; this.acked = p.cursor
    this.#cfg = p.cfg; this.#io = p.io
    this.#backoffMs = p.cfg.ackTimeoutMs
    this.#tokens = p.cfg.batchSize; this.#tokensAt = p.io.now()
  }

  get backlog (): number { return (this.durable?.seq ?? -1) - (this.acked?.seq ?? -1) }
  get inflight (): number { return this.#inflight.size }
  /** Synced: the current hub has acknowledged the device's durable head, in this session. */
  get confirmed (): boolean { return this.#heardFromHub && this.phase === 'streaming' && this.backlog === 0 && this.#inflight.size === 0 }

  /** Why this agent is not confirmed, for an operator. */
  waitingFor (url: string): string {
    if (this.phase === 'stopped' || this.phase === 'pending') return this.lastError?.message ?? this.phase
    if (this.phase === 'offline') return `not connected to the broker at ${url}`
    if (this.phase === 'handshake') return `no hub answered on ${url} (is a hub running on that broker, with the same topic prefix?)`
    return `${this.backlog} event(s) not acknowledged yet`
  }

  /** A new durable event at the end of the local chain; false when it does not follow the known head. */
  onStamped (event: AissEvent, hash: string): boolean {
    const d = this.durable
    if (d === null || event.previous_hash === d.hash) {
      this.durable = { seq: (d?.seq ?? -1) + 1, hash }
      void this.pump()
      return true
    }
    return d.hash === hash // already counted; anything else: the caller re-reads the head
  }

  setDurable (head: WireHead | null): void { this.durable = head; void this.pump() }

  connected (): void { this.#resetBackoff(); this.#startHandshake() }

  // An answer from the hub (or a fresh connection): the next wait is the plain ack timeout again.
  #resetBackoff (): void { this.#backoffMs = this.#cfg.ackTimeoutMs; this.#attempt = 0 }

  disconnected (): void {
    if (this.phase !== 'stopped') this.phase = 'offline'
    this.#inflight.clear(); this.#handshake = null
    clearTimeout(this.#delayTimer); this.#delayTimer = undefined
    clearTimeout(this.#busyTimer); this.#busyTimer = undefined
    this.#io.changed()
  }

  #startHandshake (): void {
    if (this.phase === 'stopped') return
    this.phase = 'handshake'
    this.#inflight.clear()
    this.#heardFromHub = false
    const corr = this.#io.corr()
    this.#handshake = { corr: toHex(corr), sentAt: this.#io.now() }
    this.#io.send({ v: 1, kind: 'identity', corr, identity: this.identity, name: this.name })
    this.#io.changed()
  }

  /** Periodic: ack and handshake timeouts, pending retries. */
  tick (): void {
    const now = this.#io.now()
    if (this.phase === 'pending' && now >= this.#retryAt) return this.#startHandshake()
    const waitingSince = this.#handshake?.sentAt ?? Math.min(...[...this.#inflight.values()].map((f) => f.sentAt))
    if ((this.phase === 'handshake' || this.phase === 'streaming') && Number.isFinite(waitingSince) && now - waitingSince > this.#backoffMs) {
      // Lost on the way (hub down, broker dropped it): ask again, waiting longer each time, jittered so
      // that a fleet whose hub went away does not come back in lockstep (sync/backoff.ts).
      this.#backoffMs = jitteredDelay(++this.#attempt, this.#cfg.ackTimeoutMs, Math.max(this.#cfg.ackTimeoutMs, 60_000))
      this.#startHandshake()
    }
  }

  async onDown (env: DownEnvelope): Promise<void> {
    if (env.kind === 'hello') {
      // A hub that just (re)connected lost whatever was in flight to it: ask again now rather than after
      // a handshake or ack timeout that may have grown to a minute during the outage.
      if (this.phase !== 'handshake' && this.phase !== 'pending' && this.#inflight.size === 0) return
      const now = this.#io.now()
      if (now - this.#helloAt < HELLO_MIN_INTERVAL_MS) return
      this.#helloAt = now
      this.#resetBackoff(); this.#startHandshake()
      return
    }
    const corr = toHex(env.corr)
    if (env.kind === 'head') {
      if (this.#handshake?.corr !== corr) return
      this.#handshake = null
      this.#resetBackoff()
      if (env.state === 'pending') {
        // Silent waiting looked like a hang: say what the operator must do, once per wait, and in status.
        if (this.phase !== 'pending' || this.lastError?.code !== SyncErrorCodes.SYNC_PENDING_APPROVAL) {
          this.lastError = { code: SyncErrorCodes.SYNC_PENDING_APPROVAL, message: `${this.name} waits for approval by the hub: on the hub run \`pcp hub approve ${this.chainId}\`` }
          this.#io.report('warning', this.lastError.code, this.lastError.message)
        }
        this.phase = 'pending'; this.#retryAt = this.#io.now() + Math.min(5000, this.#cfg.ackTimeoutMs); this.#io.changed(); return
      }
      if (this.lastError?.code === SyncErrorCodes.SYNC_PENDING_APPROVAL) this.lastError = null
      if (env.state === 'revoked') return this.#stop(SyncErrorCodes.SYNC_REFUSED, `the hub revoked agent ${this.chainId}`)
      if (env.state !== 'allowed') { this.phase = 'pending'; this.#retryAt = this.#io.now() + Math.min(5000, this.#cfg.ackTimeoutMs); return }
      return this.#resume(env.head).catch((err: Error) => this.#retryLater(SyncErrorCodes.SYNC_STORE_UNREADABLE, `cannot read the local chain: ${err.message}`))
    }
    const flight = this.#inflight.get(corr)
    if (!flight) return // an answer to a batch of an earlier session: the handshake superseded it
    this.#inflight.delete(corr)
    this.#resetBackoff()
    if (env.kind === 'ack') {
      this.#busyMs = 0
      if (this.lastError?.code === NACK_CODES.HUB_BUSY || this.lastError?.code === SyncErrorCodes.SYNC_STORE_UNREADABLE) this.lastError = null
      if (env.head.seq > (this.durable?.seq ?? -1)) return this.#stop(SyncErrorCodes.SYNC_HISTORY_DIVERGED, `the hub acknowledged #${env.head.seq}, beyond the local head`)
      if (this.acked === null || env.head.seq > this.acked.seq) this.acked = env.head
      this.lastAckAt = this.#io.now()
      this.#io.changed()
      return this.pump()
    }
    if (env.code === NACK_CODES.GAP) return this.#resume(env.head).catch((err: Error) => this.#retryLater(SyncErrorCodes.SYNC_STORE_UNREADABLE, `cannot read the local chain: ${err.message}`))
    if (env.retry && env.code === NACK_CODES.HUB_BUSY) return this.#retryLater(NACK_CODES.HUB_BUSY, `the hub is busy: ${env.message}`)
    if (env.retry) { this.#handshake = null; this.#inflight.clear(); this.#startHandshake(); return }
    if (env.code === NACK_CODES.EVENT_TOO_LARGE) return this.#stop(SyncErrorCodes.SYNC_EVENT_TOO_LARGE, `the hub refused ${this.name}: ${env.message}`)
    return this.#stop(SyncErrorCodes.SYNC_REFUSED, `the hub refused ${this.name}: ${env.code}: ${env.message}`)
  }

  /** Continues after the hub's head, once it is known to be a prefix of the local chain. */
  async #resume (head: WireHead | null): Promise<void> {
    this.#inflight.clear()
    if (head !== null) {
      if (head.seq > (this.durable?.seq ?? -1)) {
        return this.#stop(SyncErrorCodes.SYNC_HISTORY_DIVERGED, `the hub holds ${head.seq + 1} events of ${this.chainId}, the device only ${(this.durable?.seq ?? -1) + 1}: this is not the device that wrote that chain, or its store lost events`)
      }
      const local = await this.store.get(head.seq)
      if (!local || eventHash(local) !== head.hash) {
        return this.#stop(SyncErrorCodes.SYNC_HISTORY_DIVERGED, `the hub's event #${head.seq} of ${this.chainId} is not the device's (hash ${head.hash}): refusing to send a different history`)
      }
    }
    if (this.acked !== null && (head?.seq ?? -1) < this.acked.seq) {
      this.#io.report('warning', SyncErrorCodes.SYNC_HUB_BEHIND, `the hub holds ${(head?.seq ?? -1) + 1} events of ${this.chainId} but had acknowledged ${this.acked.seq + 1}; resending the rest`)
    }
    this.acked = head
    this.#heardFromHub = true
    this.#next = (head?.seq ?? -1) + 1
    this.phase = 'streaming'
    this.#io.changed()
    return this.pump()
  }

  /**
   * Handshakes again after a pause that doubles (to 30 s) while the hub stays busy or the local store
   * cannot be read (it is reopening after a write error); an ack resets it.
   */
  #retryLater (code: string, message: string): void {
    this.#handshake = null; this.#inflight.clear()
    if (this.#busyTimer) return
    this.#busyMs = Math.min(Math.max(100, this.#busyMs * 2), 30_000)
    if (this.lastError?.code !== code) this.#io.report('warning', code, `${this.name}: ${message}; retrying`)
    this.lastError = { code, message }
    this.#busyTimer = setTimeout(() => { this.#busyTimer = undefined; if (this.phase !== 'offline') this.#startHandshake() }, this.#busyMs)
    this.#busyTimer.unref()
    this.#io.changed()
  }

  #stop (code: string, message: string): void {
    this.phase = 'stopped'
    this.lastError = { code, message }
    this.#inflight.clear(); this.#handshake = null
    this.#io.report('stopped', code, message)
    this.#io.changed()
  }

  /** Milliseconds until `n` events may be sent (0: now, and they are taken). */
  #takeTokens (n: number): number {
    const rate = this.#cfg.maxEventsPerSec
    if (rate === Infinity) return 0
    const now = this.#io.now()
    this.#tokens = Math.min(this.#cfg.batchSize, this.#tokens + (now - this.#tokensAt) * rate / 1000)
    this.#tokensAt = now
    if (this.#tokens < n) return Math.ceil((n - this.#tokens) * 1000 / rate)
    this.#tokens -= n
    return 0
  }

  /** Sends what the window, the rate and the chain allow. Re-entrant calls fold into the running one. */
  async pump (): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.phase === 'streaming' && this.#busyTimer === undefined && this.#inflight.size < this.#cfg.maxInFlight) {
        const available = (this.durable?.seq ?? -1) + 1 - this.#next
        if (available <= 0) { this.#firstWaitAt = null; return }
        const want = Math.min(available, this.#cfg.batchSize)
        // A short batch waits a little for more events, unless it has waited long enough.
        this.#firstWaitAt ??= this.#io.now()
        const waited = this.#io.now() - this.#firstWaitAt
        if (want < this.#cfg.batchSize && waited < this.#cfg.batchDelayMs) return this.#later(this.#cfg.batchDelayMs - waited)
        const wait = this.#takeTokens(want)
        if (wait > 0) return this.#later(wait)
        const from = this.#next
        let records: Uint8Array[]
        try {
          records = await this.store.recordsRange(from, from + want)
          // Nothing leaves the device before it is on its disk: a relaxed store that lost a sent event in
          // a power cut would come back behind the hub and fork its own chain there.
          if (this.store.durability !== 'durable') await this.store.sync()
        } catch {
          return this.#later(100) // a stamp not written yet, or the store closing: look again shortly
        }
        if (this.phase !== 'streaming' || from !== this.#next || records.length === 0) continue
        // Identities read after the records: a rotation registers its key before its event is written,
        // so every record read has its index in this list.
        const ids = this.store.identities.map((i) => i.agentId)
        let env = rawEventsEnvelope(this.#io.corr(), from, ids, records)
        // Big payloads: halve until the envelope fits the hub's limits, in bytes and in CBOR values
        // (sync/wire.ts: what the hub would refuse unread), records being most of it.
        // Values per record, scanned once; past a record over the per-event limits nothing is scanned.
        const values = recordCosts(env.records).values
        const valuesOf = (n: number): number => n > values.length ? Infinity : values.slice(0, n).reduce((a, v) => a + v, 0)
        const bytesOf = (n: number): number => env.records.slice(0, n).reduce((a, r) => a + r.length + 3, 0)
        let n = env.records.length
        while (n > 1 && (bytesOf(n) > this.#cfg.maxBatchBytes || valuesOf(n) > MAX_MESSAGE_VALUES)) n = Math.ceil(n / 2)
        if (n < env.records.length) env = { ...env, records: env.records.slice(0, n) }
        if (env.records[0]!.length + 1024 > this.#cfg.maxBatchBytes || valuesOf(1) > MAX_MESSAGE_VALUES) {
          if (this.#inflight.size > 0) return // let the batches before it be acknowledged first (their ack pumps again)
          const what = valuesOf(1) > MAX_MESSAGE_VALUES ? `is nested deeper than ${MAX_CBOR_DEPTH} CBOR levels or holds more than ${MAX_MESSAGE_VALUES} values` : `is ${env.records[0]!.length} bytes encoded; a sync message holds at most ${this.#cfg.maxBatchBytes} (the broker's limit is 1 MiB)`
          return this.#stop(SyncErrorCodes.SYNC_EVENT_TOO_LARGE, `event #${from} of ${this.name} ${what}: it cannot be delivered, export the chain instead (\`pcp export ${this.name}\`)`)
        }
        const sent = env.records.length
        this.#inflight.set(toHex(env.corr), { from, to: from + sent, sentAt: this.#io.now() })
        this.#next = from + sent
        this.#firstWaitAt = null
        this.#io.send(env)
      }
    } finally {
      this.#pumping = false
    }
  }

  #later (ms: number): void {
    if (this.#delayTimer) return
    this.#delayTimer = setTimeout(() => { this.#delayTimer = undefined; void this.pump() }, Math.max(1, ms))
  }

  close (): void { clearTimeout(this.#delayTimer); clearTimeout(this.#busyTimer) }
}
