// Auditing a node you cannot subclass (created by a library, or a plain rclnodejs Node): wrap its
// callbacks and entities one by one. The events are the same as AuditedNode's; nothing here needs
// rclnodejs, only the node's name and clock.
import { NodeAuditor, type AuditOptions } from './auditor.js'
import { auditPublisher, auditSubscriptionCallback, auditTimerCallback } from './topics.js'
import { auditClient, auditServiceHandler } from './services.js'
import { valueHash } from './msg-hash.js'
import type { ClientLike, Msg, PublisherLike, ServiceHandler, TypeClassLike } from './rcl-api.js'

export interface NodeWrapper {
  readonly audit: NodeAuditor
  /** Audits publish() on an existing publisher. */
  publisher<P extends PublisherLike> (publisher: P, typeClass: TypeClassLike, topic: string): P
  /** Pass the result to node.createSubscription(type, topic, HERE). */
  subscription (typeClass: TypeClassLike, topic: string, callback: (message: Msg, info?: unknown) => void): (message: Msg, info?: unknown) => void
  /** Pass the result to node.createService(type, name, HERE). */
  service (typeClass: TypeClassLike, serviceName: string, handler: ServiceHandler): ServiceHandler
  client<C extends ClientLike> (client: C, typeClass: TypeClassLike, serviceName: string): C
  /** Pass the result to node.createTimer(period, HERE). */
  timer (periodNs: bigint, callback: (info?: unknown) => void): (info?: unknown) => void
  /**
   * Any other callback: stamps callback_invoked { callback, args_hash } before it runs and
   * callback_error if it throws (the throw still reaches the caller in 'sequenced' order).
   */
  callback<A extends unknown[], R> (name: string, fn: (...args: A) => R): (...args: A) => R | undefined
}

/** `node` needs only what the events carry: its fully qualified name and its clock. */
export function wrapNode (node: { getFullyQualifiedName (): string, now (): { nanoseconds: bigint } }, options: AuditOptions): NodeWrapper {
  if (node === null || typeof node?.getFullyQualifiedName !== 'function' || typeof node?.now !== 'function') {
    throw new TypeError('"node" expected an rclnodejs Node (getFullyQualifiedName() and now())')
  }
  const a = new NodeAuditor({ name: () => node.getFullyQualifiedName(), nowNs: () => node.now().nanoseconds }, options)
  a.stamp('node_wrapped', { framework: 'ros2', callback_order: a.callbackOrder })
  let timers = 0
  return {
    audit: a,
    publisher: (p, t, topic) => auditPublisher(a, p, t, topic),
    // No entity to ask for the resolved name here: the name is recorded as given.
    subscription: (t, topic, cb) => { const w = auditSubscriptionCallback(a, t, topic, cb); w.attach(); return w },
    service: (t, name, h) => { const w = auditServiceHandler(a, t, name, h); w.attach(); return w },
    client: (c, t, name) => auditClient(a, c, t, name),
    timer: (period, cb) => auditTimerCallback(a, ++timers, period, cb),
    callback: <A extends unknown[], R>(name: string, fn: (...args: A) => R) => {
      if (typeof fn !== 'function') throw new TypeError(`"fn" for callback ${name} expected a function, got ${typeof fn}`)
      return (...args: A): R | undefined => {
        let argsHash: string | null
        try { argsHash = valueHash(args) } catch (err) { argsHash = null; a.report(err, 'callback_invoked') }
        a.stamp('callback_invoked', { callback: name, args_hash: argsHash })
        // In 'after-stamp' order the callback runs later and this returns undefined (like a ROS callback).
        return a.runCallback({ source: 'callback', callback: name }, () => fn(...args)) as R | undefined
      }
    }
  }
}
