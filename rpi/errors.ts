// Error codes of the Raspberry Pi bridge: PcpError codes like runtime/errors.ts's ErrorCodes, kept with
// the bridge so the core does not name an optional subpath. test/errors.test.ts lists every table.
export const RpiErrorCodes = {
  /** /sys/class/gpio is absent: no sysfs GPIO in this kernel, or not a Linux board at all. */
  GPIO_SYSFS_MISSING: 'GPIO_SYSFS_MISSING',
  /** sysfs GPIO exists but no gpiochip carries the 40-pin header (unknown board): pass `chipLabel`. */
  GPIO_CHIP_NOT_FOUND: 'GPIO_CHIP_NOT_FOUND',
  /** The BCM number is not a line of the header chip (e.g. 60 on a chip with ngpio 58). */
  GPIO_PIN_OUT_OF_RANGE: 'GPIO_PIN_OUT_OF_RANGE',
  /** The process may not write /sys/class/gpio/export: not root and not in the `gpio` group. */
  GPIO_ACCESS_DENIED: 'GPIO_ACCESS_DENIED',
  /** Writing the number to `export` did not make gpioN/ appear (wrong number, pin claimed by a driver). */
  GPIO_EXPORT_FAILED: 'GPIO_EXPORT_FAILED',
  /** The optional peer `onoff` is not installed (or its epoll addon is not built) and no backend was injected. */
  GPIO_BACKEND_MISSING: 'GPIO_BACKEND_MISSING',
  /** A stamp of this bridge failed; the audited object refuses further actions it could not record. */
  AUDIT_FAILED: 'AUDIT_FAILED',
  /** The gate refused an actuator command; a `rpi_actuator_blocked` event was stamped. */
  ACTUATOR_BLOCKED: 'ACTUATOR_BLOCKED'
} as const

export type RpiErrorCode = typeof RpiErrorCodes[keyof typeof RpiErrorCodes]
