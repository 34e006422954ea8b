// Setting up one audited pin (rpi/gpio.ts), apart from the hardware call itself: the options handed to
// the backend's onoff-like Gpio, what the rpi_gpio_setup event records about the pin (which line of which
// chip, through which backend, configured how), and an export that failed as a coded error that says
// what probably happened.
import { PcpError } from '../runtime/errors.js'
import { RpiErrorCodes } from './errors.js'
import type { Payload } from './audit.js'
import type { Direction, Edge, GpioBackend, GpioOptions } from './backend.js'
import type { PinResolution } from './chip.js'

/** The onoff options the caller set, without the audit's own (audit, backend, hashValues, label, sampling). */
export function onoffOptions (opts: GpioOptions): GpioOptions {
  const gpioOpts: GpioOptions = {}
  if (opts.debounceTimeout !== undefined) gpioOpts.debounceTimeout = opts.debounceTimeout
  if (opts.activeLow !== undefined) gpioOpts.activeLow = opts.activeLow
  if (opts.reconfigureDirection !== undefined) gpioOpts.reconfigureDirection = opts.reconfigureDirection
  if (opts.bias !== undefined) gpioOpts.bias = opts.bias
  return gpioOpts
}

/** The rpi_gpio_setup payload; `edge` is the one in force ('none' for an output). */
export function setupPayload (pin: number, r: PinResolution, backend: GpioBackend, direction: Direction, edge: Edge, opts: GpioOptions & { label?: string }): Payload {
  const setup: Payload = {
    pin,
    sysfs_gpio: r.sysfs,
    chip: r.chip.label,
    chip_base: r.chip.base,
    direction,
    edge,
    active_low: opts.activeLow ?? false,
    debounce_ms: opts.debounceTimeout ?? 0,
    backend: backend.name,
    simulated: backend.simulated
  }
  // The character device has no global numbers: the chain names the device and the line offset instead.
  if (r.chip.path !== undefined) { setup.chip_device = r.chip.path; setup.line_offset = r.line }
  if (opts.bias !== undefined) setup.bias = opts.bias
  if (opts.label !== undefined) setup.label = opts.label
  return setup
}

/** Turns onoff's bare errno errors from export into coded errors that say what probably happened. */
export function exportError (r: PinResolution, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  const where = r.sysfs === null
    ? `BCM ${r.bcm} (line ${r.line} of ${r.chip.path ?? r.chip.name} "${r.chip.label}")`
    : `BCM ${r.bcm} (sysfs gpio${r.sysfs} = ${r.chip.name} "${r.chip.label}" base ${r.chip.base} + ${r.bcm})`
  if (code === 'EACCES' || code === 'EPERM') {
    return new PcpError(RpiErrorCodes.GPIO_ACCESS_DENIED, `cannot export ${where}: ${code}; run as a user in the "gpio" group`, { field: 'pin', actual: r.bcm, cause: err })
  }
  if (code === 'ENOENT' || code === 'EINVAL' || code === 'EBUSY') {
    const why = code === 'EBUSY' ? 'the line is claimed by a kernel driver or another process (1-wire, I2C, SPI overlays, gpiod users; see gpioinfo)'
      : code === 'EINVAL' ? 'the kernel has no such GPIO number'
        : 'the gpioN directory never appeared after export'
    return new PcpError(RpiErrorCodes.GPIO_EXPORT_FAILED, `cannot export ${where}: ${code}, ${why}`, { field: 'pin', actual: r.bcm, cause: err })
  }
  return err
}
