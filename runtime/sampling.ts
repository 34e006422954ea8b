// How often a high-rate source is stamped: a ROS endpoint (publisher, subscription, timer: ros2/), a
// GPIO line's edges or reads (rpi/gpio-sampling.ts). A 100 Hz topic or a 1 kHz encoder stamped per
// message is millions of fsynced events a day, so the user picks, per source, a point on this scale:
//   every    one event per message: each message individually signed and ordered (most storage)
//   nth      messages 1, n+1, 2n+1, … are stamped; the others are only counted (`skipped`): NOT covered
//   rate     at most `perSecond` stamped per one-second bucket; the rest counted: NOT covered
//   window   one topic_digest event per window with the count and the Merkle root of every message
//            hash in it: every message is covered and provable (RFC 6962 tree: ros2/merkle.ts,
//            runtime/merkle.ts), but only as a member of its window, not individually timestamped or
//            ordered against other sources' events
// Shared by ros2/ and rpi/, so it lives in the core and imports nothing but types.
import type { JsonValue } from './value.js'

export type AuditPolicy =
  | { mode: 'every' }
  | { mode: 'nth', n: number }
  | { mode: 'rate', perSecond: number }
  | { mode: 'window', windowMs: number, maxMessages?: number }

export const EVERY: AuditPolicy = Object.freeze({ mode: 'every' })

/** Default cap on one window's size, so memory stays bounded (10 000 hashes ≈ 1 MB) whatever the rate. */
export const DEFAULT_MAX_WINDOW = 10_000

/** Wall-clock and timers, injectable so tests control time. */
export interface AuditClock {
  nowMs (): number
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export const systemClock: AuditClock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref() // an open window must not keep a finished robot process alive
    return t
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout)
}

function positiveInt (v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`"${name}" expected a positive integer, got ${String(v)}`)
  return v
}

/** Validates a policy given by the user; returns a frozen copy. */
export function checkPolicy (policy: unknown, name = 'policy'): AuditPolicy {
  if (policy === null || typeof policy !== 'object') throw new TypeError(`"${name}" expected an object with a mode, got ${String(policy)}`)
  const p = policy as { [k: string]: unknown }
  switch (p.mode) {
    case 'every': return EVERY
    case 'nth': return Object.freeze({ mode: 'nth', n: positiveInt(p.n, `${name}.n`) })
    case 'rate': return Object.freeze({ mode: 'rate', perSecond: positiveInt(p.perSecond, `${name}.perSecond`) })
    case 'window': {
      const maxMessages = p.maxMessages === undefined ? DEFAULT_MAX_WINDOW : positiveInt(p.maxMessages, `${name}.maxMessages`)
      return Object.freeze({ mode: 'window', windowMs: positiveInt(p.windowMs, `${name}.windowMs`), maxMessages })
    }
    default: throw new RangeError(`"${name}.mode" expected every, nth, rate or window, got ${String(p.mode)}`)
  }
}

/** The fields a policy adds to `*_created` events, so an auditor knows what coverage to expect. */
export function policyFields (policy: AuditPolicy): { [k: string]: JsonValue } {
  switch (policy.mode) {
    case 'every': return { audit_mode: 'every' }
    case 'nth': return { audit_mode: 'nth', audit_n: policy.n }
    case 'rate': return { audit_mode: 'rate', audit_per_second: policy.perSecond }
    case 'window': return { audit_mode: 'window', audit_window_ms: policy.windowMs, audit_max_messages: policy.maxMessages ?? DEFAULT_MAX_WINDOW }
  }
}

export interface ClosedWindow {
  count: number
  firstSeq: number
  lastSeq: number
  hashes: string[]
  /** Times of the first and last member, in whatever unit the source passes to offer() (ROS time in ns
   *  for topics, the field names say so; rpi passes wall-clock ms). */
  startRosTime: bigint
  endRosTime: bigint
  /** Why it closed: its time ran out, it reached maxMessages, or the endpoint/node was closed. */
  reason: 'time' | 'full' | 'close'
}

export type Offer = { stamp: true, skipped: number } | { stamp: false }

/** Per-endpoint sampling state. One instance per publisher / subscription / timer. */
export class Sampler {
  readonly policy: AuditPolicy
  private readonly clock: AuditClock
  private readonly onWindow: (w: ClosedWindow) => void
  private skipped = 0
  private bucketStart = -Infinity
  private bucketCount = 0
  private window: (Omit<ClosedWindow, 'reason'> & { timer: unknown }) | null = null

  constructor (policy: AuditPolicy, clock: AuditClock, onWindow: (w: ClosedWindow) => void) {
    this.policy = policy
    this.clock = clock
    this.onWindow = onWindow
  }

  /** Decides for message number `seq` (from 1). In window mode the hash joins the open window. */
  offer (seq: number, msgHash: string | null, rosTime: bigint): Offer {
    const p = this.policy
    switch (p.mode) {
      case 'every': return this.take()
      case 'nth': return (seq - 1) % p.n === 0 ? this.take() : this.skip()
      case 'rate': {
        const now = this.clock.nowMs()
        if (now - this.bucketStart >= 1000) { this.bucketStart = now; this.bucketCount = 0 }
        if (this.bucketCount < p.perSecond) { this.bucketCount++; return this.take() }
        return this.skip()
      }
      case 'window': {
        // A message whose hash could not be computed cannot be a leaf; the caller stamps it alone.
        if (msgHash === null) return this.take()
        if (this.window === null) {
          const timer = this.clock.setTimeout(() => this.closeWindow('time'), p.windowMs)
          this.window = { count: 0, firstSeq: seq, lastSeq: seq, hashes: [], startRosTime: rosTime, endRosTime: rosTime, timer }
        }
        const w = this.window
        w.count++; w.lastSeq = seq; w.endRosTime = rosTime; w.hashes.push(msgHash)
        if (w.count >= (p.maxMessages ?? DEFAULT_MAX_WINDOW)) this.closeWindow('full')
        return { stamp: false }
      }
    }
  }

  /** Emits the open window, if any (node shutdown, endpoint destroyed, explicit flush). */
  close (): void { this.closeWindow('close') }

  private take (): Offer { const skipped = this.skipped; this.skipped = 0; return { stamp: true, skipped } }
  private skip (): Offer { this.skipped++; return { stamp: false } }

  private closeWindow (reason: ClosedWindow['reason']): void {
    const w = this.window
    if (w === null) return
    this.window = null
    this.clock.clearTimeout(w.timer)
    const { timer: _timer, ...closed } = w
    this.onWindow({ ...closed, reason })
  }
}
