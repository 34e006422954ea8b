// STAND-IN — NOT ROS 2. Publishers, subscriptions and timers with rclnodejs 2.2's behaviour where the
// bridge depends on it (lib/publisher.js, lib/subscription.js, lib/lifecycle_publisher.js, lib/node.js
// execute()):
//   - publish(Buffer) sends the bytes as they are (publishRawMessage); publish(anything else) builds
//     the message with the type class (`new T(message)` unless it already is one) and sends its CDR
//   - a subscription with options.isRaw gets a Buffer and no MessageInfo (rclTakeRaw); otherwise it gets
//     the deserialized message as toPlainObject(enableTypedArray), plus a MessageInfo when its callback
//     declares two parameters (callback.length >= 2, rclTakeWithInfo)
//   - a LifecyclePublisher drops messages while it is not activated
//   - messages wait for the receiving node to spin, up to the subscription's QoS depth (KEEP_LAST: the
//     oldest go first); timers fire only while their node spins
import { randomBytes } from 'node:crypto'
import { deserializeMessage, resolveStandinType, serializeMessage, type StandinTypeClass } from './interfaces.js'
import type { StandinContext } from './context.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

/** rclnodejs lib/message_info.js, field for field. */
export class MessageInfo {
  readonly sourceTimestamp: bigint
  readonly receivedTimestamp: bigint
  readonly publicationSequenceNumber: bigint
  readonly receptionSequenceNumber: bigint
  readonly publisherGid: Buffer
  constructor (raw: { source_timestamp: bigint, received_timestamp: bigint, publication_sequence_number: bigint, reception_sequence_number: bigint, publisher_gid: Buffer }) {
    this.sourceTimestamp = raw.source_timestamp
    this.receivedTimestamp = raw.received_timestamp
    this.publicationSequenceNumber = raw.publication_sequence_number
    this.receptionSequenceNumber = raw.reception_sequence_number
    this.publisherGid = raw.publisher_gid
  }

  toPlainObject (): object {
    return {
      sourceTimestamp: this.sourceTimestamp,
      receivedTimestamp: this.receivedTimestamp,
      publicationSequenceNumber: this.publicationSequenceNumber,
      receptionSequenceNumber: this.receptionSequenceNumber,
      publisherGid: this.publisherGid
    }
  }
}

/** What travels between endpoints: the CDR bytes and what rmw knows about their sender. */
export interface Sample { bytes: Buffer, gid: Buffer, seq: bigint, sourceNs: bigint }

export class StandinPublisher {
  readonly topic: string
  readonly typeClass: StandinTypeClass
  readonly options: any
  /** @internal */ readonly _ctx: StandinContext
  /** @internal rmw gid: 16 bytes (Jazzy) */ readonly _gid = randomBytes(16)
  private seq = 0n
  constructor (ctx: StandinContext, topic: string, typeClass: StandinTypeClass, options: any) {
    this._ctx = ctx; this.topic = topic; this.typeClass = typeClass; this.options = options
  }

  get qos (): unknown { return this.options.qos }

  publish (message: any, _options?: { validate?: boolean }): void {
    let bytes: Buffer
    if (message instanceof Buffer) {
      bytes = Buffer.from(message)
    } else {
      const m = message instanceof this.typeClass ? message : new this.typeClass(message)
      bytes = serializeMessage(m, this.typeClass)
    }
    this.seq++
    this._ctx.publish(this.topic, this.typeClass.typeName, { bytes, gid: this._gid, seq: this.seq, sourceNs: this._ctx.clock.nowNs() })
  }

  subscriptionCount (): number { return this._ctx.countSubscribers(this.topic) }
}

export class StandinLifecyclePublisher extends StandinPublisher {
  private enabled = false
  override publish (message: any): void { if (this.enabled) super.publish(message) }
  activate (): void { this.enabled = true }
  deactivate (): void { this.enabled = false }
  isActivated (): boolean { return this.enabled }
  onActivate (): void { this.activate() }
  onDeactivate (): void { this.deactivate() }
}

/** rclnodejs's default QoS depth (qos_profile_default: KEEP_LAST 10). */
const DEFAULT_DEPTH = 10

export function qosDepth (qos: unknown): number {
  const d = (qos as { depth?: unknown } | undefined)?.depth
  return typeof d === 'number' && d > 0 ? d : DEFAULT_DEPTH
}

export class StandinSubscription {
  readonly topic: string
  readonly typeClass: StandinTypeClass
  readonly options: any
  readonly isRaw: boolean
  readonly wantsMessageInfo: boolean
  /** @internal */ _unsubscribe: () => void = () => {}
  private readonly callback: (message: any, info?: MessageInfo) => void
  private received = 0n
  constructor (topic: string, typeClass: StandinTypeClass, options: any, callback: (message: any, info?: MessageInfo) => void) {
    this.topic = topic; this.typeClass = typeClass; this.options = options; this.callback = callback
    this.isRaw = options.isRaw === true
    this.wantsMessageInfo = callback.length >= 2
  }

  get qos (): unknown { return this.options.qos }
  get typedArrayEnabled (): boolean { return this.options.enableTypedArray !== false }

  /** @internal: rclnodejs Node.execute() for one ready subscription */
  _take (s: Sample, nowNs: bigint): void {
    this.received++
    if (this.isRaw) { this.callback(Buffer.from(s.bytes)); return }
    const message = deserializeMessage(Buffer.from(s.bytes), this.typeClass).toPlainObject(this.typedArrayEnabled)
    if (!this.wantsMessageInfo) { this.callback(message); return }
    this.callback(message, new MessageInfo({
      source_timestamp: s.sourceNs,
      received_timestamp: nowNs,
      publication_sequence_number: s.seq,
      reception_sequence_number: this.received,
      publisher_gid: Buffer.from(s.gid)
    }))
  }
}

export class StandinTimer {
  readonly period: bigint
  private handle: NodeJS.Timeout | undefined
  constructor (period: bigint, callback: () => void, spinning: () => boolean) {
    this.period = period
    const ms = Math.max(1, Number(period / 1_000_000n))
    // No try/catch: a throw in a timer callback is an uncaught exception, as under rclnodejs's spin.
    this.handle = setInterval(() => { if (spinning()) callback() }, ms)
  }

  isCanceled (): boolean { return this.handle === undefined }
  cancel (): void { clearInterval(this.handle); this.handle = undefined }
}

export { resolveStandinType }
