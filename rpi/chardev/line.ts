// An onoff-shaped Gpio over one line of a GPIO character device (uAPI v2), so AuditedGpio drives it
// unchanged. What the character device adds over sysfs and onoff: bias (pull-up/down/disabled), debounce
// done by the kernel, and edge events stamped by the kernel in its interrupt handler (timestamp_ns, with
// sequence numbers that reveal overflowed queues) instead of a value read whenever epoll woke us up.
// The line is held by an fd: "export" is GPIO_V2_GET_LINE_IOCTL, "unexport" is close(2), and a crashed
// process releases its lines by itself (no stale exports as with sysfs).
import { closeSync, readSync } from 'node:fs'
import type { BinaryValue, Direction, Edge, GpioEdgeEvent, GpioOptions, ValueCallback } from '../backend.js'
import { readLater, writeLater } from '../backend.js'
import type { GpiochipAddon } from './addon.js'
import { openChip } from './chips.js'
import { AttrId, EventId, Ioctl, LAYOUT, LineFlag, packLineConfig, packLineRequest, packLineValues, requestFd, unpackLineEvents, unpackLineValues, type LineConfig } from './uapi.js'

export type Bias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled'
export type EventClock = 'monotonic' | 'realtime'

export interface CharDevGpioOptions extends GpioOptions {
  bias?: Bias
  /** Which clock the kernel stamps edges with; realtime (the default here) lines up with the chain's wall-clock time. */
  eventClock?: EventClock
}

export interface CharDevLineTarget {
  addon: GpiochipAddon
  chipPath: string
  chipLabel: string
  consumer: string
}

const EVENTS_PER_READ = 16

function errno (code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`)
  err.code = code
  return err
}

export class CharDevGpio {
  readonly offset: number
  readonly #t: CharDevLineTarget
  readonly #debounceMs: number
  readonly #bias: Bias
  readonly #clock: EventClock
  #fd = -1
  #direction: 'in' | 'out'
  #edge: Edge = 'none'
  #activeLow: boolean
  #listeners: ValueCallback[] = []
  #poller: object | undefined
  #lastLineSeqno = 0

  constructor (target: CharDevLineTarget, offset: number, direction: Direction, edge?: Edge | CharDevGpioOptions, options?: CharDevGpioOptions) {
    if (typeof edge === 'object' && !options) { options = edge; edge = undefined }
    const opts = options ?? {}
    this.#t = target
    this.offset = offset
    this.#debounceMs = opts.debounceTimeout ?? 0
    this.#bias = opts.bias ?? 'as-is'
    this.#clock = opts.eventClock ?? 'realtime'
    this.#activeLow = opts.activeLow ?? false
    if (!['as-is', 'pull-up', 'pull-down', 'disabled'].includes(this.#bias)) throw new TypeError(`"bias" expected as-is, pull-up, pull-down or disabled, got ${String(this.#bias)}`)
    if (!['in', 'out', 'high', 'low'].includes(direction)) throw errno('EINVAL', `direction ${String(direction)}`)
    this.#direction = direction === 'in' ? 'in' : 'out'
    if (direction === 'in' && edge) this.#edge = checkEdge(edge as Edge)
    const fd = openChip(target.chipPath)
    try {
      const req = packLineRequest({ offsets: [offset], consumer: target.consumer, config: this.#config(direction === 'high' ? 1 : 0) })
      target.addon.ioctl(fd, Ioctl.GPIO_V2_GET_LINE_IOCTL, req)
      this.#fd = requestFd(req)
    } finally {
      closeSync(fd)
    }
  }

  /** The request's flags and attributes; `initial` is the logical value an output starts with. */
  #config (initial: BinaryValue): LineConfig {
    let flags = this.#direction === 'in' ? LineFlag.INPUT : LineFlag.OUTPUT
    if (this.#activeLow) flags |= LineFlag.ACTIVE_LOW
    if (this.#bias === 'pull-up') flags |= LineFlag.BIAS_PULL_UP
    else if (this.#bias === 'pull-down') flags |= LineFlag.BIAS_PULL_DOWN
    else if (this.#bias === 'disabled') flags |= LineFlag.BIAS_DISABLED
    const attrs: LineConfig['attrs'] = []
    if (this.#direction === 'in') {
      if (this.#edge === 'rising' || this.#edge === 'both') flags |= LineFlag.EDGE_RISING
      if (this.#edge === 'falling' || this.#edge === 'both') flags |= LineFlag.EDGE_FALLING
      if (this.#edge !== 'none' && this.#clock === 'realtime') flags |= LineFlag.EVENT_CLOCK_REALTIME
      if (this.#debounceMs > 0) attrs.push({ id: AttrId.DEBOUNCE, debounceUs: Math.round(this.#debounceMs * 1000), mask: 1n })
    } else {
      attrs.push({ id: AttrId.OUTPUT_VALUES, values: BigInt(initial), mask: 1n })
    }
    return { flags, attrs }
  }

  #reconfigure (initial: BinaryValue = 0): void {
    this.#t.addon.ioctl(this.#open(), Ioctl.GPIO_V2_LINE_SET_CONFIG_IOCTL, packLineConfig(this.#config(initial)))
  }

  read (callback: ValueCallback): void
  read (): Promise<BinaryValue>
  read (callback?: ValueCallback): Promise<BinaryValue> | void {
    // The ioctl does not block (it reads a register, or gpio-sim's state), so async is only the onoff shape.
    return readLater(() => this.readSync(), callback)
  }

  readSync (): BinaryValue {
    const buf = packLineValues(0n, 1n)
    this.#t.addon.ioctl(this.#open(), Ioctl.GPIO_V2_LINE_GET_VALUES_IOCTL, buf)
    return (unpackLineValues(buf) & 1n) === 1n ? 1 : 0
  }

  write (value: BinaryValue, callback: (err: Error | null | undefined) => void): void
  write (value: BinaryValue): Promise<void>
  write (value: BinaryValue, callback?: (err: Error | null | undefined) => void): Promise<void> | void {
    return writeLater(() => this.writeSync(value), callback)
  }

  writeSync (value: BinaryValue): void {
    // The kernel refuses SET_VALUES on an input with EPERM, as sysfs does: no check of our own needed.
    this.#t.addon.ioctl(this.#open(), Ioctl.GPIO_V2_LINE_SET_VALUES_IOCTL, packLineValues(value === 1 ? 1n : 0n, 1n))
  }

  watch (callback: ValueCallback): void {
    this.#open()
    this.#listeners.push(callback)
    this.#poller ??= this.#t.addon.poll(this.#fd, (err) => this.#onReadable(err))
  }

  unwatch (callback?: ValueCallback): void {
    this.#listeners = typeof callback === 'function' ? this.#listeners.filter((l) => l !== callback) : []
    if (this.#listeners.length === 0) this.#stopPoll()
  }

  unwatchAll (): void { this.unwatch() }

  direction (): Direction { this.#open(); return this.#direction }

  setDirection (direction: Direction): void {
    if (!['in', 'out', 'high', 'low'].includes(direction)) throw errno('EINVAL', `direction ${String(direction)}`)
    const before = this.#direction
    this.#direction = direction === 'in' ? 'in' : 'out'
    try { this.#reconfigure(direction === 'high' ? 1 : 0) } catch (err) { this.#direction = before; throw err }
  }

  edge (): Edge { this.#open(); return this.#edge }

  setEdge (edge: Edge): void {
    checkEdge(edge)
    const before = this.#edge
    this.#edge = edge
    try { this.#reconfigure() } catch (err) { this.#edge = before; throw err }
  }

  activeLow (): boolean { this.#open(); return this.#activeLow }

  setActiveLow (invert: boolean): void {
    const before = this.#activeLow
    // Keep an output's physical level: the logical value flips with the polarity.
    const value = this.#direction === 'out' ? this.readSync() : 0
    this.#activeLow = !!invert
    try { this.#reconfigure((before === this.#activeLow ? value : value ^ 1) as BinaryValue) } catch (err) { this.#activeLow = before; throw err }
  }

  /** Releases the line (close of the request fd). */
  unexport (): void {
    this.unwatchAll()
    if (this.#fd >= 0) { closeSync(this.#fd); this.#fd = -1 }
  }

  #stopPoll (): void {
    if (this.#poller) { this.#t.addon.unpoll(this.#poller); this.#poller = undefined }
  }

  #onReadable (err: string | null): void {
    if (err) {
      const e = errno(err, `poll on ${this.#t.chipPath} line ${this.offset}`)
      this.#stopPoll()
      for (const l of [...this.#listeners]) l(e, 0)
      return
    }
    const buf = new Uint8Array(LAYOUT.gpio_v2_line_event.size * EVENTS_PER_READ)
    let n: number
    // poll said readable and we are the only reader, so this read returns at once.
    try { n = readSync(this.#fd, buf, 0, buf.length, null) } catch (e) {
      for (const l of [...this.#listeners]) l(e as Error, 0)
      return
    }
    for (const ev of unpackLineEvents(buf.subarray(0, n))) {
      // Edges are reported in logical terms (rising = inactive to active), so the value follows active-low.
      const value: BinaryValue = ev.id === EventId.RISING_EDGE ? 1 : 0
      const dropped = this.#lastLineSeqno > 0 && ev.lineSeqno > this.#lastLineSeqno + 1 ? ev.lineSeqno - this.#lastLineSeqno - 1 : 0
      this.#lastLineSeqno = ev.lineSeqno
      const info: GpioEdgeEvent = {
        chip: this.#t.chipLabel,
        device: this.#t.chipPath,
        offset: ev.offset,
        edge: value === 1 ? 'rising' : 'falling',
        timestampNs: ev.timestampNs,
        clock: this.#clock,
        seqno: ev.seqno,
        lineSeqno: ev.lineSeqno,
        dropped
      }
      for (const l of [...this.#listeners]) l(null, value, info)
    }
  }

  #open (): number {
    if (this.#fd < 0) throw errno('EBADF', `${this.#t.chipPath} line ${this.offset} was released (unexport)`)
    return this.#fd
  }
}

function checkEdge (edge: Edge): Edge {
  if (!['none', 'rising', 'falling', 'both'].includes(edge)) throw errno('EINVAL', `edge ${String(edge)}`)
  return edge
}
