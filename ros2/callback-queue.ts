// The user callbacks waiting for their received-event to be durable ('after-stamp' order). A disk that
// stalls (fsync taking seconds) must not let them pile up without limit while messages keep coming,
// so the queue is bounded and what happens beyond the bound is a stated policy, stamped in the chain:
//   'drop-newest' (default)  the new message's callback does not run (its topic_received is still stamped)
//   'drop-oldest'            the oldest waiting callback is dropped to make room (fresh sensor data wins)
// Either way order is kept: no callback ever runs ahead of one queued before it. The first drop of an
// episode stamps callback_queue_overflow { limit, policy }; when the queue empties again
// callback_queue_recovered { dropped } says how many callbacks did not run.
import type { JsonValue } from '../runtime/index.js'

export type OverflowPolicy = 'drop-newest' | 'drop-oldest'

export const DEFAULT_CALLBACK_QUEUE = 1000

interface Entry { ctx: { [k: string]: JsonValue }, run: () => void, ready: Promise<unknown> }

export class CallbackQueue {
  readonly limit: number
  readonly policy: OverflowPolicy
  /** Callbacks dropped since the node started. */
  dropped = 0
  private readonly entries: Entry[] = []
  private running: Promise<void> | null = null
  /** 1 while a shifted entry waits for its stamps or runs: it still counts against the limit */
  private active = 0
  private episodeDrops = 0
  private readonly stamp: (type: string, fields: { [k: string]: JsonValue }) => void

  constructor (limit: number, policy: OverflowPolicy, stamp: (type: string, fields: { [k: string]: JsonValue }) => void) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`"audit.callbackQueue.limit" expected a positive integer, got ${String(limit)}`)
    if (policy !== 'drop-newest' && policy !== 'drop-oldest') throw new RangeError(`"audit.callbackQueue.overflow" expected 'drop-newest' or 'drop-oldest', got ${String(policy)}`)
    this.limit = limit; this.policy = policy; this.stamp = stamp
  }

  get length (): number { return this.entries.length + this.active }

  /** Runs `run` after `ready` (the stamps queued before it) and after every callback queued earlier. */
  push (ctx: Entry['ctx'], ready: Promise<unknown>, run: () => void): void {
    if (this.length >= this.limit) {
      const oldest = this.policy === 'drop-oldest' ? this.entries.shift() : undefined
      this.drop(oldest ? oldest.ctx : ctx)
      if (!oldest) return
    }
    this.entries.push({ ctx, run, ready })
    this.running ??= this.drain()
  }

  /** Resolves when no callback is waiting or running. */
  idle (): Promise<void> { return this.running ?? Promise.resolve() }

  private drop (ctx: Entry['ctx']): void {
    this.dropped++
    if (this.episodeDrops++ === 0) this.stamp('callback_queue_overflow', { limit: this.limit, policy: this.policy, first_dropped: ctx })
  }

  private async drain (): Promise<void> {
    while (this.entries.length > 0) {
      const e = this.entries.shift()!
      this.active = 1
      try {
        await e.ready.then(undefined, () => undefined)
        e.run()
      } finally { this.active = 0 }
    }
    this.running = null
    if (this.episodeDrops > 0) {
      this.stamp('callback_queue_recovered', { dropped: this.episodeDrops, limit: this.limit, policy: this.policy })
      this.episodeDrops = 0
    }
  }
}
