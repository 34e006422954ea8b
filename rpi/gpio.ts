// AuditedGpio: onoff's Gpio with every call stamped into the agent's chain. Same constructor and method
// names as onoff 6, so a script switches with one import; the only differences are that `pin` is the
// BCM number on every kernel (resolved to sysfs here, see chip.ts) and that a stamper must be given,
// per pin (`options.audit`) or once (`configureGpioAudit`).
//
// Failure policy: an audited pin that could not record what it did refuses to do anything more
// (AUDIT_FAILED), because the chain would otherwise silently miss actions. Async methods resolve only
// once their event is stored; sync methods (readSync, writeSync, the constructor) queue their stamp in
// call order and `flush()` awaits them.
// Beside it: what setup hands onoff and records, and export errors (gpio-setup.ts); sampling (gpio-sampling.ts).
import type { AissEvent, Stamper } from '../runtime/types.js'
import { PcpError } from '../runtime/errors.js'
import { RpiErrorCodes } from './errors.js'
import { checkStamper, hashValue, stampInOrder, type Payload } from './audit.js'
import { defaultBackend } from './chardev/backend.js'
import { type BinaryValue, type Direction, type Edge, type GpioBackend, type GpioOptions, type OnoffLikeGpio, type ValueCallback } from './backend.js'
import type { PinResolution } from './chip.js'
import { exportError, onoffOptions, setupPayload } from './gpio-setup.js'
import { checkGpioSampling, SampledStream, type GpioSamplingOptions } from './gpio-sampling.js'

export interface AuditedGpioOptions extends GpioOptions {
  /** Where events go (an Agent). Defaults to the one given to configureGpioAudit. */
  audit?: Stamper
  /** Default: the character device where /sys/class/gpio/export is absent, else onoff; or chardevBackend(), onoffBackend(), a SimulatedPi's backend. */
  backend?: GpioBackend
  /** Stamp value_hash (hashValue of the bit) instead of value. */
  hashValues?: boolean
  /** A name for the pin ("fan relay"), stamped at setup. */
  label?: string
  /** Sampling policies for this line's edges and reads (gpio-sampling.ts); default: every event stamped. */
  sampling?: GpioSamplingOptions
}

interface Defaults { stamper?: Stamper, backend?: GpioBackend, hashValues?: boolean }
let defaults: Defaults = {}

/** Sets the stamper/backend used by every AuditedGpio constructed without its own. */
export function configureGpioAudit (opts: Defaults): void {
  if (opts.stamper !== undefined) checkStamper(opts.stamper, 'stamper')
  defaults = { ...defaults, ...opts }
}

export class AuditedGpio {
  static readonly HIGH = 1 as const
  static readonly LOW = 0 as const
  /** Whether this process can export pins on the default backend (onoff's Gpio.accessible). */
  static get accessible (): boolean {
    try { return (defaults.backend ?? defaultBackend()).Gpio.accessible } catch { return false }
  }

  readonly pin: number
  readonly resolution: PinResolution
  readonly backend: GpioBackend
  /** Resolves when rpi_gpio_setup is stored. */
  readonly ready: Promise<AissEvent>
  readonly #gpio: OnoffLikeGpio
  readonly #stamper: Stamper
  readonly #hash: boolean
  readonly #wrapped = new Map<ValueCallback, ValueCallback>()
  readonly #pending = new Set<Promise<unknown>>()
  #direction: 'in' | 'out'
  #edge: Edge
  #failed: PcpError | undefined
  readonly #now: () => number
  readonly #streams: { edges?: SampledStream, reads?: SampledStream } = {}

  constructor (pin: number, direction: Direction, edge?: Edge | AuditedGpioOptions, options?: AuditedGpioOptions) {
    if (typeof edge === 'object' && !options) { options = edge; edge = undefined }
    const opts = options ?? {}
    if (!['in', 'out', 'high', 'low'].includes(direction)) throw new TypeError(`"direction" expected in, out, high or low, got ${String(direction)}`)
    if (edge !== undefined && !['none', 'rising', 'falling', 'both'].includes(edge as string)) throw new TypeError(`"edge" expected none, rising, falling or both, got ${String(edge)}`)
    const stamper = opts.audit ?? defaults.stamper
    if (!stamper) throw new TypeError('"options.audit" expected a stamper (an Agent); or call configureGpioAudit({ stamper }) once before constructing pins')
    this.#stamper = checkStamper(stamper, 'options.audit')
    this.backend = opts.backend ?? defaults.backend ?? defaultBackend()
    this.#hash = opts.hashValues ?? defaults.hashValues ?? false
    if (opts.bias !== undefined && opts.bias !== 'as-is' && !this.backend.supportsBias) {
      // sysfs has no bias control: silently ignoring a requested pull-up would leave an input floating.
      throw new TypeError(`"options.bias" (${String(opts.bias)}) needs the character-device backend (chardevBackend()); the ${this.backend.name} backend cannot set pull resistors`)
    }
    const sampling = opts.sampling === undefined ? undefined : checkGpioSampling(opts.sampling)
    const clock = sampling?.clock
    this.#now = clock ? () => clock.nowMs() : Date.now
    this.pin = pin
    this.resolution = this.backend.resolvePin(pin)
    this.backend.preflight(this.resolution)
    const Gpio = this.backend.Gpio
    try {
      this.#gpio = new Gpio(this.resolution.line, direction, edge as Edge | undefined, onoffOptions(opts))
    } catch (err) {
      throw exportError(this.resolution, err)
    }
    this.#direction = direction === 'in' ? 'in' : 'out'
    this.#edge = direction === 'in' && edge ? edge as Edge : 'none'
    const setup = setupPayload(pin, this.resolution, this.backend, direction, this.#edge, opts)
    const stamp = (type: string, payload: Payload): Promise<AissEvent> => this.#queue(type, payload)
    if (sampling?.edges) this.#streams.edges = new SampledStream('edges', pin, sampling.edges, sampling, stamp)
    if (sampling?.reads) this.#streams.reads = new SampledStream('reads', pin, sampling.reads, sampling, stamp)
    if (sampling?.edges || sampling?.reads) {
      setup.sampling = {
        edges: this.#streams.edges?.fields ?? { audit_mode: 'every' },
        reads: this.#streams.reads?.fields ?? { audit_mode: 'every' }
      }
    }
    this.ready = this.#queue('rpi_gpio_setup', setup)
  }

  read (callback: ValueCallback): void
  read (): Promise<BinaryValue>
  read (callback?: ValueCallback): Promise<BinaryValue> | void {
    const p = this.#run('read', async () => {
      const value = await this.#gpio.read()
      await this.#record('reads', 'rpi_gpio_input', this.#valuePayload(value))
      return value
    })
    if (!callback) return p
    p.then((v) => callback(null, v), (err: Error) => callback(err, 0))
  }

  readSync (): BinaryValue {
    this.#check()
    const value = this.#sync('readSync', () => this.#gpio.readSync())
    void this.#record('reads', 'rpi_gpio_input', this.#valuePayload(value))
    return value
  }

  write (value: BinaryValue, callback: (err: Error | null | undefined) => void): void
  write (value: BinaryValue): Promise<void>
  write (value: BinaryValue, callback?: (err: Error | null | undefined) => void): Promise<void> | void {
    const p = this.#run('write', async () => {
      checkBit(value)
      await this.#gpio.write(value)
      await this.#queue('rpi_gpio_output', this.#valuePayload(value))
    })
    if (!callback) return p
    p.then(() => callback(null), (err: Error) => callback(err))
  }

  writeSync (value: BinaryValue): void {
    this.#check()
    checkBit(value)
    this.#sync('writeSync', () => this.#gpio.writeSync(value))
    void this.#queue('rpi_gpio_output', this.#valuePayload(value))
  }

  /** Edge events (onoff semantics, debounced by options.debounceTimeout); each one is stamped before the callback runs. */
  watch (callback: ValueCallback): void {
    this.#check()
    if (typeof callback !== 'function') throw new TypeError(`"callback" expected a function, got ${typeof callback}`)
    const wrapper: ValueCallback = (err, value, event) => {
      if (this.#failed) return callback(this.#failed, value)
      if (err) {
        void this.#queue('rpi_gpio_error', { pin: this.pin, op: 'watch', message: err.message })
        return callback(err, value)
      }
      // Queued (not awaited) so the event precedes anything the callback stamps, without delaying it.
      const payload: Payload = { ...this.#valuePayload(value), edge: this.#edge }
      if (event) {
        // The kernel's own time of the edge (ns, as a decimal string: it exceeds 2^53), and where it was.
        payload.chip = event.chip
        payload.line_offset = event.offset
        payload.timestamp_ns = event.timestampNs.toString()
        payload.clock = event.clock
        payload.line_seqno = event.lineSeqno
        if (event.dropped > 0) payload.dropped = event.dropped
      }
      void this.#record('edges', 'rpi_gpio_interrupt', payload)
      callback(null, value, event)
    }
    this.#wrapped.set(callback, wrapper)
    this.#gpio.watch(wrapper)
    void this.#queue('rpi_gpio_interrupt_registered', { pin: this.pin, edge: this.#edge, listeners: this.#wrapped.size })
  }

  unwatch (callback?: ValueCallback): void {
    if (typeof callback === 'function') {
      const wrapper = this.#wrapped.get(callback)
      if (!wrapper) return
      this.#wrapped.delete(callback)
      this.#gpio.unwatch(wrapper)
    } else {
      this.#wrapped.clear()
      this.#gpio.unwatchAll()
    }
    void this.#queue('rpi_gpio_interrupt_removed', { pin: this.pin, listeners: this.#wrapped.size })
  }

  unwatchAll (): void { this.unwatch() }

  direction (): Direction { return this.#gpio.direction() }

  setDirection (direction: Direction): void {
    this.#check()
    if (!['in', 'out', 'high', 'low'].includes(direction)) throw new TypeError(`"direction" expected in, out, high or low, got ${String(direction)}`)
    this.#sync('setDirection', () => this.#gpio.setDirection(direction))
    this.#direction = direction === 'in' ? 'in' : 'out'
    void this.#queue('rpi_gpio_direction', { pin: this.pin, direction })
  }

  edge (): Edge { return this.#gpio.edge() }

  setEdge (edge: Edge): void {
    this.#check()
    this.#sync('setEdge', () => this.#gpio.setEdge(edge))
    this.#edge = edge
    void this.#queue('rpi_gpio_edge', { pin: this.pin, edge })
  }

  activeLow (): boolean { return this.#gpio.activeLow() }

  setActiveLow (invert: boolean): void {
    this.#check()
    this.#sync('setActiveLow', () => this.#gpio.setActiveLow(invert))
    void this.#queue('rpi_gpio_active_low', { pin: this.pin, active_low: !!invert })
  }

  /** Unexports (onoff semantics) and stamps rpi_gpio_cleanup; allowed even after an audit failure. */
  unexport (): void {
    this.#wrapped.clear()
    // Open windows are stamped before the cleanup event, so each digest precedes it in the chain.
    this.#streams.edges?.close().catch(() => {})
    this.#streams.reads?.close().catch(() => {})
    this.#gpio.unexport()
    void this.#queue('rpi_gpio_cleanup', { pins: [this.pin], sysfs_gpio: this.resolution.sysfs, backend: this.backend.name })
  }

  /** Waits for every event this pin queued; throws AUDIT_FAILED if one could not be stored. */
  async flush (): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending])
    if (this.#failed) throw this.#failed
  }

  /** t_ms: wall-clock ms, as the envelope timestamp is whole seconds (an edge needs better). */
  #valuePayload (value: BinaryValue): Payload {
    const t_ms = Math.round(this.#now())
    return this.#hash
      ? { pin: this.pin, direction: this.#direction, value_hash: hashValue(value), t_ms }
      : { pin: this.pin, direction: this.#direction, value, t_ms }
  }

  /** An edge or read event through its stream's policy; resolves null when the policy skipped it. */
  #record (stream: 'edges' | 'reads', eventType: string, payload: Payload): Promise<AissEvent | null> {
    const s = this.#streams[stream]
    if (!s) return this.#queue(eventType, payload)
    return s.offer(eventType, payload, payload.t_ms as number)
  }

  #queue (eventType: string, payload: Payload): Promise<AissEvent> {
    const p = stampInOrder(this.#stamper, eventType, payload)
    this.#pending.add(p)
    p.then(() => this.#pending.delete(p), (err: unknown) => {
      this.#pending.delete(p)
      this.#failed ??= new PcpError(RpiErrorCodes.AUDIT_FAILED,
        `GPIO ${this.pin}: could not stamp ${eventType} (${(err as Error)?.message ?? String(err)}); this pin refuses further actions`,
        { field: eventType, cause: err })
    })
    return p
  }

  #check (): void { if (this.#failed) throw this.#failed }

  /** Runs a sync hardware call; a failure is stamped as rpi_gpio_error, then rethrown unchanged. */
  #sync<T> (op: string, fn: () => T): T {
    try { return fn() } catch (err) {
      void this.#queue('rpi_gpio_error', { pin: this.pin, op, message: (err as Error).message })
      throw err
    }
  }

  async #run<T> (op: string, fn: () => Promise<T>): Promise<T> {
    this.#check()
    try { return await fn() } catch (err) {
      if (err instanceof PcpError && err.code === RpiErrorCodes.AUDIT_FAILED) throw err
      if (this.#failed) throw this.#failed
      if (!(err instanceof TypeError)) await this.#queue('rpi_gpio_error', { pin: this.pin, op, message: (err as Error).message }).catch(() => {})
      throw err
    }
  }
}

function checkBit (value: unknown): asserts value is BinaryValue {
  if (value !== 0 && value !== 1) throw new TypeError(`"value" expected 0 or 1, got ${String(value)}`)
}
