// The GPIO adapter interface: onoff's class shape, plus how a backend turns BCM numbers into its own.
// onoff is an optional peer (it needs a native addon and only makes sense on Linux boards), so it is
// loaded lazily here and never at import time; its types are restated so our .d.ts files do not
// reference 'onoff' and type-check for users who do not have it.
import { createRequire } from 'node:module'
import { PcpError } from '../runtime/errors.js'
import { RpiErrorCodes } from './errors.js'
import { SYSFS_GPIO_ROOT, checkExportAccess, resolveBcmPin, type PinResolution } from './chip.js'

export type BinaryValue = 0 | 1
export type Direction = 'in' | 'out' | 'high' | 'low'
export type Edge = 'none' | 'rising' | 'falling' | 'both'
export interface GpioOptions {
  debounceTimeout?: number
  activeLow?: boolean
  reconfigureDirection?: boolean
  /** Pull resistor: character device only (sysfs cannot set bias); other backends refuse it. */
  bias?: 'as-is' | 'pull-up' | 'pull-down' | 'disabled'
}
/** What the character device tells about an edge, beyond onoff's value (passed as the callback's third argument). */
export interface GpioEdgeEvent {
  /** Header chip label and device, e.g. "pinctrl-bcm2711", "/dev/gpiochip0". */
  chip: string
  device: string
  /** Line offset on the chip (= the BCM number on the header chip). */
  offset: number
  edge: 'rising' | 'falling'
  /** When the kernel saw the edge, in ns of `clock` (stamped in the interrupt handler, not when we woke up). */
  timestampNs: bigint
  clock: 'monotonic' | 'realtime'
  seqno: number
  lineSeqno: number
  /** Edges the kernel dropped before this one (its event queue overflowed), from the line's sequence numbers. */
  dropped: number
}
export type ValueCallback = (err: Error | null | undefined, value: BinaryValue, event?: GpioEdgeEvent) => void

/** onoff's async read(): the synchronous read on the next turn, to a callback or as a promise. */
export function readLater (readSync: () => BinaryValue, callback?: ValueCallback): Promise<BinaryValue> | void {
  const p = new Promise<BinaryValue>((resolve, reject) => setImmediate(() => {
    try { resolve(readSync()) } catch (err) { reject(err) }
  }))
  if (!callback) return p
  p.then((v) => callback(null, v), (err: Error) => callback(err, 0))
}

/** onoff's async write(), likewise. */
export function writeLater (writeSync: () => void, callback?: (err: Error | null | undefined) => void): Promise<void> | void {
  const p = new Promise<void>((resolve, reject) => setImmediate(() => {
    try { writeSync(); resolve() } catch (err) { reject(err) }
  }))
  if (!callback) return p
  p.then(() => callback(null), (err: Error) => callback(err))
}

/** One exported line, as onoff 6 exposes it. */
export interface OnoffLikeGpio {
  read (callback: ValueCallback): void
  read (): Promise<BinaryValue>
  readSync (): BinaryValue
  write (value: BinaryValue, callback: (err: Error | null | undefined) => void): void
  write (value: BinaryValue): Promise<void>
  writeSync (value: BinaryValue): void
  watch (callback: ValueCallback): void
  unwatch (callback?: ValueCallback): void
  unwatchAll (): void
  direction (): Direction
  setDirection (direction: Direction): void
  edge (): Edge
  setEdge (edge: Edge): void
  activeLow (): boolean
  setActiveLow (invert: boolean): void
  unexport (): void
}

/** onoff's `Gpio` class shape: takes the sysfs number, not the BCM number. */
export interface OnoffLikeClass {
  new (gpio: number, direction: Direction, edge?: Edge, options?: GpioOptions): OnoffLikeGpio
  new (gpio: number, direction: Direction, options?: GpioOptions): OnoffLikeGpio
  readonly accessible: boolean
  readonly HIGH: 1
  readonly LOW: 0
}

export interface GpioBackend {
  /** "chardev", "onoff" or "simulated"; stamped in rpi_gpio_setup so a chain says whether it saw real hardware. */
  readonly name: string
  readonly simulated: boolean
  /** The onoff-compatible class. A getter on the onoff backend, so a missing onoff fails only when used. */
  readonly Gpio: OnoffLikeClass
  resolvePin (bcm: number): PinResolution
  /** Called before export; throws a coded error with the fix (no sysfs, no permission). */
  preflight (resolution: PinResolution): void
  /** Whether options.bias can be honoured (only the character device can set pull resistors). */
  readonly supportsBias?: boolean
}

export interface OnoffBackendOptions {
  /** Where the chips are read. onoff itself always uses /sys/class/gpio. */
  sysfsRoot?: string
  chipLabel?: string
  /** Loads the onoff module; defaults to require('onoff'). Tests inject one that fails. */
  requireOnoff?: () => unknown
}

const requireFromHere = createRequire(import.meta.url)

/** require('onoff').Gpio, or GPIO_BACKEND_MISSING saying what to install. */
export function loadOnoff (requireOnoff: () => unknown = () => requireFromHere('onoff')): OnoffLikeClass {
  let mod: { Gpio?: OnoffLikeClass }
  try {
    mod = requireOnoff() as { Gpio?: OnoffLikeClass }
  } catch (err) {
    const notFound = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'onoff'/.test((err as Error).message)
    throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING, notFound
      ? 'pcp-edge/rpi needs the optional peer "onoff" for real GPIO: npm install onoff@6 (its epoll addon builds with: sudo apt install build-essential). Without GPIO hardware, pass { backend: new SimulatedPi().backend }'
      : `"onoff" is installed but could not be loaded (${(err as Error).message}); its native epoll addon must be built on this machine (npm rebuild epoll)`,
    { cause: err })
  }
  if (typeof mod.Gpio !== 'function') throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING, '"onoff" was loaded but exports no Gpio class: onoff 6 is required')
  return mod.Gpio
}

/** The real backend: onoff over sysfs, with BCM numbers resolved from the header chip's base. */
export function onoffBackend (opts: OnoffBackendOptions = {}): GpioBackend {
  const root = opts.sysfsRoot ?? SYSFS_GPIO_ROOT
  const load = (): OnoffLikeClass => loadOnoff(opts.requireOnoff)
  let cls: OnoffLikeClass | undefined
  return {
    name: 'onoff',
    simulated: false,
    get Gpio () { return (cls ??= load()) },
    resolvePin: (bcm) => resolveBcmPin(bcm, { root, chipLabel: opts.chipLabel }),
    preflight: () => checkExportAccess(root)
  }
}
