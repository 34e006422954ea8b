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
  ACTUATOR_BLOCKED: 'ACTUATOR_BLOCKED',
  /** A 1-Wire sensor's w1_slave could not be read or is not in the kernel's format (sensor gone, no w1-gpio overlay). */
  W1_READ_FAILED: 'W1_READ_FAILED',
  /** The kernel read the DS18B20 scratchpad with a bad CRC (`crc=.. NO`) or its bytes do not match it: a bad wire, not a temperature. */
  W1_CRC_FAILED: 'W1_CRC_FAILED',
  /** The DS18B20 answered its power-on reset value (85 °C, scratchpad 50 05): it lost power or was read before a conversion. */
  W1_POWER_ON_VALUE: 'W1_POWER_ON_VALUE',
  /** The optional peer `i2c-bus` is not installed (or its addon is not built) and no bus was injected. */
  I2C_BACKEND_MISSING: 'I2C_BACKEND_MISSING',
  /** /sys/class/pwm/pwmchipN is absent (no PWM overlay, e.g. dtoverlay=pwm-2chan) or the channel is out of range. */
  PWM_MISSING: 'PWM_MISSING',
  /** Writing the channel to `export` did not make pwmN/ appear, or a sysfs write was refused (EINVAL: duty above period). */
  PWM_WRITE_FAILED: 'PWM_WRITE_FAILED'
} as const

export type RpiErrorCode = typeof RpiErrorCodes[keyof typeof RpiErrorCodes]
