// BCM pin number → sysfs GPIO number. Users write BCM numbers (the ones on every pinout chart), but the
// sysfs interface that onoff drives numbers lines globally: chip base + line offset. Kernels before 6.6
// gave the header chip base 0, so BCM 17 was gpio17; Raspberry Pi OS kernels 6.6+ register the chips from
// 512 upwards (Pi 4: gpiochip512 "pinctrl-bcm2711"; Pi 5: the header lives on the RP1, gpiochip571
// "pinctrl-rp1"), so gpio17 is now some other line or nothing, and onoff fails with EINVAL. We therefore
// never assume a base: we find the header chip by its label and add its base.
import { accessSync, constants, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PcpError } from '../runtime/errors.js'
import { RpiErrorCodes } from './errors.js'

export const SYSFS_GPIO_ROOT = '/sys/class/gpio'

/**
 * Labels of the chip that carries the 40-pin header's GPIO0..27, most specific first. On a Pi 5 the
 * BCM2712's own controllers ("gpio-brcmstb@…") also appear, at lower bases: they are not the header, so
 * only pinctrl-rp1 may be chosen there. "raspberrypi-exp-gpio" (firmware expander) is never the header.
 */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const

export interface GpioChipInfo {
  /** Directory or device name, e.g. "gpiochip512" (sysfs) or "gpiochip0" (/dev). */
  name: string
  /** sysfs base; null on the character device, which has no global GPIO numbers. */
  base: number | null
  ngpio: number
  label: string
  /** The character device, e.g. "/dev/gpiochip0"; absent for chips read from sysfs. */
  path?: string
}

/** A chip as sysfs lists it: always with a base. */
export interface SysfsChipInfo extends GpioChipInfo { base: number }

export interface PinResolution {
  /** What the user gave. */
  bcm: number
  /** What gets written to /sys/class/gpio/export: chip.base + bcm; null on the character device. */
  sysfs: number | null
  /** The number the backend's Gpio constructor takes: `sysfs` for onoff, the line offset (= BCM) on the character device. */
  line: number
  chip: GpioChipInfo
  /** How the chip was chosen: by a known Pi label, or by the caller's `chipLabel`. */
  rule: 'known-label' | 'chip-label-option'
}

export interface ResolveOptions {
  /** The sysfs GPIO directory; tests point it at a simulated tree. */
  root?: string
  /** Use the chip with exactly this label (for boards whose header chip has another name). */
  chipLabel?: string
}

/** The gpiochipN entries under root. Throws GPIO_SYSFS_MISSING, with what to do, when there is no sysfs GPIO. */
export function listGpioChips (root: string = SYSFS_GPIO_ROOT): SysfsChipInfo[] {
  let names: string[]
  try {
    names = readdirSync(root)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw sysfsMissing(root, err)
    throw err
  }
  const chips: SysfsChipInfo[] = []
  for (const name of names) {
    if (!/^gpiochip\d+$/.test(name)) continue
    const dir = join(root, name)
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8').trim()
    const base = Number(read('base'))
    const ngpio = Number(read('ngpio'))
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(ngpio)) continue
    chips.push({ name, base, ngpio, label: read('label') })
  }
  return chips.sort((a, b) => a.base - b.base)
}

/** Picks the header chip among `chips` (pure: tests and `pcp rpi pins` feed it any list). */
export function pickHeaderChip<C extends GpioChipInfo> (chips: C[], chipLabel?: string): { chip: C, rule: PinResolution['rule'] } {
  if (chipLabel !== undefined) {
    const chip = chips.find((c) => c.label === chipLabel)
    if (chip) return { chip, rule: 'chip-label-option' }
  } else {
    for (const label of HEADER_CHIP_LABELS) {
      const chip = chips.find((c) => c.label === label)
      if (chip) return { chip, rule: 'known-label' }
    }
  }
  const found = chips.length ? chips.map((c) => `${c.path ?? c.name} "${c.label}" (${c.base === null ? '' : `base ${c.base}, `}${c.ngpio} lines)`).join(', ') : 'none'
  const wanted = chipLabel !== undefined ? `"${chipLabel}"` : HEADER_CHIP_LABELS.map((l) => `"${l}"`).join(' or ')
  throw new PcpError(RpiErrorCodes.GPIO_CHIP_NOT_FOUND,
    `no GPIO chip labelled ${wanted}; chips found: ${found}. If this board's header chip has another label, pass { chipLabel }`,
    { expected: wanted, actual: chips.map((c) => c.label) })
}

/** BCM → sysfs for one pin, reading the chips from sysfs. */
export function resolveBcmPin (bcm: number, opts: ResolveOptions = {}): PinResolution {
  checkBcm(bcm)
  const { chip, rule } = pickHeaderChip(listGpioChips(opts.root ?? SYSFS_GPIO_ROOT), opts.chipLabel)
  return resolveOnChip(bcm, chip, rule)
}

/** BCM → sysfs on a known chip; GPIO_PIN_OUT_OF_RANGE when the chip has no such line. */
export function resolveOnChip (bcm: number, chip: GpioChipInfo, rule: PinResolution['rule'] = 'known-label'): PinResolution {
  checkBcm(bcm)
  if (bcm >= chip.ngpio) {
    throw new PcpError(RpiErrorCodes.GPIO_PIN_OUT_OF_RANGE,
      `BCM pin ${bcm} does not exist on ${chip.path ?? chip.name} "${chip.label}", which has lines 0..${chip.ngpio - 1}`,
      { field: 'pin', expected: `0..${chip.ngpio - 1}`, actual: bcm })
  }
  // On the character device the BCM number is the line offset itself; sysfs adds the chip's base.
  if (chip.base === null) return { bcm, sysfs: null, line: bcm, chip, rule }
  return { bcm, sysfs: chip.base + bcm, line: chip.base + bcm, chip, rule }
}

/**
 * Fails early, with the fix, when this process may not export pins (onoff's own error would be a bare
 * EACCES from deep inside its constructor).
 */
export function checkExportAccess (root: string = SYSFS_GPIO_ROOT): void {
  const exportPath = join(root, 'export')
  try {
    statSync(root)
  } catch (err) {
    throw sysfsMissing(root, err)
  }
  try {
    accessSync(exportPath, constants.W_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw sysfsMissing(root, err)
    throw new PcpError(RpiErrorCodes.GPIO_ACCESS_DENIED,
      `cannot write ${exportPath} (${code}): run as a user in the "gpio" group (sudo usermod -aG gpio $USER, then log in again) or as a systemd service with SupplementaryGroups=gpio`,
      { file: exportPath, cause: err })
  }
}

function sysfsMissing (root: string, cause: unknown): PcpError {
  return new PcpError(RpiErrorCodes.GPIO_SYSFS_MISSING,
    `${root} does not exist: this kernel has no sysfs GPIO interface (CONFIG_GPIO_SYSFS), or this is not a Raspberry Pi. ` +
    'onoff needs sysfs GPIO. On a machine without GPIO, pass a simulated backend (new SimulatedPi().backend) instead',
    { file: root, cause })
}

function checkBcm (bcm: number): void {
  if (!Number.isSafeInteger(bcm) || bcm < 0) throw new RangeError(`"pin" expected a BCM GPIO number (a whole number >= 0), got ${String(bcm)}`)
}
