// Sampling of one GPIO line's edges or reads (issue 17 #3): the same every / nth / rate / window
// policies as ROS topics (runtime/sampling.ts), so a 1 kHz encoder is not 1,000 fsynced events a second.
//   every        each event stamped, as without a policy, plus its `seq` on this line
//   nth, rate    the chosen events stamped with `seq` and `skipped` (how many since the previous stamped
//                one were not): the others are counted, NOT covered
//   window       no per-event stamp; one `rpi_gpio_digest` per window with the count, the seq range, the
//                time range (t_ms) and the RFC 6962 Merkle root of the leaves, leaf = hashValue(payload)
//                of the event as it would have been stamped (it includes seq and t_ms, so no two are
//                equal). Every event is covered and provable from its payload (proveInclusion /
//                verifyInclusion of ros2/verify, or runtime/merkle.ts: the same tree), but only as a
//                member of its window. `onDigest` hands the script each window's payloads to keep.
// What was chosen is stamped in rpi_gpio_setup (`sampling.edges` / `sampling.reads`), so an auditor
// knows what coverage to expect.
import { checkPolicy, policyFields, Sampler, systemClock, type AuditClock, type AuditPolicy, type ClosedWindow } from '../runtime/sampling.js'
import { merkleRoot } from '../runtime/merkle.js'
import type { AissEvent, JsonValue } from '../runtime/index.js'
import { hashValue, type Payload } from './audit.js'

export type GpioStream = 'edges' | 'reads'

export interface GpioSamplingOptions {
  /** Policy for rpi_gpio_interrupt (watched edges). */
  edges?: AuditPolicy
  /** Policy for rpi_gpio_input (read/readSync). */
  reads?: AuditPolicy
  /** Wall clock (t_ms) and window timers; injectable for tests. */
  clock?: AuditClock
  /** Each closed window: its digest payload and the payloads of its members, in order (the leaves' preimages). */
  onDigest?: (digest: Payload, members: Payload[]) => void
}

export const GPIO_DIGEST_EVENT = 'rpi_gpio_digest'

/** The leaf of an event in a window digest: hashValue of the payload it would have been stamped with. */
export function gpioLeafHash (payload: Payload): string { return hashValue(payload) }

export function checkGpioSampling (opts: unknown): GpioSamplingOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`"options.sampling" expected an object { edges?, reads?, clock?, onDigest? }, got ${String(opts)}`)
  const o = opts as GpioSamplingOptions
  if (o.onDigest !== undefined && typeof o.onDigest !== 'function') throw new TypeError('"options.sampling.onDigest" expected a function')
  return {
    ...o,
    ...(o.edges !== undefined ? { edges: checkPolicy(o.edges, 'options.sampling.edges') } : {}),
    ...(o.reads !== undefined ? { reads: checkPolicy(o.reads, 'options.sampling.reads') } : {})
  }
}

/** One line's stream of one kind under one policy. `stamp` is the pin's ordered, failure-tracking queue. */
export class SampledStream {
  readonly kind: GpioStream
  readonly policy: AuditPolicy
  readonly #pin: number
  readonly #sampler: Sampler
  readonly #stamp: (eventType: string, payload: Payload) => Promise<AissEvent>
  readonly #onDigest: GpioSamplingOptions['onDigest']
  #members: Payload[] = []
  #seq = 0
  #lastDigest: Promise<AissEvent> | null = null

  constructor (kind: GpioStream, pin: number, policy: AuditPolicy, opts: GpioSamplingOptions, stamp: (eventType: string, payload: Payload) => Promise<AissEvent>) {
    this.kind = kind
    this.policy = policy
    this.#pin = pin
    this.#stamp = stamp
    this.#onDigest = opts.onDigest
    this.#sampler = new Sampler(policy, opts.clock ?? systemClock, (w) => this.#digest(w))
  }

  /** What rpi_gpio_setup records about this stream. */
  get fields (): { [k: string]: JsonValue } { return policyFields(this.policy) }

  /** Stamps the event if the policy says so (resolves with it), else resolves null. */
  offer (eventType: string, payload: Payload, tMs: number): Promise<AissEvent | null> {
    const seq = ++this.#seq
    const p: Payload = { ...payload, seq }
    if (this.policy.mode === 'window') {
      // The member joins before offer() may close the window (full), so #digest sees it.
      this.#members.push(p)
      this.#sampler.offer(seq, gpioLeafHash(p), BigInt(tMs))
      return Promise.resolve(null)
    }
    const o = this.#sampler.offer(seq, null, BigInt(tMs))
    if (!o.stamp) return Promise.resolve(null)
    return this.#stamp(eventType, this.policy.mode === 'every' ? p : { ...p, skipped: o.skipped })
  }

  /** Stamps the open window, if any; resolves once it is stored. */
  async close (): Promise<void> {
    this.#sampler.close()
    await this.#lastDigest
  }

  #digest (w: ClosedWindow): void {
    const members = this.#members.splice(0, w.count)
    const payload: Payload = {
      pin: this.#pin,
      stream: this.kind,
      count: w.count,
      first_seq: w.firstSeq,
      last_seq: w.lastSeq,
      start_t_ms: Number(w.startRosTime),
      end_t_ms: Number(w.endRosTime),
      merkle_root: Buffer.from(merkleRoot(w.hashes.map((h) => Buffer.from(h, 'hex')))).toString('hex'),
      leaf: 'hashValue(payload)',
      reason: w.reason
    }
    this.#lastDigest = this.#stamp(GPIO_DIGEST_EVENT, payload)
    this.#lastDigest.catch(() => {}) // the pin's queue records the failure (AUDIT_FAILED)
    this.#onDigest?.(payload, members)
  }
}
