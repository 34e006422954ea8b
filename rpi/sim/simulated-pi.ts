// STAND-IN: a simulated Raspberry Pi GPIO header, not hardware. Its Gpio class copies onoff 6's
// semantics (sysfs numbering from the chip base, export reuse, active_low inversion, 'high'/'low'
// directions, edge filtering after reading the value, trailing debounce, EPERM on writing an input) so
// scripts and tests exercise the same calls as on a Pi. It exists because edge interrupts cannot be
// produced by a tmpfs (epoll refuses regular files), and so the demo runs on machines with no GPIO.
// Everything it stamps through AuditedGpio says backend "simulated".
import { resolveOnChip, type PinResolution, type SysfsChipInfo } from '../chip.js'
import type { BinaryValue, Direction, Edge, GpioBackend, GpioOptions, OnoffLikeClass, OnoffLikeGpio, ValueCallback } from '../backend.js'
import { readLater, writeLater } from '../backend.js'

interface Line {
  exported: boolean
  direction: 'in' | 'out'
  edge: Edge
  activeLow: boolean
  /** Physical level on the wire (what setInput drives or an output writes), before active_low. */
  level: BinaryValue
}

function errno (code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`)
  err.code = code
  return err
}

export interface SimulatedPiOptions {
  /** Sysfs base of the header chip: 0 (old kernels), 512 (Pi 4, kernel 6.6+), 571 (Pi 5). */
  base?: number
  label?: string
  ngpio?: number
}

export class SimulatedPi {
  readonly chip: SysfsChipInfo
  readonly backend: GpioBackend
  readonly #lines = new Map<number, Line>()
  readonly #instances = new Set<SimGpio>()

  constructor (opts: SimulatedPiOptions = {}) {
    const base = opts.base ?? 512
    this.chip = { name: `gpiochip${base}`, base, ngpio: opts.ngpio ?? 58, label: opts.label ?? 'pinctrl-bcm2711' }
    const pi = this
    const Gpio = class extends SimGpio {
      static readonly accessible = true
      static readonly HIGH = 1 as const
      static readonly LOW = 0 as const
      constructor (gpio: number, direction: Direction, edge?: Edge | GpioOptions, options?: GpioOptions) {
        super(pi, gpio, direction, edge, options)
      }
    }
    this.backend = {
      name: 'simulated',
      simulated: true,
      Gpio: Gpio as unknown as OnoffLikeClass,
      resolvePin: (bcm: number): PinResolution => resolveOnChip(bcm, this.chip),
      preflight: () => {}
    }
  }

  /** Drives the wire of an input pin (a button, a sensor's data line). Fires edges like the kernel would. */
  setInput (bcm: number, level: BinaryValue): void {
    const line = this.#line(this.chip.base + bcm)
    if (line.level === level) return
    line.level = level
    if (line.direction !== 'in') return
    for (const g of this.#instances) if (g.sysfs === this.chip.base + bcm) g._interrupt()
  }

  /** The physical level of a pin (what an LED on it would show). */
  level (bcm: number): BinaryValue { return this.#line(this.chip.base + bcm).level }

  isExported (bcm: number): boolean { return this.#lines.get(this.chip.base + bcm)?.exported ?? false }

  /** @internal */
  _line (sysfs: number): Line { return this.#line(sysfs) }
  /** @internal */
  _register (g: SimGpio, on: boolean): void { if (on) this.#instances.add(g); else this.#instances.delete(g) }

  #line (sysfs: number): Line {
    if (sysfs < this.chip.base || sysfs >= this.chip.base + this.chip.ngpio) throw errno('EINVAL', `write '${sysfs}' to export: no such GPIO`)
    let line = this.#lines.get(sysfs)
    if (!line) this.#lines.set(sysfs, line = { exported: false, direction: 'in', edge: 'none', activeLow: false, level: 0 })
    return line
  }
}

class SimGpio implements OnoffLikeGpio {
  readonly sysfs: number
  readonly #pi: SimulatedPi
  readonly #debounce: number
  #listeners: ValueCallback[] = []
  #closed = false
  #timer: NodeJS.Timeout | undefined

  constructor (pi: SimulatedPi, gpio: number, direction: Direction, edge?: Edge | GpioOptions, options?: GpioOptions) {
    if (typeof edge === 'object' && !options) { options = edge; edge = undefined }
    const opts = options ?? {}
    this.#pi = pi
    this.sysfs = gpio
    this.#debounce = opts.debounceTimeout ?? 0
    const line = pi._line(gpio)
    const fresh = !line.exported
    line.exported = true
    // As onoff: a fresh export is configured fully; a re-used one keeps its direction unless asked.
    if (typeof opts.activeLow === 'boolean') line.activeLow = opts.activeLow
    if (fresh || opts.reconfigureDirection !== false) this.setDirection(direction)
    if (edge && direction === 'in') this.setEdge(edge as Edge)
    pi._register(this, true)
  }

  read (callback: ValueCallback): void
  read (): Promise<BinaryValue>
  read (callback?: ValueCallback): Promise<BinaryValue> | void {
    return readLater(() => this.readSync(), callback)
  }

  readSync (): BinaryValue {
    const line = this.#open()
    return (line.level ^ (line.activeLow ? 1 : 0)) as BinaryValue
  }

  write (value: BinaryValue, callback: (err: Error | null | undefined) => void): void
  write (value: BinaryValue): Promise<void>
  write (value: BinaryValue, callback?: (err: Error | null | undefined) => void): Promise<void> | void {
    return writeLater(() => this.writeSync(value), callback)
  }

  writeSync (value: BinaryValue): void {
    const line = this.#open()
    if (line.direction !== 'out') throw errno('EPERM', `write gpio${this.sysfs}/value: operation not permitted on an input`)
    line.level = ((value === 1 ? 1 : 0) ^ (line.activeLow ? 1 : 0)) as BinaryValue
  }

  watch (callback: ValueCallback): void { this.#open(); this.#listeners.push(callback) }

  unwatch (callback?: ValueCallback): void {
    this.#listeners = typeof callback === 'function' ? this.#listeners.filter((l) => l !== callback) : []
    if (this.#listeners.length === 0 && this.#timer) { clearTimeout(this.#timer); this.#timer = undefined }
  }

  unwatchAll (): void { this.unwatch() }

  direction (): Direction { return this.#open().direction }

  setDirection (direction: Direction): void {
    const line = this.#open()
    if (direction === 'high' || direction === 'low') {
      line.direction = 'out'
      line.level = ((direction === 'high' ? 1 : 0) ^ (line.activeLow ? 1 : 0)) as BinaryValue
    } else if (direction === 'in' || direction === 'out') {
      line.direction = direction
    } else {
      throw errno('EINVAL', `write '${String(direction)}' to gpio${this.sysfs}/direction`)
    }
  }

  edge (): Edge { return this.#open().edge }

  setEdge (edge: Edge): void {
    if (!['none', 'rising', 'falling', 'both'].includes(edge)) throw errno('EINVAL', `write '${String(edge)}' to gpio${this.sysfs}/edge`)
    this.#open().edge = edge
  }

  activeLow (): boolean { return this.#open().activeLow }
  setActiveLow (invert: boolean): void { this.#open().activeLow = !!invert }

  unexport (): void {
    this.unwatchAll()
    this.#closed = true
    this.#pi._line(this.sysfs).exported = false
    this.#pi._register(this, false)
  }

  /** @internal The kernel saw an edge on the wire. onoff reads the value when epoll wakes it (later). */
  _interrupt (): void {
    const line = this.#pi._line(this.sysfs)
    if (this.#closed || this.#listeners.length === 0 || line.edge === 'none') return
    if (this.#debounce > 0) {
      // lodash.debounce, trailing: one delivery once edges have stopped for debounceTimeout ms.
      if (this.#timer) clearTimeout(this.#timer)
      this.#timer = setTimeout(() => { this.#timer = undefined; this.#deliver() }, this.#debounce)
    } else {
      setImmediate(() => this.#deliver())
    }
  }

  #deliver (): void {
    if (this.#closed) return
    const line = this.#pi._line(this.sysfs)
    const value = this.readSync()
    const rising = line.edge === 'both' || line.edge === 'rising'
    const falling = line.edge === 'both' || line.edge === 'falling'
    if ((value === 1 && rising) || (value === 0 && falling)) {
      for (const cb of this.#listeners.slice(0)) cb(null, value)
    }
  }

  #open (): Line {
    if (this.#closed) throw errno('EBADF', `gpio${this.sysfs} was unexported`)
    return this.#pi._line(this.sysfs)
  }
}
