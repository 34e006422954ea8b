// SyncAgent: forwards the chains of the Agents open in this process to a hub over MQTT (one connection
// for all of them), each through its Outbox (sync/outbox.ts). It takes open Agent instances because one
// process owns an agent's store: the robot's process stamps, and its SyncAgent forwards from the same
// store, woken by the Agent's 'stamped' event. Status (connected, backlog, last ack) via status(), the
// 'status' event, and a JSON file `pcp sync status` reads.
//
// Broker login: without username/password the connection logs in with the agents' own keys
// (sync/broker-login.ts: one signature per chain, made afresh for every connection attempt), which is
// what the hub's embedded broker requires; an external broker with its own accounts (Mosquitto's dynamic
// security, EMQX) gets the username/password given instead. So every source must be able to sign: an open
// Agent can, a bare store needs a `signer` (`pcp sync run` loads the agent's key for it; sync/login-keys.ts
// picks each chain's key and keeps its rotation attestations current).
//
// Rotation: a chain keeps publishing on the topic of its FIRST agent_id (the chain's identity, the id the
// hub registered), whatever key signs now. The rotation event travels in the chain like any other; it
// embeds the old key's attestation of the new key, so the hub's verifier switches keys there.
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { EventStore } from '../runtime/store.js'
import type { AissEvent, IdentityDocument } from '../runtime/types.js'
import { writeFileAtomic, ensureDir } from '../runtime/fsutil.js'
import { PcpError } from '../runtime/errors.js'
import { DEFAULT_PREFIX, MAX_PAYLOAD_BYTES, downTopic, parseTopic, upTopic } from './topics.js'
import { connectMqtt, type MqttConnectOptions } from './connect.js'
import { loginCredentials } from './broker-login.js'
import { loginKeys, followRotations } from './login-keys.js'
import type { StatementSigner } from '../runtime/statement.js'
import { encodeEnvelope, parseDown, MAX_BATCH_RECORDS, type WireHead } from './wire.js'
import type { IdentityDocument as HubIdentity } from '../runtime/index.js'
import { DownAuth } from './down-auth.js'
import { pinnedHubKey } from './gate.js'
import { Outbox, type OutboxConfig, type Phase } from './outbox.js'
import { SyncErrorCodes } from './errors.js'
import { silentLogger, type Logger } from './log.js'

/** What the sync agent needs of an agent: its store, its first identity, and (ideally) 'stamped' events. */
export interface SyncSource {
  readonly name: string
  readonly store: EventStore
  firstIdentityDocument (): Promise<IdentityDocument>
  /** Agent's EventEmitter: 'stamped' (event, hash) after each durable stamp. Without it the store is polled. */
  on? (event: 'stamped', fn: (event: AissEvent, hash: string) => void): unknown
  off? (event: 'stamped', fn: (event: AissEvent, hash: string) => void): unknown
  readonly dir?: string
  /** Signs the broker login for this chain with its current key. Default: the source itself, if it can (an Agent). */
  readonly signer?: StatementSigner
}

export interface SyncOptions extends Omit<MqttConnectOptions, 'url'> {
  url: string
  agents: SyncSource[]
  /**
   * The hub's key, pinned (its identity document, or its 32-byte public key, raw or base64): answers on
   * `down` that it did not sign are ignored. Needed on any broker that lets others publish on a device's
   * `down` topic (one without the ACL of docs/brokers.md); without it, whoever can publish there can
   * answer for the hub.
   */
  hub?: HubIdentity | Uint8Array | string
  prefix?: string
  /** Events per batch (default 256, at most MAX_BATCH_RECORDS). */
  batchSize?: number
  /** How long a partial batch waits for more events (default 50 ms). */
  batchDelayMs?: number
  /** Unacknowledged batches per agent (default 4). */
  maxInFlight?: number
  /** Per agent; bounds how fast a backlog drains (default 5000 events/s; Infinity: unbounded). */
  maxEventsPerSec?: number
  /** Resync when an ack does not come in this time (default 10 s, doubling while it keeps failing). */
  ackTimeoutMs?: number
  /** Where status is written for `pcp sync status`; default <home>/sync/status.json; false: nowhere. */
  statusFile?: string | false
  /** Milliseconds; injectable. */
  clock?: () => number
  /**
   * Structured log (a pino logger, sync/log.ts): lines of { component: 'sync' }: connection changes,
   * each 'warning' (warn) and 'stopped' (error) with the agent and its code.
   * The events stay for programs; the log is for an operator following the device.
   */
  logger?: Logger
}

export interface AgentSyncStatus {
  name: string
  agentId: string
  phase: Phase
  /** Last local durable event (seq), the hub's acknowledged head (seq), and the difference. */
  localSeq: number
  ackedSeq: number
  backlog: number
  inflight: number
  lastAckAt: number | null
  lastError: { code: string, message: string } | null
}

export interface SyncStatus { connected: boolean, url: string, protocolVersion: number, agents: AgentSyncStatus[], updatedAt: number }

const CURSOR = 'sync.cursor'

export class SyncAgent extends EventEmitter {
  readonly client: MqttClient
  readonly url: string
  readonly prefix: string
  readonly #outboxes = new Map<string, Outbox>()
  readonly #sources: SyncSource[]
  readonly #listeners: Array<() => void> = []
  readonly #clock: () => number
  readonly #log: Logger
  readonly #statusFile: string | null
  readonly #downAuth: DownAuth | null
  readonly #timers: NodeJS.Timeout[] = []
  #statusDirty = false
  #closed = false

  private constructor (opts: SyncOptions, client: MqttClient) {
    super()
    this.client = client; this.url = opts.url; this.prefix = opts.prefix ?? DEFAULT_PREFIX
    this.#sources = opts.agents
    this.#clock = opts.clock ?? Date.now
    this.#log = (opts.logger ?? silentLogger).child({ component: 'sync' })
    const home = opts.agents[0]?.dir ? dirname(dirname(opts.agents[0].dir)) : null
    this.#downAuth = opts.hub === undefined ? null : new DownAuth(pinnedHubKey(opts.hub), this.#clock, (w) => this.#warn(w))
    this.#statusFile = opts.statusFile === false ? null : (opts.statusFile ?? (home ? join(home, 'sync', 'status.json') : null))
  }

  /** Reads each agent's head and cursor, then connects in the background (offline is fine). */
  static async start (opts: SyncOptions): Promise<SyncAgent> {
    if (!Array.isArray(opts?.agents) || opts.agents.length === 0) throw new TypeError('"agents" expected a non-empty array of open Agents')
    const cfg: OutboxConfig = {
      batchSize: opts.batchSize ?? 256,
      batchDelayMs: opts.batchDelayMs ?? 50,
      maxInFlight: opts.maxInFlight ?? 4,
      maxEventsPerSec: opts.maxEventsPerSec ?? 5000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 10_000,
      maxBatchBytes: MAX_PAYLOAD_BYTES - 64 * 1024
    }
    for (const [k, v] of Object.entries(cfg)) if (!(typeof v === 'number' && v > 0)) throw new RangeError(`"${k}" expected a positive number, got ${String(v)}`)
    if (cfg.batchSize > MAX_BATCH_RECORDS) throw new RangeError(`"batchSize" expected at most ${MAX_BATCH_RECORDS} (the records a hub takes in one message), got ${cfg.batchSize}`)
    let sync: SyncAgent | undefined
    const clientId = opts.clientId ?? `pcp-sync-${randomBytes(6).toString('hex')}`
    const login = opts.username === undefined && opts.password === undefined && opts.credentials === undefined ? await loginKeys(opts.agents) : null
    const client = connectMqtt({
      ...opts,
      ...(opts.logger ? { logger: opts.logger.child({ component: 'sync' }) } : {}),
      clientId,
      ...(login ? { credentials: () => loginCredentials(login, clientId, Math.floor((opts.clock ?? Date.now)() / 1000), randomBytes(16).toString('hex')) } : {}),
      onError: (err) => { opts.onError?.(err); if (sync) sync.#warn({ code: 'MQTT', message: err.message }) }
    })
    sync = new SyncAgent(opts, client)
    if (login !== null) sync.#listeners.push(...followRotations(opts.agents, login))
    try {
      for (const src of opts.agents) await sync.#add(src, cfg)
    } catch (err) {
      await client.endAsync(true)
      throw err
    }
    const self = sync
    client.on('connect', () => self.#onConnect())
    client.on('close', () => { for (const o of self.#outboxes.values()) o.disconnected(); self.#dirty() })
    client.on('message', (topic, payload) => { void self.#onMessage(topic, payload) })
    if (client.connected) sync.#onConnect()
    sync.#timers.push(setInterval(() => { for (const o of sync.#outboxes.values()) o.tick() }, Math.max(50, Math.min(1000, cfg.ackTimeoutMs / 4))))
    sync.#timers.push(setInterval(() => { void sync.#persist() }, 1000))
    for (const t of sync.#timers) t.unref()
    return sync
  }

  async #add (src: SyncSource, cfg: OutboxConfig): Promise<void> {
    const identity = await src.firstIdentityDocument()
    // The head once everything queued is written: a stamp racing this read shows up as 'stamped' later.
    let h = src.store.head
    for (let i = 0; i < 100; i++) {
      await src.store.flush()
      h = src.store.head
      if (h === null || await src.store.get(h.seq) !== undefined) break
    }
    const cursor = (await src.store.getMeta<WireHead>(CURSOR)) ?? null
    const box = new Outbox({
      name: src.name, identity, store: src.store, durable: h ? { seq: h.seq, hash: h.hash } : null, cursor, cfg,
      io: {
        send: (env) => { if (this.client.connected) this.client.publish(upTopic(identity.agent_id, this.prefix), Buffer.from(encodeEnvelope(env)), { qos: 1 }) },
        corr: () => randomBytes(12),
        now: this.#clock,
        changed: () => this.#dirty(),
        report: (kind, code, message) => {
          this.#log[kind === 'stopped' ? 'error' : 'warn']({ event: kind, agent: src.name, agentId: identity.agent_id, code }, message)
          this.emit(kind, { agent: src.name, agentId: identity.agent_id, code, message })
        }
      }
    })
    this.#outboxes.set(identity.agent_id, box)
    if (typeof src.on === 'function') {
      const onStamped = (event: AissEvent, hash: string): void => {
        if (!box.onStamped(event, hash)) void src.store.flush().then(() => { const x = src.store.head; box.setDurable(x ? { seq: x.seq, hash: x.hash } : null) })
      }
      src.on('stamped', onStamped)
      this.#listeners.push(() => src.off?.('stamped', onStamped))
    } else {
      // No events to listen to (a store opened by `pcp sync run`): poll its head.
      const t = setInterval(() => { void src.store.flush().then(() => { const x = src.store.head; if (x && x.seq !== box.durable?.seq) box.setDurable({ seq: x.seq, hash: x.hash }) }) }, 1000)
      t.unref(); this.#timers.push(t)
    }
  }

  /** A 'warning' for listeners, and the same as a log line. */
  #warn (w: { agent?: string, agentId?: string, code: string, message: string }): void {
    const { message, ...fields } = w
    this.#log.warn({ event: 'warning', ...fields }, message)
    this.emit('warning', w)
  }

  #onConnect (): void {
    const topics = [...this.#outboxes.keys()].map((id) => downTopic(id, this.prefix))
    this.client.subscribe(topics, { qos: 1 }, (err) => {
      if (err) { this.#warn({ code: 'MQTT', message: `cannot subscribe: ${err.message}` }); return }
      for (const o of this.#outboxes.values()) o.connected()
      this.#dirty()
    })
  }

  async #onMessage (topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic, this.prefix)
    if (!t.ok || t.channel !== 'down') return
    const box = this.#outboxes.get(t.agentId)
    const env = parseDown(payload)
    if (!box || env === null) return
    if (this.#downAuth !== null && !this.#downAuth.accepts(box.name, t.agentId, env)) return
    // A store error in a handler must not become an unhandled rejection that ends the robot's process.
    await box.onDown(env).catch((err: Error) => this.#warn({ agent: box.name, agentId: box.chainId, code: (err as { code?: string }).code ?? SyncErrorCodes.SYNC_STORE_UNREADABLE, message: err.message }))
  }

  status (): SyncStatus {
    return {
      connected: this.client.connected,
      url: this.url,
      protocolVersion: this.client.options.protocolVersion ?? 4,
      updatedAt: this.#clock(),
      agents: [...this.#outboxes.values()].map((o) => ({
        name: o.name, agentId: o.chainId, phase: o.phase, localSeq: o.durable?.seq ?? -1, ackedSeq: o.acked?.seq ?? -1,
        backlog: o.backlog, inflight: o.inflight, lastAckAt: o.lastAckAt, lastError: o.lastError
      }))
    }
  }

  /**
   * Resolves once the hub answering now has acknowledged every event stamped so far (its head equals
   * the device's, learnt in this session: a fresh hub, no hub or no broker never counts as synced);
   * rejects after `timeoutMs` with each agent's reason.
   */
  async flush (timeoutMs = 30_000): Promise<void> {
    for (const src of this.#sources) await src.store.flush()
    const deadline = this.#clock() + timeoutMs
    for (;;) {
      const boxes = [...this.#outboxes.values()]
      const stopped = boxes.find((o) => o.phase === 'stopped')
      if (stopped) throw new PcpError(stopped.lastError!.code, `sync of ${stopped.name} stopped: ${stopped.lastError!.message}`, { agent: stopped.name })
      if (boxes.every((o) => o.confirmed)) return
      if (this.#clock() > deadline) {
        const why = boxes.filter((o) => !o.confirmed).map((o) => `${o.name}: ${o.waitingFor(this.url)}`).join('; ')
        throw new PcpError(SyncErrorCodes.SYNC_TIMEOUT, `not synced after ${timeoutMs} ms: ${why} (backlog ${boxes.map((o) => `${o.name}: ${o.backlog}`).join(', ')})`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  #dirty (): void {
    if (this.#statusDirty) return
    this.#statusDirty = true
    setImmediate(() => { this.#statusDirty = false; this.emit('status', this.status()) })
  }

  /** Saves each agent's cursor (the hub's acknowledged head) and the status file. */
  async #persist (): Promise<void> {
    for (const o of this.#outboxes.values()) {
      if (o.acked === null || o.store.closed) continue
      const saved = await o.store.getMeta<WireHead>(CURSOR).catch(() => undefined)
      if (saved?.seq !== o.acked.seq) await o.store.putMeta(CURSOR, o.acked).catch(() => {})
    }
    if (this.#statusFile && !this.#closed) {
      await ensureDir(dirname(this.#statusFile)).catch(() => {})
      await writeFileAtomic(this.#statusFile, JSON.stringify({ pid: process.pid, ...this.status() }, null, 2) + '\n', 0o600).catch(() => {})
    }
  }

  /** Stops forwarding (the stores stay open: they belong to the Agents) and saves the cursors. */
  async close (): Promise<void> {
    if (this.#closed) return
    for (const t of this.#timers) clearInterval(t)
    for (const off of this.#listeners) off()
    for (const o of this.#outboxes.values()) o.close()
    await this.#persist()
    this.#closed = true
    if (this.#statusFile) await writeFileAtomic(this.#statusFile, JSON.stringify({ pid: null, ...this.status(), connected: false }, null, 2) + '\n', 0o600).catch(() => {})
    await this.client.endAsync(true).catch(() => {})
  }
}
