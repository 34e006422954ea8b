// Audited publishers, subscriptions and timers. The message always goes out (or in) unchanged; the
// chain gets its hash only (content rule), and high-rate endpoints are sampled per their policy.
// With a wire codec (wire.ts; AuditedNode always has one) msg_hash covers the serialized CDR bytes
// (recipe pcp-ros2-cdr-v1): the publisher serializes once, hashes and publishes those bytes raw; the
// subscription is raw underneath, hashes what arrived and deserializes for the callback. So both sides
// and a rosbag agree on every message, partial, float32 or typed-array alike.
import { PcpError, toHex } from '../runtime/index.js'
import { isRawMessage, messageHash, wireHash, MSG_HASH_RECIPE, WIRE_HASH_RECIPE } from './msg-hash.js'
import { errorFields, NodeAuditor, Ros2ErrorCodes, typeName, type Payload } from './auditor.js'
import { policyFields, type Sampler } from './policy.js'
import { qosFields } from './qos.js'
import type { WireCodec } from './wire.js'
import type { Msg, PublisherLike, TypeClassLike } from './rcl-api.js'
import { GateQueue } from './gate-queue.js'
import { registerEntity } from './entities.js'

interface Endpoint { name: string, msgType: string, sampler: Sampler, seq: number, recipe: string }

/** Hashes and samples one message; queues topic_publish / topic_received if the policy picks it. */
function record (a: NodeAuditor, ep: Endpoint, hashOf: () => string, eventType: string, extra?: () => Payload): void {
  ep.seq++
  const windowed = ep.sampler.policy.mode === 'window'
  // Outside window mode a message that is not stamped is not hashed either: nth/rate save the hashing
  // cost too (for a camera topic, most of it).
  const early = windowed ? undefined : ep.sampler.offer(ep.seq, null, a.nowNs())
  if (early && !early.stamp) return
  let hash: string | null = null
  let hashError: unknown
  try { hash = hashOf() } catch (err) { hashError = err }
  const offer = early ?? ep.sampler.offer(ep.seq, hash, a.nowNs())
  if (!offer.stamp) return
  const fields: Payload = { topic: ep.name, msg_type: ep.msgType, msg_hash: hash, seq: ep.seq, hash_recipe: ep.recipe }
  if (ep.sampler.policy.mode !== 'every') fields.skipped = offer.skipped
  if (extra) Object.assign(fields, extra())
  if (hashError !== undefined) {
    // An unhashable message still went out: record the gap rather than hide it.
    Object.assign(fields, { hash_error: errorFields(hashError).error_name })
    a.report(hashError, eventType)
  }
  a.stamp(eventType, fields)
}

function endpoint (a: NodeAuditor, typeClass: TypeClassLike, given: string, resolved: string, direction: 'publish' | 'receive', recipe: string): Endpoint {
  const msgType = typeName(typeClass)
  const policy = a.policyFor(given, resolved)
  return { name: resolved, msgType, sampler: a.sampler(policy, resolved, msgType, direction, recipe), seq: 0, recipe }
}

/** A copy that stays what was hashed while a gate decision is pending (the caller may reuse its object). */
function snapshot (message: Msg): Msg {
  if (isRawMessage(message)) return Buffer.from(message)
  const plain = typeof message?.toPlainObject === 'function' ? message.toPlainObject() : message
  return structuredClone(plain)
}

/** The old recipe's hash of an outgoing message: raw bytes as bytes, objects as canonical JSON. */
const jsonOrRaw = (m: Msg): string => isRawMessage(m) ? wireHash(m) : messageHash(m)

/**
 * Replaces `publish` on this publisher instance (it stays the same rclnodejs object, so
 * destroyPublisher and instanceof keep working). Without a gate the message is published first, then
 * its event queued. With a gate, publish() returns at once and the message goes out only if the gate
 * allows it, in call order per publisher (gate-queue.ts); a refusal or a failing gate is stamped as
 * topic_publish_blocked (fail closed). A LifecyclePublisher that is not active sends nothing: that is
 * stamped as topic_publish_dropped, not as a publish.
 */
export function auditPublisher<P extends PublisherLike> (a: NodeAuditor, publisher: P, typeClass: TypeClassLike, topic: string, codec?: WireCodec): P {
  // rclnodejs's publisher.topic is the resolved name (namespace and remapping applied): record that.
  const resolved = typeof publisher.topic === 'string' && publisher.topic ? publisher.topic : topic
  const T = (publisher as { typeClass?: unknown }).typeClass ?? typeClass
  const recipe = codec ? WIRE_HASH_RECIPE : MSG_HASH_RECIPE
  const ep = endpoint(a, typeClass, topic, resolved, 'publish', recipe)
  const latest = a.coalesces(topic, resolved)
  a.stamp('publisher_created', {
    topic: resolved, msg_type: ep.msgType, ...a.createdFields(ep.sampler.policy, recipe), ...qosFields(publisher),
    ...(a.gate ? { gate_order: latest ? 'latest' : 'fifo' } : {})
  })
  registerEntity(a, publisher, resolved, ep.sampler)
  const original = publisher.publish.bind(publisher)
  const inactive = (): boolean => typeof (publisher as { isActivated?: () => boolean }).isActivated === 'function' &&
    !(publisher as unknown as { isActivated: () => boolean }).isActivated()
  // What goes out: with a codec the CDR bytes, built now (a bad message throws here, before anything
  // is stamped, as rclnodejs's publish would); without one a snapshot of the object.
  const prepare = (message: Msg): { out: Msg, hash: () => string } => {
    if (codec) {
      const bytes = codec.serialize(message, T)
      let h: string | undefined
      return { out: bytes, hash: () => (h ??= wireHash(bytes)) }
    }
    return { out: message, hash: () => jsonOrRaw(message) }
  }
  const send = (out: Msg, hash: () => string, options?: unknown): void => {
    if (inactive()) {
      a.stamp('topic_publish_dropped', { topic: resolved, msg_type: ep.msgType, msg_hash: hash(), hash_recipe: recipe, reason: 'lifecycle_inactive' })
      return
    }
    original(out, options)
    record(a, ep, hash, 'topic_publish')
  }
  const gate = a.gate
  let audited: (message: Msg, options?: unknown) => void
  if (gate === undefined) {
    audited = (message, options) => { const p = prepare(message); send(p.out, p.hash, options) }
  } else {
    const queue = new GateQueue(a, resolved, latest)
    audited = (message, options) => {
      const p = prepare(codec ? message : snapshot(message))
      const hash = p.hash()
      const ask: Payload = { topic: resolved, msg_type: ep.msgType, msg_hash: hash, hash_recipe: recipe }
      let decision: Promise<{ allowed: boolean, reason?: string }>
      try { decision = Promise.resolve(gate.check('topic_publish', ask, { role: a.role, node: a.node })) } catch (err) { decision = Promise.reject(err) }
      queue.push(ask, decision, () => send(p.out, () => hash, options), (reason, err) => {
        a.stamp('topic_publish_blocked', { ...ask, reason, ...(err === undefined ? {} : errorFields(err)) })
        a.report(err ?? new PcpError(Ros2ErrorCodes.ROS2_BLOCKED, `gate refused publish on ${topic}: ${reason}`, { field: topic }), 'topic_publish_blocked')
      })
    }
  }
  Object.defineProperty(publisher, 'publish', { value: audited, configurable: true, writable: true })
  return publisher
}

export type AuditedSubscriptionCallback = ((message: Msg, info?: unknown) => void) & {
  /**
   * Names the endpoint with the subscription's resolved topic and stamps subscription_created; the
   * entity (when given) supplies the loaded type class and QoS.
   */
  attach (resolvedTopic?: string, entity?: object): void
  /** The options to create the subscription with (isRaw set when the bridge deserializes itself). */
  readonly options: object | undefined
}

/** MessageInfo (rclnodejs lib/message_info.js) as event fields: who sent it, their sequence, when. */
function infoFields (info: unknown): Payload {
  const i = info as { publisherGid?: Uint8Array, publicationSequenceNumber?: bigint, sourceTimestamp?: bigint, receivedTimestamp?: bigint } | undefined
  if (!i || typeof i !== 'object') return {}
  const out: Payload = {}
  if (i.publisherGid instanceof Uint8Array) out.publisher_gid = toHex(i.publisherGid)
  if (typeof i.publicationSequenceNumber === 'bigint') out.publication_seq = i.publicationSequenceNumber
  if (typeof i.sourceTimestamp === 'bigint') out.source_time = i.sourceTimestamp
  if (typeof i.receivedTimestamp === 'bigint') out.received_time = i.receivedTimestamp
  return out
}

/**
 * Wraps a subscription callback: topic_received is queued before the user's callback runs.
 * With a codec, three ways in, by what the user asked of rclnodejs:
 *   options.isRaw            the user gets the Buffer; it is hashed as is
 *   callback(msg, info)      rclnodejs passes MessageInfo only to typed subscriptions (its raw take has
 *                            none), so this stays typed, MessageInfo is recorded, and the hash is of the
 *                            message re-serialized by its type class (CDR is deterministic: the same
 *                            bytes for any little-endian XCDR1 sender); events say hash_source: 'reserialized'
 *   callback(msg)            subscribed raw underneath: the bytes that arrived are hashed, then
 *                            deserialized for the callback as rclnodejs would have
 * A serializationMode other than 'default' keeps the old JSON recipe (the callback's value is not a message).
 */
export function auditSubscriptionCallback (a: NodeAuditor, typeClass: TypeClassLike, topic: string,
  callback: (message: Msg, info?: unknown) => void, codec?: WireCodec, options?: Record<string, unknown>): AuditedSubscriptionCallback {
  if (typeof callback !== 'function') throw new TypeError(`"callback" for subscription ${topic} expected a function, got ${typeof callback}`)
  const userRaw = options?.isRaw === true
  const mode = !codec || (options?.serializationMode !== undefined && options.serializationMode !== 'default')
    ? 'json'
    : userRaw ? 'raw' : callback.length >= 2 ? 'info' : 'bridge-raw'
  const recipe = mode === 'json' ? MSG_HASH_RECIPE : WIRE_HASH_RECIPE
  const typed = options?.enableTypedArray !== false
  let ep: Endpoint | undefined
  let T: TypeClassLike = typeClass
  const attach = (resolvedTopic?: string, entity?: object): Endpoint => {
    if (ep) return ep
    const resolved = typeof resolvedTopic === 'string' && resolvedTopic ? resolvedTopic : topic
    T = (entity as { typeClass?: unknown } | undefined)?.typeClass ?? typeClass
    ep = endpoint(a, typeClass, topic, resolved, 'receive', recipe)
    registerEntity(a, entity, resolved, ep.sampler)
    a.stamp('subscription_created', {
      topic: resolved, msg_type: ep.msgType, ...a.createdFields(ep.sampler.policy, recipe), ...qosFields(entity ?? { options }),
      message_info: mode === 'info'
    })
    return ep
  }
  const deliver = (message: Msg, info: unknown, hashOf: () => string, extra?: Payload): void => {
    const e = attach()
    record(a, e, hashOf, 'topic_received', () => ({ ...extra, ...infoFields(info) }))
    a.runCallback({ source: 'subscription', topic: e.name }, () => info === undefined ? callback(message) : callback(message, info))
  }
  let wrapped: (message: Msg, info?: unknown) => void
  if (mode === 'json') {
    wrapped = (message, info) => deliver(message, info, () => messageHash(message))
  } else if (mode === 'raw') {
    wrapped = (bytes) => deliver(bytes, undefined, () => wireHash(bytes))
  } else if (mode === 'info') {
    // two declared parameters, so rclnodejs keeps passing MessageInfo to this wrapper
    wrapped = (message, info) => deliver(message, info, () => wireHash(codec!.serialize(message, T)), { hash_source: 'reserialized' })
  } else {
    wrapped = (bytes) => {
      let message: Msg
      try {
        message = codec!.deserialize(bytes as Buffer, T, typed)
      } catch (err) {
        // Bytes that do not decode as the topic's type: recorded (hash of what arrived), not delivered.
        record(a, attach(), () => wireHash(bytes), 'topic_received', () => ({ decode_error: errorFields(err).error_name }))
        a.report(err, 'topic_received')
        return
      }
      deliver(message, undefined, () => wireHash(bytes))
    }
  }
  const outOptions = mode === 'bridge-raw' ? { ...(options ?? {}), isRaw: true } : options
  return Object.assign(wrapped, { attach: (t?: string, e?: object) => { attach(t, e) }, options: outOptions })
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
