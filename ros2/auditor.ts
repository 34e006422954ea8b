// Over 300 lines: not reached in issue 19's restructuring (time); the seam for later is the helpers
// before NodeAuditor (error codes, typeName, errorFields, hashOrNull).
// NodeAuditor: everything one ROS 2 node stamps goes through here, in order, into one Stamper (an
// Agent). The reference's bridges left previous_hash null (gaps.md #35); we never touch linkage
// ourselves: the Stamper (Agent) links each event to its head, so the node's output IS the chain.
//
// Ordering: ROS callbacks are synchronous, stamping is not (sign + durable write). Each stamp is
// issued at once, in call order (the Stamper must chain in call order, as Agent does), and tracked on
// one promise chain per node, so chain order = the order things happened here.
// callbackOrder decides what "stamped before the callback" means for subscriptions, timers, services:
//   'after-stamp' (default)  the user's callback runs only once the received event is signed and
//                            stored (and after every earlier stamp of this node): durable-before-act
//   'sequenced'              the event is queued first and the callback runs at once: its position in
//                            the chain is fixed before the callback's own events, but a crash in
//                            between can lose it. Lower latency for tight control loops.
import { PcpError, type AissEvent, type JsonValue, type Stamper } from '../runtime/index.js'
import { messageHash, valueHash, MSG_HASH_RECIPE } from './msg-hash.js'
import { CallbackQueue, DEFAULT_CALLBACK_QUEUE, type OverflowPolicy } from './callback-queue.js'
import { merkleRoot } from './merkle.js'
import { checkPolicy, EVERY, policyFields, Sampler, systemClock, type AuditClock, type AuditPolicy, type ClosedWindow } from './policy.js'

export type Payload = { [key: string]: JsonValue }

export const Ros2ErrorCodes = {
  /** rclnodejs missing, or present but unusable (no ROS 2 sourced, native addon not built). */
  ROS2_UNAVAILABLE: 'ROS2_UNAVAILABLE',
  /** The gate refused a publish or service call; the action did not happen. */
  ROS2_BLOCKED: 'ROS2_BLOCKED',
  /** A pcp.* parameter or the passphrase file / credential could not be used. */
  ROS2_CONFIG: 'ROS2_CONFIG',
  /** Bags or the stand-in need the optional @foxglove / @mcap peers, which are not installed (ros2/tools.ts). */
  ROS2_TOOLS_MISSING: 'ROS2_TOOLS_MISSING'
} as const

/** Hook for a policy gate (issue 8). Called before a publish / service call; a refusal stops it. */
export interface Gate {
  check (action: string, payload: Payload, context: { role?: string, node: string }): Promise<{ allowed: boolean, reason?: string }>
}

export interface DigestRecord {
  /** topic (or action feedback name) the window covers */
  name: string
  direction: 'publish' | 'receive' | 'feedback'
  /** the recipe the hashes were computed with (pcp-ros2-cdr-v1: hashes of the CDR bytes) */
  recipe: string
  root: string
  /** the message hashes, in order: keep them (e.g. next to the rosbag) to build inclusion proofs later */
  hashes: string[]
  firstSeq: number
  /** resolves to the signed topic_digest event, or null if stamping failed */
  event: Promise<AissEvent | null>
}

export interface AuditOptions {
  /** The chain to write to: an opened Agent, or anything implementing Stamper. */
  stamper: Stamper
  /** Per topic / service / action name (with or without the leading '/'). Default: every message. */
  policies?: { [name: string]: AuditPolicy }
  defaultPolicy?: AuditPolicy
  /** For timers; 'window' is not allowed (a tick has no message to hash). Default: every tick. */
  timerPolicy?: AuditPolicy
  callbackOrder?: 'after-stamp' | 'sequenced'
  gate?: Gate
  /** Passed to the gate. */
  role?: string
  clock?: AuditClock
  /** Stamping failures and thrown callbacks land here. Default: one line on stderr. */
  onError?: (error: unknown, context: { eventType: string }) => void
  onDigest?: (digest: DigestRecord) => void
  /**
   * Topics whose gated publishes are latest-wins instead of FIFO (command topics such as cmd_vel): a
   * message still waiting when a newer one is queued behind it is stamped topic_publish_superseded.
   */
  latestWins?: string[]
  /** Bound of the callbacks waiting for their stamp in 'after-stamp' order (callback-queue.ts). */
  callbackQueue?: { limit?: number, overflow?: OverflowPolicy }
}

export interface CallbackContext { source: string, [k: string]: JsonValue }

/** 'pkg/msg/Name' for any rclnodejs type form: string, generated class (static type()), or descriptor. */
export function typeName (typeClass: unknown): string {
  if (typeof typeClass === 'string') return typeClass
  const t = typeClass as { type?: () => { pkgName?: string, subFolder?: string, interfaceName?: string }, package?: string, name?: string }
  if (t !== null && (typeof t === 'function' || typeof t === 'object')) {
    if (typeof t.type === 'function') {
      try {
        const d = t.type()
        if (d?.pkgName && d.interfaceName) return `${d.pkgName}/${d.subFolder ?? 'msg'}/${d.interfaceName}`
      } catch { /* fall through to the other forms */ }
    }
    if (typeof t.package === 'string' && typeof (t as { type?: unknown }).type === 'string' && typeof t.name === 'string') {
      return `${t.package}/${(t as unknown as { type: string }).type}/${t.name}`
    }
    if (typeof t.name === 'string' && t.name) return t.name
  }
  return 'unknown'
}

export function errorFields (err: unknown): Payload {
  const e = err as { name?: unknown, message?: unknown }
  const name = typeof e?.name === 'string' ? e.name : typeof err
  const message = typeof e?.message === 'string' ? e.message : String(err)
  // The message may carry data we must not store (content rule): only its hash goes in the chain.
  return { error_name: name, error_hash: valueHash(message) }
}

/**
 * Hash of a request, response, goal, feedback or result: messageHash for a message object, valueHash for
 * a bare value; null when there is none. An unhashable one goes to onError and is recorded as null.
 */
export function hashOrNull (a: NodeAuditor, message: unknown, eventType: string): string | null {
  if (message === undefined || message === null) return null
  try {
    return typeof message === 'object' && !Array.isArray(message) ? messageHash(message) : valueHash(message)
  } catch (err) {
    a.report(err, eventType)
    return null
  }
}

/** Milliseconds since t0 on the auditor's clock, to the microsecond (duration_ms fields). */
export const elapsedMs = (a: NodeAuditor, t0: number): number => Math.round((a.clock.nowMs() - t0) * 1000) / 1000

const stripSlash = (name: string): string => name.replace(/^\/+/, '')

const INFRA_TOPICS = ['clock', 'parameter_events']
const INFRA_POLICY: AuditPolicy = Object.freeze({ mode: 'window', windowMs: 1000, maxMessages: 10_000 })

export class NodeAuditor {
  readonly stamper: Stamper
  readonly clock: AuditClock
  readonly callbackOrder: 'after-stamp' | 'sequenced'
  readonly gate: Gate | undefined
  readonly role: string | undefined
  /** Stamps attempted / failed, for health checks. */
  stamped = 0
  failed = 0
  private readonly policies = new Map<string, AuditPolicy>()
  private readonly defaultPolicy: AuditPolicy
  private readonly timerPolicy: AuditPolicy
  private readonly onError: (error: unknown, context: { eventType: string }) => void
  private readonly onDigest: ((d: DigestRecord) => void) | undefined
  private readonly samplers = new Set<Sampler>()
  private readonly nodeName: () => string
  private readonly rosNow: () => bigint
  private tail: Promise<unknown> = Promise.resolve()
  private closed = false
  readonly callbacks: CallbackQueue
  private readonly latestWins: Set<string>

  constructor (node: { name: () => string, nowNs: () => bigint }, options: AuditOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('"audit" options expected an object with a stamper')
    const s = options.stamper as Partial<Stamper> | undefined
    if (!s || typeof s.stamp !== 'function') throw new TypeError('"audit.stamper" expected an opened Agent (or any object with stamp(eventType, payload))')
    this.stamper = options.stamper
    this.nodeName = node.name
    this.rosNow = node.nowNs
    this.clock = options.clock ?? systemClock
    const order = options.callbackOrder ?? 'after-stamp'
    if (order !== 'after-stamp' && order !== 'sequenced') throw new RangeError(`"audit.callbackOrder" expected 'after-stamp' or 'sequenced', got ${String(order)}`)
    this.callbackOrder = order
    if (options.gate !== undefined && typeof options.gate?.check !== 'function') throw new TypeError('"audit.gate" expected an object with check(action, payload, context)')
    this.gate = options.gate
    this.role = options.role
    for (const [name, p] of Object.entries(options.policies ?? {})) this.policies.set(stripSlash(name), checkPolicy(p, `audit.policies[${JSON.stringify(name)}]`))
    this.defaultPolicy = options.defaultPolicy ? checkPolicy(options.defaultPolicy, 'audit.defaultPolicy') : EVERY
    this.timerPolicy = options.timerPolicy ? checkPolicy(options.timerPolicy, 'audit.timerPolicy') : EVERY
    if (this.timerPolicy.mode === 'window') throw new RangeError('"audit.timerPolicy" cannot be a window: a timer tick has no message to hash')
    this.onError = options.onError ?? ((err, ctx) => { console.error(`pcp-edge ros2: ${ctx.eventType}: ${(err as Error)?.message ?? String(err)}`) })
    this.onDigest = options.onDigest
    this.latestWins = new Set((options.latestWins ?? []).map(stripSlash))
    // Infrastructure topics: a 1 kHz sim clock or every parameter event must not become one event per
    // message unless the user asks for it; a window still covers every message.
    for (const t of INFRA_TOPICS) if (!this.policies.has(t)) this.policies.set(t, INFRA_POLICY)
    const cq = options.callbackQueue ?? {}
    this.callbacks = new CallbackQueue(cq.limit ?? DEFAULT_CALLBACK_QUEUE, cq.overflow ?? 'drop-newest', (t, f) => { this.stamp(t, f) })
  }

  /** True when gated publishes on this topic are latest-wins. */
  coalesces (...names: string[]): boolean { return names.some((n) => this.latestWins.has(stripSlash(n))) }

  /** Fields node_init records about this auditor's own limits. */
  initFields (): Payload {
    return { callback_order: this.callbackOrder, callback_queue_limit: this.callbacks.limit, callback_overflow: this.callbacks.policy }
  }

  get node (): string { return this.nodeName() }
  nowNs (): bigint { return this.rosTime() }

  /**
   * The node's ROS time. After rclnodejs has shut the node down (its own SIGINT handler does) the clock
   * is gone; the last events (window digests, node_shutdown) then carry wall-clock ns, as the
   * reference's fallback does, rather than being lost.
   */
  private rosTime (): bigint {
    try { return this.rosNow() } catch { return BigInt(Date.now()) * 1_000_000n }
  }

  /** Sets the policy for endpoints created from now on with this topic / service / action name. */
  setPolicy (name: string, policy: AuditPolicy): void {
    if (typeof name !== 'string' || !name) throw new TypeError('"name" expected a topic, service or action name')
    this.policies.set(stripSlash(name), checkPolicy(policy))
  }

  /** The policy of the first name that has one (the name as given, then as resolved), else the default. */
  policyFor (...names: string[]): AuditPolicy {
    for (const n of names) {
      const p = this.policies.get(stripSlash(n))
      if (p) return p
    }
    return this.defaultPolicy
  }
  timerPolicyFor (): AuditPolicy { return this.timerPolicy }

  /**
   * Queues one event. `ros_time` is read now, when the thing happened, not when the stamp runs.
   * Resolves to the signed event, or null (the failure went to onError): a robot keeps running when
   * its disk fills, and the gap is visible as a count in `failed`.
   */
  stamp (eventType: string, fields: Payload = {}): Promise<AissEvent | null> {
    if (this.closed) {
      const err = new PcpError('STORE_CLOSED', `audit of node ${this.node} is closed; cannot stamp ${eventType}`)
      this.report(err, eventType)
      return Promise.resolve(null)
    }
    const payload: Payload = { node: this.node, ros_time: this.rosTime(), ...fields }
    // Called synchronously: the Stamper chains in call order (Agent.stamp does, and batches the fsyncs
    // of concurrent calls), so the chain order is the order in which things happened here.
    let pending: Promise<AissEvent>
    try { pending = this.stamper.stamp(eventType, payload) } catch (err) { pending = Promise.reject(err) }
    const settled = pending.then((ev) => { this.stamped++; return ev }, (err) => {
      this.failed++
      this.report(err, eventType)
      return null
    })
    this.tail = this.tail.then(() => settled)
    return settled
  }

  report (err: unknown, eventType: string): void {
    try { this.onError(err, { eventType }) } catch { /* a failing error handler must not stop the robot */ }
  }

  /** Resolves once every stamp queued so far has settled. */
  async flush (): Promise<void> {
    // Callbacks may stamp, and stamps may release callbacks: wait until both are quiet.
    for (;;) {
      const t = this.tail
      await t
      await this.callbacks.idle()
      if (t === this.tail && this.callbacks.length === 0) return
    }
  }

  /**
   * Runs a user callback under the node's callbackOrder, after its received-event was queued.
   * A throw (or a rejected promise) is stamped as callback_error; in 'sequenced' mode the throw is
   * re-raised to rclnodejs as before; in 'after-stamp' mode it goes to onError.
   */
  runCallback (ctx: CallbackContext, fn: () => unknown): unknown {
    const guarded = (): unknown => {
      let result: unknown
      try {
        result = fn()
      } catch (err) {
        this.stamp('callback_error', { ...ctx, ...errorFields(err) })
        throw err
      }
      if (result !== null && typeof (result as Promise<unknown>)?.then === 'function') {
        (result as Promise<unknown>).then(undefined, (err) => {
          this.stamp('callback_error', { ...ctx, ...errorFields(err) })
          this.report(err, 'callback_error')
        })
      }
      return result
    }
    if (this.callbackOrder === 'sequenced') return guarded()
    this.callbacks.push(ctx, this.tail, () => {
      try { guarded() } catch (err) { this.report(err, 'callback_error') }
    })
    return undefined
  }

  /** Calls fn once every stamp queued so far has settled ('after-stamp'), or at once ('sequenced'). */
  afterStamps<T> (fn: () => T | Promise<T>): Promise<T> {
    if (this.callbackOrder === 'sequenced') return Promise.resolve().then(fn)
    return this.tail.then(fn)
  }

  /** A sampler whose closed windows become topic_digest events. */
  sampler (policy: AuditPolicy, name: string, msgType: string, direction: DigestRecord['direction'], recipe = MSG_HASH_RECIPE): Sampler {
    const s = new Sampler(policy, this.clock, (w) => this.digest(w, name, msgType, direction, recipe))
    this.samplers.add(s)
    return s
  }

  dropSampler (s: Sampler): void { s.close(); this.samplers.delete(s) }

  private digest (w: ClosedWindow, name: string, msgType: string, direction: DigestRecord['direction'], recipe: string): void {
    const root = merkleRoot(w.hashes)
    const event = this.stamp('topic_digest', {
      [direction === 'feedback' ? 'action' : 'topic']: name,
      msg_type: msgType,
      direction,
      count: w.count,
      first_seq: w.firstSeq,
      last_seq: w.lastSeq,
      merkle_root: root,
      merkle_tree: 'rfc6962-sha256',
      hash_recipe: recipe,
      window_start_ros_time: w.startRosTime,
      window_end_ros_time: w.endRosTime,
      close_reason: w.reason
    })
    if (this.onDigest) {
      try { this.onDigest({ name, direction, recipe, root, hashes: w.hashes, firstSeq: w.firstSeq, event }) } catch (err) { this.report(err, 'topic_digest') }
    }
  }

  /** Emits every open window now (their digests are queued), without closing the node. */
  flushWindows (): void { for (const s of this.samplers) s.close() }

  /** Fields every `*_created` event carries for an endpoint with this policy. */
  createdFields (policy: AuditPolicy, recipe = MSG_HASH_RECIPE): Payload { return { hash_recipe: recipe, ...policyFields(policy) } }

  /** Closes open windows, stamps node_shutdown, waits for the queue. Further stamps are refused. */
  async close (): Promise<void> {
    if (this.closed) return this.flush()
    this.flushWindows()
    await this.flush()
    // Counts are exact only once the queue has drained; this is the node's last event.
    const last = this.stamp('node_shutdown', { events_stamped: this.stamped, stamp_failures: this.failed })
    this.closed = true
    await last
  }
}
