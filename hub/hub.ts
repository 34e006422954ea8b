// The hub: an MQTT consumer (of its embedded broker, or of an external one), the chain store, ingest with
// its verify pool, the registry, Vigil, and a dispatcher that routes each envelope on an agent's `up`
// topic by `kind`: `identity`, `head?` and `events` here, anything else to handlers registered with
// handle() (TrustGate's `gate*` kinds). Untrusted input never throws out of the message handler: it is
// counted under a reason and, when it carries a valid `corr`, answered.
// This file wires the parts and owns their lifecycle (start, close) and the hub's counters and status.
// Seams: its options (hub/hub-options.ts), the broker and MQTT client (hub/mqtt-link.ts), the `up`
// topic's checks and routing (hub/up-router.ts), the sync kinds (hub/sync-kinds.ts), ChainView.ingest
// (hub/ingest-one.ts), what consumes stored events: Vigil and the cross-check (hub/consumers.ts), fed
// from a shared store (hub/store-feed.ts), Vigil's saved state (hub/vigil-state.ts), store health
// (hub/store-health.ts).
import { silentLogger, type Logger } from '../sync/log.js'
import type { MqttClient } from 'mqtt'
import { Agent, PcpError, type AissEvent, type ChainProblem } from '../runtime/index.js'
import { ensureDir } from '../runtime/fsutil.js'
import { downTopic, hubFilter, DEFAULT_PREFIX } from '../sync/topics.js'
import { whenConnected } from '../sync/connect.js'
import { encodeEnvelope, syncAnswerStatement, SYNC_ANSWER_STATEMENT } from '../sync/wire.js'
import type { EmbeddedBroker } from './broker.js'
import { VerifyPool, taskModule } from './verify-pool.js'
import { LazyPool } from './lazy-pool.js'
import { FinalityCheck } from './finality.js'
import { openHubStore, type OpenedHubStore } from './store/open.js'
import { StoreChainView } from './store/view.js'
import { Registry } from './registry.js'
import { Ingest } from './ingest.js'
import { Inbox, startStatusFile, writeStatus, type ControlRequest } from './control.js'
import { MetricsRegistry, HUB_METRICS, HUB_HISTOGRAMS, hubCounter, hubHistogram, type Histogram } from './metrics.js'
import type { VigilEngine } from './vigil/engine.js'
import { InteractionCrossCheck } from './interactions.js'
import { loadFed } from './store-feed.js'
import type { SyncKindsContext } from './sync-kinds.js'
import { watchStoreHealth } from './store-health.js'
import { loadVigil } from './vigil-state.js'
import type { HubOptions } from './hub-options.js'
import { startHubBroker, connectHubClient, sayHello, type HubBroker } from './mqtt-link.js'
import { UpRouter, type KindHandler } from './up-router.js'
import { EventConsumers } from './consumers.js'
import { ingestOne } from './ingest-one.js'

export { loadVigil }
export type { HubOptions, KindHandler }
import type { ChainView, AgentChainStatus } from './chain-view.js'
import type { VerifyItem, VerifyResult } from './ingest-verify.js'

export class Hub {
  readonly dataDir: string
  readonly prefix: string
  readonly store: OpenedHubStore
  readonly registry: Registry
  readonly ingest: Ingest
  readonly chain: ChainView
  readonly metrics: MetricsRegistry
  readonly vigil: VigilEngine | null
  /** The hub's own identity and chain (TrustGate journals into it). */
  readonly agent: Agent
  readonly broker: EmbeddedBroker | null
  readonly client: MqttClient
  readonly mqttUrl: string
  readonly #pool: LazyPool<VerifyItem, VerifyResult> | null
  readonly #router: UpRouter
  readonly #rejected = new Map<string, number>()
  readonly #consumers: EventConsumers
  readonly #now: () => number
  readonly #logger: Logger
  readonly #ingestLog: Logger
  readonly #ackSeconds: Histogram
  #loggedIngested = 0
  readonly #timers: NodeJS.Timeout[] = []
  readonly #inbox: Inbox | null
  #received = 0
  #ingested = 0
  #duplicates = 0
  #raceNacks = 0
  #closed = false

  private constructor (p: {
    opts: HubOptions, store: OpenedHubStore, pool: LazyPool<VerifyItem, VerifyResult> | null, agent: Agent, broker: EmbeddedBroker | null,
    client: MqttClient, url: string, vigil: VigilEngine | null, fed?: Record<string, number>
  }) {
    const { opts } = p
    this.dataDir = opts.dataDir
    this.prefix = opts.prefix ?? DEFAULT_PREFIX
    this.store = p.store; this.#pool = p.pool; this.agent = p.agent; this.broker = p.broker; this.client = p.client; this.mqttUrl = p.url
    this.vigil = p.vigil
    const interactions = opts.interactions === false ? null : (opts.interactions ?? new InteractionCrossCheck())
    this.#consumers = new EventConsumers({ store: this.store, vigil: p.vigil, interactions, ...(p.fed ? { fed: p.fed } : {}) })
    this.metrics = opts.metrics ?? new MetricsRegistry()
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.#logger = (opts.logger ?? silentLogger).child({ component: 'hub' })
    this.#ingestLog = (opts.logger ?? silentLogger).child({ component: 'ingest' })
    this.#ackSeconds = hubHistogram(this.metrics, HUB_HISTOGRAMS.ack)
    const verifySeconds = hubHistogram(this.metrics, HUB_HISTOGRAMS.verifyBatch)
    this.registry = new Registry(this.store, { approval: opts.approval ?? 'manual', now: this.#now })
    const finality = opts.tsaRoots?.length ? new FinalityCheck({ trustRoots: opts.tsaRoots, crls: opts.tsaCrls, ocsp: opts.tsaOcsp, fetchRevocation: opts.tsaFetchRevocation }) : null
    this.ingest = new Ingest({
      store: this.store,
      ...(this.#pool ? { pool: this.#pool } : {}),
      now: this.#now,
      ...(opts.maxQueuedEvents !== undefined ? { maxQueuedEvents: opts.maxQueuedEvents } : {}),
      ...(opts.maxQueuedPerAgent !== undefined ? { maxQueuedPerAgent: opts.maxQueuedPerAgent } : {}),
      ...(finality ? { finality: (id: string, seq: number) => finality.finalAnchor(this.store, id, seq) } : {}),
      hooks: { stored: (id, events, record) => this.#onStored(id, events, record.count), rejected: (id, problem) => this.#onRejected(id, problem), raceLost: () => this.#onRaceLost(), verified: (_id, seconds) => verifySeconds.observe(undefined, seconds) }
    })
    const kinds: SyncKindsContext = {
      store: this.store, registry: this.registry, ingest: this.ingest, log: this.#ingestLog,
      reject: (reason) => this.#reject(reason),
      duplicates: (n) => { this.#duplicates += n; hubCounter(this.metrics, HUB_METRICS.eventsDuplicate).inc({}, n) }
    }
    this.chain = new StoreChainView(this.store, (id, ev) => ingestOne(kinds, id, ev))
    this.#router = new UpRouter({ ...kinds, prefix: this.prefix, reply: (agentId, out, t0) => this.#reply(agentId, out, t0) })
    this.#inbox = opts.control === false ? null : new Inbox(this.dataDir, (req) => this.#control(req))
    hubCounter(this.metrics, HUB_METRICS.eventsIngested)
    hubCounter(this.metrics, HUB_METRICS.eventsRejected)
    hubCounter(this.metrics, HUB_METRICS.eventsDuplicate)
    watchStoreHealth(this.store, this.metrics, (opts.logger ?? silentLogger).child({ component: 'store' }))
  }

  /** Opens the store and the hub identity, starts the broker (unless external), the pool, and subscribes. */
  static async start (opts: HubOptions): Promise<Hub> {
    if (typeof opts?.dataDir !== 'string' || opts.dataDir.length === 0) throw new TypeError('"dataDir" expected a directory path')
    opts = { ...opts, metrics: opts.metrics ?? new MetricsRegistry() } // the broker's refusals count there too
    await ensureDir(opts.dataDir)
    const prefix = opts.prefix ?? DEFAULT_PREFIX
    // aedes 1.2 has no shared subscriptions (hub/broker.ts): a group there would leave the hub deaf.
    if (opts.shareGroup !== undefined && opts.mqttUrl === undefined) {
      throw new PcpError('HUB_SHARE_GROUP_NEEDS_BROKER', `shared subscription group ${JSON.stringify(opts.shareGroup)} needs an external broker (--mqtt-url, e.g. Mosquitto or EMQX): the embedded broker (aedes) has no shared subscriptions`, { field: 'shareGroup', actual: opts.shareGroup })
    }
    const filter = hubFilter({ prefix, ...(opts.shareGroup ? { shareGroup: opts.shareGroup } : {}) })
    const cleanup: Array<() => Promise<unknown>> = []
    try {
      const store = await openHubStore(opts.dataDir, opts.store, { sync: opts.durable ?? true })
      cleanup.push(() => store.close())
      const agent = await Agent.open({ name: 'hub' }, { home: opts.dataDir, ...(opts.passphrase ? { passphrase: opts.passphrase } : {}) })
      cleanup.push(() => agent.close())
      const workers = opts.workers
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) throw new RangeError(`"workers" expected a whole number >= 0, got ${String(workers)}`)
      let failed = (_err: unknown): void => {}
      const pool = workers === 0 ? null : new LazyPool<VerifyItem, VerifyResult>(() => VerifyPool.open({ module: taskModule('./ingest-verify', import.meta.url), exportName: 'verifyBatch', ...(workers ? { workers } : {}), maxBatch: 4 }), (err) => failed(err))
      if (pool) cleanup.push(() => pool.close())
      // Counted once the hub exists; a refusal before that has nothing to count it in.
      let oversize = (_bytes: number): void => {}
      let embedded: HubBroker | null = null
      if (opts.mqttUrl === undefined) {
        embedded = await startHubBroker(opts, store, prefix, (b) => oversize(b))
        const started = embedded.broker
        cleanup.push(() => started.close())
      }
      const broker = embedded?.broker ?? null
      const url = embedded?.url ?? opts.mqttUrl!
      const vigil = opts.vigil === false ? null : (opts.vigil ?? await loadVigil(opts.dataDir, {}, opts.logger))
      const fed = store.shared ? await loadFed(opts.dataDir, store) : undefined
      // No await from here to the 'connect' listener: a CONNACK that came in between went unheard, and
      // the hub never subscribed (a hub on a shared store sat deaf through a whole fleet test).
      const client = connectHubClient(opts, url, embedded, (b) => oversize(b))
      cleanup.push(() => client.endAsync(true))
      const hub = new Hub({ opts, store, pool, agent, broker, client, url, vigil, ...(fed ? { fed } : {}) })
      failed = (err) => hub.#ingestLog.error({ event: 'verify_workers_failed', reason: (err as Error).message }, `verify workers did not start (${(err as Error).message}); this batch is verified on the main thread`)
      oversize = () => { hub.#received++; hub.#reject('PAYLOAD_TOO_LARGE') }
      client.on('message', (topic, payload) => { hub.#received++; hub.#router.onMessage(topic, payload) })
      const subscribe = (): void => {
        client.subscribe(filter, { qos: 1 }, (err, granted) => {
          if (err || granted?.some((g) => g.qos > 2)) { hub.#ingestLog.error({ event: 'subscribe_failed', filter, reason: err?.message ?? 'refused by the broker' }, `cannot subscribe to ${filter}: ${err?.message ?? 'refused by the broker'}`); return }
          if (!hub.#closed) sayHello(client, hub.store, hub.prefix)
        })
      }
      client.on('connect', subscribe)
      if (client.connected) subscribe()
      client.on('error', (err: Error & { code?: unknown }) => hub.#ingestLog.warn({ event: 'mqtt_error', code: err.code ?? null, reason: err.message }, `mqtt: ${err.message}`))
      // A refused password or certificate will not cure itself: say so now, not after the timeout.
      await whenConnected(client, 10_000, { failOnRefusal: true })
      await hub.#startBackground()
      return hub
    } catch (err) {
      for (const fn of cleanup.reverse()) await fn().catch(() => {})
      throw err
    }
  }

  /** Starts the verify workers now instead of at the first batch (hub/lazy-pool.ts); rejects if they cannot start. */
  async startVerifyWorkers (): Promise<void> { await this.#pool?.start() }

  /** Routes envelopes of `kind` arriving on any agent's `up` topic to `handler`. */
  handle (kind: string, handler: KindHandler): void {
    this.#router.handle(kind, handler)
  }

  approve (agentId: string, opts: { name?: string, role?: string } = {}): Promise<AgentChainStatus> {
    return this.registry.approve(agentId, opts).then((rec) => { this.#logger.info({ event: 'approved', agent: agentId, role: rec.role ?? null }, `${agentId} approved`); return this.chain.status(agentId)! })
  }

  revoke (agentId: string): Promise<AgentChainStatus> {
    return this.registry.revoke(agentId).then(() => {
      // Its login was checked at connect: close the connections it has now (it cannot log in again).
      const closed = this.broker?.disconnect(agentId) ?? 0
      this.#logger.info({ event: 'revoked', agent: agentId, disconnected: closed }, `${agentId} revoked`)
      return this.chain.status(agentId)!
    })
  }

  /** Refusals so far by reason: message-level (PAYLOAD_NOT_CBOR, TOPIC_INVALID, ...) and event-level (verifier codes). */
  rejections (): Record<string, number> { return Object.fromEntries(this.#rejected) }

  stats (): { received: number, ingested: number, duplicates: number, raceNacks: number, rejected: Record<string, number>, queuedEvents: number, agents: number, mqtt: { url: string, connected: boolean } } {
    return { received: this.#received, ingested: this.#ingested, duplicates: this.#duplicates, raceNacks: this.#raceNacks, rejected: this.rejections(), queuedEvents: this.ingest.queuedEvents, agents: this.store.agents().length, mqtt: { url: this.mqttUrl, connected: this.client.connected } }
  }

  #reject (reason: string, eventLevel = false): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1)
    if (eventLevel) hubCounter(this.metrics, HUB_METRICS.eventsRejected).inc({ reason })
    else this.metrics.counter('pcp_messages_rejected_total', 'MQTT messages refused before any event was looked at, per reason.', ['reason']).inc({ reason })
  }

  #reply (agentId: string, out: object, t0: number): void {
    if (this.#closed) return
    // Sync answers are signed (sync/wire.ts): on an open broker anyone can publish on `down`. Gate answers
    // carry signed journal events instead (sync/gate-wire.ts).
    const statement = 'sig' in out ? null : syncAnswerStatement(agentId, out as Record<string, unknown>)
    if (statement !== null) out = { ...out, sig: this.agent.signStatement(SYNC_ANSWER_STATEMENT, statement) }
    this.client.publish(downTopic(agentId, this.prefix), Buffer.from(encodeEnvelope(out)), { qos: 1 })
    if ((out as { kind?: unknown }).kind === 'ack') this.#ackSeconds.observe(undefined, (performance.now() - t0) / 1000)
  }

  #onStored (agentId: string, events: AissEvent[], count: number): void {
    this.#ingested += events.length
    hubCounter(this.metrics, HUB_METRICS.eventsIngested).inc({ agent: agentId }, events.length)
    this.#consumers.stored(agentId, events, count)
  }

  /** Several hubs on one store: a batch lost the head compare-and-set to another hub and was nacked (the device resends). */
  #onRaceLost (): void {
    this.#raceNacks++
    hubCounter(this.metrics, HUB_METRICS.raceNacks).inc()
  }

  #onRejected (agentId: string, problem: ChainProblem): void {
    this.#ingestLog.warn({ event: 'refused', agent: agentId, code: problem.code, index: problem.index, reason: problem.message }, `event of ${agentId} refused: ${problem.code}`)
    this.#reject(problem.code, true)
    this.#consumers.refused(agentId, problem, this.#now())
  }

  async #control (req: ControlRequest): Promise<unknown> {
    if (req.op === 'approve') return this.approve(req.agentId, { ...(req.name === undefined ? {} : { name: req.name }), ...(req.role === undefined ? {} : { role: req.role }) })
    if (req.op === 'revoke') return this.revoke(req.agentId)
    throw new PcpError('CONTROL_INVALID', `unknown request ${JSON.stringify((req as { op?: unknown }).op)}`)
  }

  /** Extra fields for status.json (the API URLs services bound), so the CLI finds this hub's ports. */
  statusExtra: Record<string, unknown> = {}

  /** What `pcp hub status` prints. */
  statusReport (): object {
    return {
      ...this.statusExtra,
      pid: process.pid, updatedAt: this.#now(), hubAgentId: this.agent.agentId, mqtt: { url: this.mqttUrl, embedded: this.broker !== null, connected: this.client.connected, prefix: this.prefix },
      approval: this.registry.approval, stats: this.stats(),
      // What /metrics says as pcp_hub_store_failing, for an operator at `pcp hub status`.
      store: this.store.failure ? { failing: true, code: this.store.failure.code, message: this.store.failure.message } : { failing: false },
      agents: this.store.agents().map((r) => ({ ...this.chain.status(r.agentId), state: r.state }))
    }
  }

  async #startBackground (): Promise<void> {
    if (this.#inbox) {
      await this.#inbox.start()
      this.#timers.push(await startStatusFile(this.dataDir, () => this.statusReport()))
    }
    this.#timers.push(setInterval(() => {
      // Ingest rate, only when something arrived (an idle hub stays quiet).
      const n = this.#ingested - this.#loggedIngested
      if (n > 0) this.#ingestLog.info({ event: 'ingest', events: n, perSec: Math.round(n / 10), total: this.#ingested, rejected: this.rejections() }, `ingested ${n} events in 10 s`)
      this.#loggedIngested = this.#ingested
      this.#consumers.tick()
    }, 10_000))
    this.#timers.push(setInterval(() => { void this.#consumers.save(this.dataDir) }, 60_000))
    // What the other hubs stored: read within a few seconds, so every hub's Vigil answers alike.
    if (this.#consumers.followsStore) this.#timers.push(setInterval(() => { void this.#consumers.catchUp().catch(() => {}) }, 2000))
    for (const t of this.#timers) t.unref()
  }

  /** Stops taking messages, lets stored batches finish, saves Vigil, closes everything. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#logger.info({ event: 'shutdown', ingested: this.#ingested, rejected: this.rejections() }, 'hub stopping')
    for (const t of this.#timers) clearInterval(t)
    this.#inbox?.stop()
    await this.client.endAsync(true).catch(() => {})
    await this.#pool?.close().catch(() => {})
    await this.#consumers.save(this.dataDir)
    if (this.#inbox) await writeStatus(this.dataDir, { ...this.statusReport(), pid: null, stoppedAt: this.#now() }).catch(() => {})
    await this.store.close()
    await this.agent.close()
    await this.broker?.close()
  }
}
