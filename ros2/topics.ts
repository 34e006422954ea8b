// Audited publishers, subscriptions and timers. The message always goes out (or in) unchanged; the
// chain gets its hash only (content rule), and high-rate endpoints are sampled per their policy.
import { PcpError } from '../runtime/index.js'
import { isRawMessage, messageHash } from './msg-hash.js'
import { errorFields, NodeAuditor, Ros2ErrorCodes, typeName, type Payload } from './auditor.js'
import { policyFields, type Sampler } from './policy.js'
import type { Msg, PublisherLike, TypeClassLike } from './rcl-api.js'

interface Endpoint { name: string, msgType: string, sampler: Sampler, seq: number }

/** Hashes and samples one message; queues topic_publish / topic_received if the policy picks it. */
function record (a: NodeAuditor, ep: Endpoint, message: Msg, eventType: string): void {
  ep.seq++
  const windowed = ep.sampler.policy.mode === 'window'
  // Outside window mode a message that is not stamped is not hashed either: nth/rate save the hashing
  // cost too (for a camera topic, most of it).
  const early = windowed ? undefined : ep.sampler.offer(ep.seq, null, a.nowNs())
  if (early && !early.stamp) return
  let hash: string | null = null
  let hashError: unknown
  try { hash = messageHash(message) } catch (err) { hashError = err }
  const offer = early ?? ep.sampler.offer(ep.seq, hash, a.nowNs())
  if (!offer.stamp) return
  const fields: Payload = { topic: ep.name, msg_type: ep.msgType, msg_hash: hash, seq: ep.seq }
  if (ep.sampler.policy.mode !== 'every') fields.skipped = offer.skipped
  if (isRawMessage(message)) fields.raw = true
  if (hashError !== undefined) {
    // An unhashable message still went out: record the gap rather than hide it.
    Object.assign(fields, { hash_error: errorFields(hashError).error_name })
    a.report(hashError, eventType)
  }
  a.stamp(eventType, fields)
}

function endpoint (a: NodeAuditor, typeClass: TypeClassLike, given: string, resolved: string, direction: 'publish' | 'receive'): Endpoint {
  const msgType = typeName(typeClass)
  const policy = a.policyFor(given, resolved)
  return { name: resolved, msgType, sampler: a.sampler(policy, resolved, msgType, direction), seq: 0 }
}

/** A copy that stays what was hashed while a gate decision is pending (the caller may reuse its object). */
function snapshot (message: Msg): Msg {
  if (isRawMessage(message)) return Buffer.from(message)
  const plain = typeof message?.toPlainObject === 'function' ? message.toPlainObject() : message
  return structuredClone(plain)
}

/**
 * Replaces `publish` on this publisher instance (it stays the same rclnodejs object, so
 * destroyPublisher and instanceof keep working). Without a gate the message is published first, then
 * its event queued. With a gate, publish() returns at once and the message (a copy) goes out only if
 * the gate allows it; a refusal or a failing gate is stamped as topic_publish_blocked (fail closed).
 */
export function auditPublisher<P extends PublisherLike> (a: NodeAuditor, publisher: P, typeClass: TypeClassLike, topic: string): P {
  // rclnodejs's publisher.topic is the resolved name (namespace and remapping applied): record that.
  const resolved = typeof publisher.topic === 'string' && publisher.topic ? publisher.topic : topic
  const ep = endpoint(a, typeClass, topic, resolved, 'publish')
  a.stamp('publisher_created', { topic: resolved, msg_type: ep.msgType, ...a.createdFields(ep.sampler.policy) })
  const original = publisher.publish.bind(publisher)
  const gate = a.gate
  const audited = gate === undefined
    ? (message: Msg, options?: unknown): void => {
        original(message, options)
        record(a, ep, message, 'topic_publish')
      }
    : (message: Msg, options?: unknown): void => {
        const copy = snapshot(message)
        const hash = messageHash(copy)
        const ask: Payload = { topic: resolved, msg_type: ep.msgType, msg_hash: hash }
        gate.check('topic_publish', ask, { role: a.role, node: a.node }).then((decision) => {
          if (decision?.allowed === true) {
            original(copy, options)
            record(a, ep, copy, 'topic_publish')
            return
          }
          const reason = typeof decision?.reason === 'string' ? decision.reason : 'refused'
          a.stamp('topic_publish_blocked', { ...ask, reason })
          a.report(new PcpError(Ros2ErrorCodes.ROS2_BLOCKED, `gate refused publish on ${topic}: ${reason}`, { field: topic }), 'topic_publish_blocked')
        }, (err) => {
          a.stamp('topic_publish_blocked', { ...ask, reason: 'gate_error', ...errorFields(err) })
          a.report(err, 'topic_publish_blocked')
        })
      }
  Object.defineProperty(publisher, 'publish', { value: audited, configurable: true, writable: true })
  return publisher
}

export type AuditedSubscriptionCallback = ((message: Msg, info?: unknown) => void) & {
  /** Names the endpoint with the subscription's resolved topic and stamps subscription_created. */
  attach (resolvedTopic?: string): void
}

/**
 * Wraps a subscription callback: topic_received is queued before the user's callback runs.
 * subscription_created is stamped on attach() (right after rclnodejs created the subscription, so a
 * failed creation leaves no event), or at the first message if attach() is never called.
 */
export function auditSubscriptionCallback (a: NodeAuditor, typeClass: TypeClassLike, topic: string,
  callback: (message: Msg, info?: unknown) => void): AuditedSubscriptionCallback {
  if (typeof callback !== 'function') throw new TypeError(`"callback" for subscription ${topic} expected a function, got ${typeof callback}`)
  let ep: Endpoint | undefined
  const attach = (resolvedTopic?: string): Endpoint => {
    if (ep) return ep
    const resolved = typeof resolvedTopic === 'string' && resolvedTopic ? resolvedTopic : topic
    ep = endpoint(a, typeClass, topic, resolved, 'receive')
    a.stamp('subscription_created', { topic: resolved, msg_type: ep.msgType, ...a.createdFields(ep.sampler.policy) })
    return ep
  }
  const wrapped = (message: Msg, info?: unknown): void => {
    record(a, attach(), message, 'topic_received')
    a.runCallback({ source: 'subscription', topic: ep!.name }, () => callback(message, info))
  }
  return Object.assign(wrapped, { attach: (t?: string) => { attach(t) } })
}

/** Wraps a timer callback: timer_tick (per the timer policy) is queued before the callback runs. */
export function auditTimerCallback (a: NodeAuditor, timerId: number, periodNs: bigint,
  callback: (info?: unknown) => void): (info?: unknown) => void {
  if (typeof callback !== 'function') throw new TypeError(`"callback" for timer ${timerId} expected a function, got ${typeof callback}`)
  const policy = a.timerPolicyFor()
  const sampler = a.sampler(policy, `timer/${timerId}`, 'timer', 'publish')
  a.stamp('timer_created', { timer: timerId, period_ns: periodNs, ...policyFields(policy) })
  let tick = 0
  return (info) => {
    tick++
    const offer = sampler.offer(tick, null, a.nowNs())
    if (offer.stamp) {
      const fields: Payload = { timer: timerId, period_ns: periodNs, tick }
      if (policy.mode !== 'every') fields.skipped = offer.skipped
      a.stamp('timer_tick', fields)
    }
    a.runCallback({ source: 'timer', timer: timerId }, () => callback(info))
  }
}
