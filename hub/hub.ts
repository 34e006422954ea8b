// The hub: an MQTT consumer (of its embedded broker, or of an external one), the chain store, ingest with
// its verify pool, the registry, Vigil, and a dispatcher that routes each envelope on an agent's `up`
// topic by `kind`: `identity`, `head?` and `events` here, anything else to handlers registered with
// handle() (TrustGate's `gate*` kinds). Untrusted input never throws out of the message handler: it is
// counted under a reason and, when it carries a valid `corr`, answered.
// Seams: the sync kinds (hub/sync-kinds.ts), store health (hub/store-health.ts), Vigil's saved state
// (hub/vigil-state.ts), feeding Vigil from a shared store (hub/store-feed.ts). Still ~400 lines: start()'s
// broker and MQTT client wiring is the next seam to take out.
import { randomBytes } from 'node:crypto'
import { silentLogger, type Logger } from '../sync/log.js'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Duplex } from 'node:stream'
import { Agent, PcpError, ErrorCodes, type AissEvent, type ChainProblem } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import { ensureDir, writeFileAtomic } from '../runtime/fsutil.js'
import { parseTopic, downTopic, hubFilter, DEFAULT_PREFIX, MAX_PAYLOAD_BYTES } from '../sync/topics.js'
import { connectMqtt, whenConnected, type MqttConnectOptions } from '../sync/connect.js'
import { decodeEnvelope, encodeEnvelope, MESSAGE_SCAN } from '../sync/wire.js'
import { scanCbor } from '../sync/cbor-scan.js'
import { guardPublishSize, PUBLISH_OVERHEAD_BYTES } from './packet-guard.js'
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js'
import { BrokerAuth } from './broker-auth.js'
import { VerifyPool, taskModule } from './verify-pool.js'
import { FinalityCheck } from './finality.js'
import { openHubStore, type OpenedHubStore } from './store/open.js'
import { StoreChainView } from './store/view.js'
import { Registry, type ApprovalMode } from './registry.js'
import { Ingest, type BatchOutcome } from './ingest.js'
import { HOSTILE_PROBLEM_CODE } from './hostile.js'
import { Inbox, startStatusFile, writeStatus, type ControlRequest } from './control.js'
import { MetricsRegistry, HUB_METRICS, HUB_HISTOGRAMS, hubCounter, hubHistogram, type Histogram } from './metrics.js'
import type { VigilEngine } from './vigil/engine.js'
import { InteractionCrossCheck } from './interactions.js'
import { StoreFeed, loadFed, saveFed } from './store-feed.js'
import { syncKind, type SyncKindsContext } from './sync-kinds.js'
import { watchStoreHealth } from './store-health.js'
import { loadVigil } from './vigil-state.js'

export { loadVigil }
import type { ChainView, IngestResult, AgentChainStatus } from './chain-view.js'
import type { VerifyItem, VerifyResult } from './ingest-verify.js'

/** A handler for one envelope kind: returns the envelope to publish on the agent's `down` topic, or null. */
export type KindHandler = (agentId: string, envelope: Record<string, unknown>) => Promise<object | null> | object | null

export interface HubOptions {
  /** Holds store/, agents/hub/ (the hub's own identity), vigil.json, status.json, inbox/. */
  dataDir: string
  /** A postgres:// URL: the chains live in PostgreSQL (hub/store/pg.ts). Absent: LevelDB in <dataDir>/store. */
  store?: string
  /** External broker (`mqtt://`, `mqtts://`). Without it the hub starts its embedded broker. */
  mqttUrl?: string
  /** Embedded broker listen address. Default 127.0.0.1:1883. */
  host?: string
  port?: number
  /** Client options for an external broker (credentials, TLS, protocol level). */
  mqtt?: Omit<MqttConnectOptions, 'url'>
  /** MQTT 5 shared-subscription group, for several hubs behind one clustered broker (docs/scaling.md). */
  shareGroup?: string
  prefix?: string
  approval?: ApprovalMode
  /** Verify worker threads. Default: os.availableParallelism(). 0: verify on the main thread. */
  workers?: number
  metrics?: MetricsRegistry
  /** Default: a new engine, restored from <data>/vigil.json when present. false: no Vigil. */
  vigil?: VigilEngine | false
  /** Default: a new cross-check. false: none. */
  interactions?: InteractionCrossCheck | false
  /** Passphrase of the hub's own key (default $PCP_PASSPHRASE; none: a plaintext key file). */
  passphrase?: string
  /** Unix seconds. */
  now?: () => number
  /** Events accepted but not yet stored, over all agents and per agent (hub/ingest.ts), before HUB_BUSY. */
  maxQueuedEvents?: number
  maxQueuedPerAgent?: number
  /** Default true. false skips fsync (benchmarks only). */
  durable?: boolean
  /**
   * TSA trust roots (DER; runtime/tsa/trust-file.ts reads a PEM file): a fork at a position that a held
   * anchor with a token verifying under them made final is refused as FORK_AFTER_FINALIZATION
   * (hub/finality.ts). Without: every fork is FORK_DETECTED (a token nobody checked proves nothing).
   */
  tsaRoots?: Uint8Array[]
  /** Status file and inbox polling (default true). */
  control?: boolean
  /**
   * Structured log (a pino logger, sync/log.ts): the hub writes through its children { component: 'hub' }
   * (lifecycle, approvals), 'ingest' (devices, refusals, rate, its MQTT client), 'store' (write
   * failures and recovery) and 'broker' (the embedded broker). Default: none.
   */
  logger?: Logger
}

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
  readonly #pool: VerifyPool<VerifyItem, VerifyResult> | null
  readonly #handlers = new Map<string, KindHandler>()
  readonly #rejected = new Map<string, number>()
  readonly #interactions: InteractionCrossCheck | null
  /** Several hubs on one store: Vigil and the cross-check are fed from the store (hub/store-feed.ts). */
  readonly #feed: StoreFeed | null
  readonly #now: () => number
  readonly #logger: Logger
  readonly #ingestLog: Logger
  readonly #kindsContext: SyncKindsContext
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
    opts: HubOptions, store: OpenedHubStore, pool: VerifyPool<VerifyItem, VerifyResult> | null, agent: Agent, broker: EmbeddedBroker | null,
    client: MqttClient, url: string, vigil: VigilEngine | null, fed?: Record<string, number>
  }) {
    const { opts } = p
    this.dataDir = opts.dataDir
    this.prefix = opts.prefix ?? DEFAULT_PREFIX
    this.store = p.store; this.#pool = p.pool; this.agent = p.agent; this.broker = p.broker; this.client = p.client; this.mqttUrl = p.url
    this.vigil = p.vigil
    this.metrics = opts.metrics ?? new MetricsRegistry()
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.#logger = (opts.logger ?? silentLogger).child({ component: 'hub' })
    this.#ingestLog = (opts.logger ?? silentLogger).child({ component: 'ingest' })
    this.#ackSeconds = hubHistogram(this.metrics, HUB_HISTOGRAMS.ack)
    const verifySeconds = hubHistogram(this.metrics, HUB_HISTOGRAMS.verifyBatch)
    this.#interactions = opts.interactions === false ? null : (opts.interactions ?? new InteractionCrossCheck())
    this.#feed = this.store.shared ? new StoreFeed(this.store, (id, events) => this.#consume(id, events), p.fed) : null
    this.registry = new Registry(this.store, { approval: opts.approval ?? 'manual', now: this.#now })
    const finality = opts.tsaRoots?.length ? new FinalityCheck({ trustRoots: opts.tsaRoots }) : null
    this.ingest = new Ingest({
      store: this.store,
      ...(this.#pool ? { pool: this.#pool } : {}),
      now: this.#now,
      ...(opts.maxQueuedEvents !== undefined ? { maxQueuedEvents: opts.maxQueuedEvents } : {}),
      ...(opts.maxQueuedPerAgent !== undefined ? { maxQueuedPerAgent: opts.maxQueuedPerAgent } : {}),
      ...(finality ? { finality: (id: string, seq: number) => finality.finalAnchor(this.store, id, seq) } : {}),
      hooks: { stored: (id, events, record) => this.#onStored(id, events, record.count), rejected: (id, problem) => this.#onRejected(id, problem), raceLost: () => this.#onRaceLost(), verified: (_id, seconds) => verifySeconds.observe(undefined, seconds) }
    })
    this.chain = new StoreChainView(this.store, (id, ev) => this.#ingestOne(id, ev))
    this.#kindsContext = {
      store: this.store, registry: this.registry, ingest: this.ingest, log: this.#ingestLog,
      reject: (reason) => this.#reject(reason),
      duplicates: (n) => { this.#duplicates += n; hubCounter(this.metrics, HUB_METRICS.eventsDuplicate).inc({}, n) }
    }
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
      const pool = workers === 0 ? null : await VerifyPool.open<VerifyItem, VerifyResult>({ module: taskModule('./ingest-verify', import.meta.url), exportName: 'verifyBatch', ...(workers ? { workers } : {}), maxBatch: 4 })
      if (pool) cleanup.push(() => pool.terminate())
      let broker: EmbeddedBroker | null = null
      let url = opts.mqttUrl
      let hubLogin: { username: string, password: string } | null = null
      // Counted once the hub exists; a refusal before that has nothing to count it in.
      let oversize = (_bytes: number): void => {}
      if (url === undefined) {
        // Devices log in with their keys, checked against the registry; each may use only its own topics.
        const refused = opts.metrics!.counter('pcp_broker_refused_total', 'Embedded broker: connections, publishes and subscriptions refused (no or bad login, another agent\'s topic), per reason.', ['reason'])
        const brokerLog = opts.logger?.child({ component: 'broker' })
        const auth = new BrokerAuth({
          prefix,
          ...(opts.now ? { now: opts.now } : {}),
          devices: { device: (id) => { const rec = store.agent(id); return rec === undefined ? undefined : { state: rec.state, publicKey: rec.keys.at(-1)?.publicKey ?? null } } },
          onRefused: (reason, detail) => { refused.inc({ reason }); brokerLog?.debug({ event: 'refused', reason }, detail) }
        })
        hubLogin = auth.hubCredentials
        broker = await startEmbeddedBroker({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 1883, auth, onRefused: (b) => oversize(b), ...(brokerLog ? { logger: brokerLog } : {}) })
        cleanup.push(() => broker!.close())
        url = broker.url
      }
      const vigil = opts.vigil === false ? null : (opts.vigil ?? await loadVigil(opts.dataDir, {}, opts.logger))
      // TLS options are for an external broker: the embedded one is plain TCP on loopback (connectMqtt
      // refuses certificates with an mqtt:// URL).
      const { tls: _externalOnly, ...plainMqtt } = opts.mqtt ?? {}
      // An external broker may pass on what it was given whole (100 MB): cut it off at its header.
      const maxIncoming = broker ? {} : { maxIncoming: { payloadBytes: MAX_PAYLOAD_BYTES, overheadBytes: PUBLISH_OVERHEAD_BYTES, guard: (st: Duplex) => guardPublishSize(st, MAX_PAYLOAD_BYTES, (b) => oversize(b)) } }
      const client = connectMqtt({ clientId: `pcp-hub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, ...(broker ? { ...plainMqtt, ...hubLogin } : opts.mqtt), ...maxIncoming, ...(opts.logger ? { logger: opts.logger.child({ component: 'ingest' }) } : {}), url, protocolVersion: broker ? broker.protocolVersion : (opts.mqtt?.protocolVersion ?? 'auto') })
      cleanup.push(() => client.endAsync(true))
      const fed = store.shared ? await loadFed(opts.dataDir, store) : undefined
      const hub = new Hub({ opts, store, pool, agent, broker, client, url, vigil, ...(fed ? { fed } : {}) })
      oversize = () => { hub.#received++; hub.#reject('PAYLOAD_TOO_LARGE') }
      client.on('message', (topic, payload) => hub.#onMessage(topic, payload))
      client.on('connect', () => {
        client.subscribe(filter, { qos: 1 }, (err, granted) => {
          if (err || granted?.some((g) => g.qos > 2)) { hub.#ingestLog.error({ event: 'subscribe_failed', filter, reason: err?.message ?? 'refused by the broker' }, `cannot subscribe to ${filter}: ${err?.message ?? 'refused by the broker'}`); return }
          hub.#sayHello()
        })
      })
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

  // After a broker outage the devices may have reconnected before us and sent handshakes no one heard:
  // tell each known device we are back, so it asks again now instead of at its next (grown) timeout.
  #sayHello (): void {
    if (this.#closed) return
    for (const r of this.store.agents()) {
      if (r.state === 'revoked') continue
      this.client.publish(downTopic(r.agentId, this.prefix), Buffer.from(encodeEnvelope({ v: 1, kind: 'hello', corr: randomBytes(8) })), { qos: 1 })
    }
  }

  /** Routes envelopes of `kind` arriving on any agent's `up` topic to `handler`. */
  handle (kind: string, handler: KindHandler): void {
    if (typeof kind !== 'string' || kind.length === 0) throw new TypeError('"kind" expected a non-empty string')
    if (['identity', 'head?', 'events'].includes(kind)) throw new RangeError(`"kind" ${kind} is the sync protocol's own`)
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function')
    this.#handlers.set(kind, handler)
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

  #onMessage (topic: string, payload: Buffer): void {
    this.#received++
    if (payload.length > MAX_PAYLOAD_BYTES) return this.#reject('PAYLOAD_TOO_LARGE')
    const t = parseTopic(topic, this.prefix)
    if (!t.ok || t.channel !== 'up') return this.#reject('TOPIC_INVALID')
    // What decoding would cost, counted before paying it (issue 14 #4).
    const scan = scanCbor(payload, MESSAGE_SCAN)
    if (!scan.ok) return this.#reject(scan.reason === 'CBOR_MALFORMED' ? 'PAYLOAD_NOT_CBOR' : scan.reason)
    const d = decodeEnvelope(payload)
    if (!d.ok) return this.#reject(d.reason)
    const env = d.env
    const t0 = performance.now()
    const reply = (out: object | null): void => {
      if (out !== null && !this.#closed) {
        this.client.publish(downTopic(t.agentId, this.prefix), Buffer.from(encodeEnvelope(out)), { qos: 1 })
        if ((out as { kind?: unknown }).kind === 'ack') this.#ackSeconds.observe(undefined, (performance.now() - t0) / 1000)
      }
    }
    this.#dispatch(t.agentId, topic, env).then(reply, (err) => {
      this.#reject('HANDLER_FAILED')
      this.#ingestLog.error({ event: 'handler_failed', kind: String(env.kind), agent: t.agentId, reason: (err as Error).message }, `handler for ${String(env.kind)} failed: ${(err as Error).message}`)
    })
  }

  async #dispatch (agentId: string, topic: string, env: Record<string, unknown> & { kind: string }): Promise<object | null> {
    const sync = await syncKind(this.#kindsContext, agentId, topic, env)
    if (sync !== undefined) return sync
    const handler = this.#handlers.get(env.kind)
    if (!handler) { this.#reject('KIND_UNKNOWN'); return null }
    return await handler(agentId, env)
  }

  #onStored (agentId: string, events: AissEvent[], count: number): void {
    this.#ingested += events.length
    hubCounter(this.metrics, HUB_METRICS.eventsIngested).inc({ agent: agentId }, events.length)
    if (this.#feed) this.#feed.stored(agentId, events, count)
    else this.#consume(agentId, events)
  }

  /** Vigil and the A2A cross-check see each event of a chain once, in chain order. */
  #consume (agentId: string, events: AissEvent[]): void {
    const name = this.store.agent(agentId)?.name
    this.vigil?.onEvents(agentId, events, name === undefined ? {} : { name })
    for (const ev of events) {
      for (const a of this.#interactions?.onEvent(agentId, ev) ?? []) this.vigil?.onAnomaly(a.agentId, { code: a.code, index: -1, message: a.reason, at: a.at })
    }
  }

  /** Several hubs on one store: a batch lost the head compare-and-set to another hub and was nacked (the device resends). */
  #onRaceLost (): void {
    this.#raceNacks++
    hubCounter(this.metrics, HUB_METRICS.raceNacks).inc()
  }

  #onRejected (agentId: string, problem: ChainProblem): void {
    this.#ingestLog.warn({ event: 'refused', agent: agentId, code: problem.code, index: problem.index, reason: problem.message }, `event of ${agentId} refused: ${problem.code}`)
    this.#reject(problem.code, true)
    this.vigil?.onAnomaly(agentId, { code: problem.code, index: problem.index, message: problem.message, at: this.#now() })
  }

  /** ChainView.ingest: one event at the head, through the agent's lane; Vigil is the caller's job. */
  async #ingestOne (agentId: string, event: unknown): Promise<IngestResult> {
    const refuse = (code: string, message: string): IngestResult => ({ accepted: false, problems: [{ code: code as ChainProblem['code'], index: -1, message }], index: -1, hash: null })
    if (this.registry.state(agentId) !== 'allowed') return refuse('AGENT_UNKNOWN', `agent ${agentId} is not an allowed agent of this hub`)
    let record: Uint8Array
    try { record = encodeRecord(event as AissEvent, 0) } catch (err) { return refuse(ErrorCodes.EVENT_MALFORMED, `not an event: ${(err as Error).message}`) }
    const ids = [typeof (event as AissEvent)?.agent_id === 'string' ? (event as AissEvent).agent_id : agentId]
    const out: BatchOutcome = await this.ingest.submit(agentId, { from: 'head', ids, records: [record], topic: 'api' })
    if ('ack' in out) return { accepted: true, problems: [], index: out.ack.head.seq, hash: out.ack.head.hash }
    if ('hostile' in out) {
      this.#reject(out.hostile)
      return { accepted: false, hostile: out.hostile, problems: [{ code: HOSTILE_PROBLEM_CODE[out.hostile], index: out.index, message: out.message }], index: out.index, hash: null }
    }
    if (out.problem) return { accepted: false, problems: [out.problem], index: out.index ?? -1, hash: out.hash ?? null }
    return refuse(out.nack.code, out.nack.message)
  }

  async #control (req: ControlRequest): Promise<unknown> {
    if (req.op === 'approve') return this.approve(req.agentId, { ...(req.name === undefined ? {} : { name: req.name }), ...(req.role === undefined ? {} : { role: req.role }) })
    if (req.op === 'revoke') return this.revoke(req.agentId)
    throw new PcpError('CONTROL_INVALID', `unknown request ${JSON.stringify((req as { op?: unknown }).op)}`)
  }

  /** What `pcp hub status` prints. */
  /** Extra fields for status.json (the API URLs services bound), so the CLI finds this hub's ports. */
  statusExtra: Record<string, unknown> = {}

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
      this.vigil?.tick()
      for (const a of this.#interactions?.tick() ?? []) this.vigil?.onAnomaly(a.agentId, { code: a.code, index: -1, message: a.reason, at: a.at })
    }, 10_000))
    this.#timers.push(setInterval(() => { void this.#saveVigil() }, 60_000))
    // What the other hubs stored: read within a few seconds, so every hub's Vigil answers alike.
    if (this.#feed && (this.vigil || this.#interactions)) this.#timers.push(setInterval(() => { void this.#feed!.catchUp().catch(() => {}) }, 2000))
    for (const t of this.#timers) t.unref()
  }

  async #saveVigil (): Promise<void> {
    if (this.vigil) await writeFileAtomic(join(this.dataDir, 'vigil.json'), JSON.stringify(this.vigil.toJSON()), 0o600).catch(() => {})
    if (this.vigil && this.#feed) await saveFed(this.dataDir, this.#feed).catch(() => {})
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
    await this.#saveVigil()
    if (this.#inbox) await writeStatus(this.dataDir, { ...this.statusReport(), pid: null, stoppedAt: this.#now() }).catch(() => {})
    await this.store.close()
    await this.agent.close()
    await this.broker?.close()
  }
}
