// STAND-IN — NOT ROS 2. An in-process imitation of the part of rclnodejs the bridge uses, so the
// bridge can be tested and demonstrated on machines without ROS 2. This file is the "middleware":
// one StandinContext is one ROS graph (like one DDS domain). It delivers published messages to the
// subscriptions on the same topic, routes service requests to the server, and carries action goals.
// Like rclnodejs it delivers asynchronously (never inside publish()), in publish order, only to nodes
// that spin, and topics carry CDR bytes (interfaces.ts). Of QoS it models only the history depth; it
// does not model discovery delays, reliability or loss.
import { randomFillSync } from 'node:crypto'
import { parseRosArgs, type RosArgs } from '../ros-args.js'

/** The ROS clock of the stand-in graph (injectable: tests pass a controllable one). */
export interface StandinClock { nowNs (): bigint }

const T0_NS = BigInt(Date.now()) * 1_000_000n
const H0 = process.hrtime.bigint()
export const wallClock: StandinClock = {
  // ROS time is Unix time in ns: ~1.8e18, well beyond 2^53, hence bigint end to end. Monotonic
  // (the epoch at start plus the monotonic clock since), as a steady system clock is between NTP steps.
  nowNs: () => T0_NS + (process.hrtime.bigint() - H0)
}

import type { Sample } from './topics.js'

export type Deliver = (sample: Sample) => void

export interface TopicEndpoint { typeName: string, deliver: Deliver, node: object }

export interface ServiceEndpoint {
  typeName: string
  handle: (request: unknown, respond: (response: unknown) => void) => void
}

export interface ActionEndpoint { typeName: string, server: unknown }

export function copyMessage<T> (message: T): T {
  const m = message as { toPlainObject?: () => unknown }
  if (message !== null && typeof message === 'object' && typeof m.toPlainObject === 'function') return structuredClone(m.toPlainObject()) as T
  return structuredClone(message)
}

export function newGoalId (): { uuid: Uint8Array } {
  return { uuid: randomFillSync(new Uint8Array(16)) }
}

/** 'pkg/msg/Name' from the type forms the stand-in accepts (strings, or anything with a name). */
export function standinTypeName (typeClass: unknown): string {
  if (typeof typeClass === 'string') return typeClass
  const t = typeClass as { package?: string, type?: string, name?: string }
  if (t && typeof t.package === 'string') return `${t.package}/${t.type}/${t.name}`
  return String(t?.name ?? 'unknown')
}

/** Expands a ROS name as rcl does: absolute kept, '~' → node's FQN, relative → under the namespace. */
export function resolveName (name: string, namespace: string, nodeName: string): string {
  if (name.startsWith('/')) return name
  const ns = namespace === '/' ? '' : namespace
  if (name === '~' || name.startsWith('~/')) return `${ns}/${nodeName}${name.slice(1)}`
  return `${ns}/${name}`
}

export class StandinContext {
  readonly clock: StandinClock
  readonly topics = new Map<string, Set<TopicEndpoint>>()
  readonly services = new Map<string, ServiceEndpoint>()
  readonly actions = new Map<string, ActionEndpoint>()
  readonly nodes = new Set<{ destroy (): void }>()
  /** Errors thrown by stand-in service and action callbacks that rclnodejs would only log; tests can inspect them. */
  readonly errors: unknown[] = []
  /**
   * Where a throw from a subscription or timer callback goes. rclnodejs runs those callbacks from its
   * native executor, so a throw is an uncaught exception; the default does the same. Tests may catch it here.
   */
  onCallbackError: (err: unknown) => void = (err) => { throw err }
  /** The ROS arguments init() parsed (rcl keeps them as the context's global arguments). */
  rosArgs: RosArgs = { overrides: new Map() }
  private shut = false
  private initialized = false

  /** rclnodejs.init(context, argv = process.argv): once per context; bad ROS arguments throw. */
  init (argv: readonly string[] = process.argv): void {
    if (this.initialized && !this.shut) throw new Error('The context has already been initialized.')
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new TypeError('argv elements must be strings (and not null).')
    this.rosArgs = parseRosArgs(argv)
    this.initialized = true
    this.shut = false
  }

  /** rcl refuses to create a node on a context that is not initialized (or already shut down). */
  checkValid (): void {
    if (!this.initialized || this.shut) {
      throw new Error('rcl_node_init failed: the context is not initialized (call rclnodejs.init() first) or has been shut down')
    }
  }

  constructor (options: { clock?: StandinClock } = {}) {
    this.clock = options.clock ?? wallClock
  }

  publish (topic: string, typeName: string, sample: Sample): void {
    const subs = this.topics.get(topic)
    if (!subs) return
    for (const sub of subs) {
      // ROS does not connect endpoints whose types differ.
      if (sub.typeName !== typeName) continue
      sub.deliver(sample)
    }
  }

  subscribe (topic: string, ep: TopicEndpoint): () => void {
    let set = this.topics.get(topic)
    if (!set) { set = new Set(); this.topics.set(topic, set) }
    set.add(ep)
    return () => { set.delete(ep) }
  }

  countSubscribers (topic: string): number { return this.topics.get(topic)?.size ?? 0 }

  isShutdown (): boolean { return this.shut }

  shutdown (): void {
    this.shut = true
    for (const n of [...this.nodes]) n.destroy()
  }
}
