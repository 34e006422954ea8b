// BagRecorder: `ros2 bag record` that can be proven. It subscribes raw to the chosen topics, writes each
// message's bytes as received into an MCAP bag (bag.ts), and stamps into the recorder's chain, per
// topic and window, one bag_window event with the Merkle root (RFC 6962, merkle.ts) of the hashes of
// exactly the bytes written (recipe pcp-ros2-cdr-v1: SHA-256 of the CDR bytes; a publisher that stamps
// windows of the same topic hashes the same bytes), the hash of the log times, and the sequence range.
// `pcp ros2 verify-bag` then says of every message in the bag: proven, altered, missing or inserted.
// Order on disk: a window's messages, then its pcp.window metadata record, then its event is stamped;
// a crash loses at most the open windows' proofs, never a message already written.
import { randomUUID } from 'node:crypto'
import { basename } from 'node:path'
import { sha256Hex, type Stamper } from '../runtime/index.js'
import { NodeAuditor } from './auditor.js'
import { merkleRoot } from './merkle.js'
import { wireHash, WIRE_HASH_RECIPE } from './msg-hash.js'
import { systemClock, type AuditClock } from './policy.js'
import { qosFields } from './qos.js'
import { ros2msgSchema, msgRoots } from './schema.js'
import { BagWriter } from './bag.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the node is rclnodejs's (or the stand-in's) */

export interface RecordTopic { topic: string, type: string, qos?: unknown }

export interface RecorderOptions {
  /** A started rclnodejs Node (or the stand-in's) that spins; the recorder subscribes through it. */
  node: any
  stamper: Stamper
  file: string
  topics: RecordTopic[]
  /** Window length (default 1000 ms) and size cap (default 10 000 messages). */
  windowMs?: number
  maxMessages?: number
  clock?: AuditClock
  /** Where .msg files are read for the bag's schemas (default: AMENT_PREFIX_PATH, then the bundled Jazzy set). */
  schemaRoots?: string[]
  onError?: (err: unknown, ctx: { eventType: string }) => void
}

interface Window { firstSeq: number, hashes: string[], logTimes: bigint[], timer: unknown }
interface TopicState { topic: string, type: string, channel: number, seq: number, window: Window | null }

export const BAG_WINDOW_EVENT = 'bag_window'

/** The signed hash of a window's log times: decimal nanoseconds joined by ','. */
export const logTimesHash = (logTimes: readonly bigint[]): string => sha256Hex(logTimes.join(','))

export class BagRecorder {
  readonly bagId: string
  readonly file: string
  messages = 0
  private readonly writer: BagWriter
  private readonly audit: NodeAuditor
  private readonly node: any
  private readonly clock: AuditClock
  private readonly windowMs: number
  private readonly maxMessages: number
  private readonly topics = new Map<string, TopicState>()
  private readonly subscriptions: unknown[] = []
  private io: Promise<unknown> = Promise.resolve()
  private closed = false

  private constructor (opts: RecorderOptions, writer: BagWriter, bagId: string) {
    this.node = opts.node; this.writer = writer; this.bagId = bagId; this.file = opts.file
    this.clock = opts.clock ?? systemClock
    this.windowMs = opts.windowMs ?? 1000
    this.maxMessages = opts.maxMessages ?? 10_000
    this.audit = new NodeAuditor({ name: () => opts.node.getFullyQualifiedName(), nowNs: () => opts.node.now().nanoseconds },
      { stamper: opts.stamper, clock: this.clock, ...(opts.onError ? { onError: opts.onError } : {}) })
  }

  get bytes (): number { return this.writer.bytes }

  static async start (opts: RecorderOptions): Promise<BagRecorder> {
    if (!opts || typeof opts.node?.createSubscription !== 'function') throw new TypeError('"node" expected an rclnodejs Node')
    if (!Array.isArray(opts.topics) || opts.topics.length === 0) throw new TypeError('"topics" expected at least one { topic, type }')
    for (const [n, v] of [['windowMs', opts.windowMs], ['maxMessages', opts.maxMessages]] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new RangeError(`"${n}" expected a positive integer, got ${String(v)}`)
    }
    const roots = opts.schemaRoots ?? msgRoots()
    const schemas = opts.topics.map((t) => ros2msgSchema(t.type, roots)) // an unknown type fails before the file exists
    const bagId = randomUUID()
    const writer = await BagWriter.create(opts.file, { bag_id: bagId, recorder: 'pcp-edge', hash_recipe: WIRE_HASH_RECIPE })
    const r = new BagRecorder(opts, writer, bagId)
    await r.audit.stamp('bag_opened', {
      bag_id: bagId, bag_file: basename(opts.file), storage: 'mcap', hash_recipe: WIRE_HASH_RECIPE,
      window_ms: r.windowMs, max_messages: r.maxMessages, topics: opts.topics.map((t) => ({ topic: t.topic, msg_type: t.type }))
    })
    for (const [i, t] of opts.topics.entries()) {
      const options = { isRaw: true, ...(t.qos !== undefined ? { qos: t.qos } : {}) }
      const sub = opts.node.createSubscription(t.type, t.topic, options, (bytes: Buffer) => r.onMessage(state, bytes))
      const state: TopicState = { topic: sub.topic ?? t.topic, type: t.type, channel: await writer.channel({ topic: sub.topic ?? t.topic, type: t.type, schema: schemas[i]! }), seq: 0, window: null }
      r.topics.set(state.topic, state)
      r.subscriptions.push(sub)
      r.audit.stamp('bag_topic', { bag_id: bagId, topic: state.topic, msg_type: t.type, channel_id: state.channel, ...qosFields(sub) })
    }
    return r
  }

  private onMessage (t: TopicState, bytes: Buffer): void {
    if (this.closed) return
    const seq = ++t.seq
    const logTime = this.audit.nowNs()
    const data = Uint8Array.from(bytes)
    this.messages++
    this.io = this.io.then(() => this.writer.message(t.channel, seq, logTime, logTime, data)).catch((err) => this.audit.report(err, 'bag_write'))
    if (t.window === null) t.window = { firstSeq: seq, hashes: [], logTimes: [], timer: this.clock.setTimeout(() => this.closeWindow(t, 'time'), this.windowMs) }
    t.window.hashes.push(wireHash(data))
    t.window.logTimes.push(logTime)
    if (t.window.hashes.length >= this.maxMessages) this.closeWindow(t, 'full')
  }

  private closeWindow (t: TopicState, reason: 'time' | 'full' | 'close'): Promise<unknown> {
    const w = t.window
    if (w === null) return this.io
    t.window = null
    this.clock.clearTimeout(w.timer)
    const lastSeq = w.firstSeq + w.hashes.length - 1
    const root = merkleRoot(w.hashes)
    const fields = {
      bag_id: this.bagId, topic: t.topic, msg_type: t.type, count: w.hashes.length, first_seq: w.firstSeq, last_seq: lastSeq,
      merkle_root: root, merkle_tree: 'rfc6962-sha256', hash_recipe: WIRE_HASH_RECIPE,
      first_log_time: w.logTimes[0]!, last_log_time: w.logTimes.at(-1)!, log_times_hash: logTimesHash(w.logTimes), close_reason: reason
    }
    this.io = this.io.then(() => this.writer.metadata('pcp.window', {
      bag_id: this.bagId, topic: t.topic, first_seq: String(w.firstSeq), hashes: w.hashes.join(','), log_times: w.logTimes.join(',')
    })).then(() => this.audit.stamp(BAG_WINDOW_EVENT, fields)).catch((err) => this.audit.report(err, BAG_WINDOW_EVENT))
    return this.io
  }

  /** Closes every window, finishes the MCAP file (summary, footer), stamps bag_closed. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const s of this.subscriptions) { try { this.node.destroySubscription(s) } catch { /* node already gone */ } }
    for (const t of this.topics.values()) this.closeWindow(t, 'close')
    await this.io
    await this.writer.close()
    await this.audit.stamp('bag_closed', { bag_id: this.bagId, messages: this.messages, bytes: this.writer.bytes })
    await this.audit.flush()
  }
}
