// The GPIO chips of the character device (/dev/gpiochipN), found by label like sysfs ones (chip.ts), but
// read with GPIO_GET_CHIPINFO_IOCTL: the device has no global numbers, so BCM n is line offset n of the
// header chip, on every kernel, whatever sysfs base the chip would have had.
import { closeSync, openSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PcpError } from '../../runtime/errors.js'
import { RpiErrorCodes } from '../errors.js'
import type { GpioChipInfo } from '../chip.js'
import type { GpiochipAddon } from './addon.js'
import { Ioctl, LAYOUT, packLineInfoQuery, unpackChipInfo, unpackLineInfo, type LineInfo } from './uapi.js'

export const GPIO_DEV_ROOT = '/dev'

/** Opens a chip read-write (the line request ioctl needs it), with a coded error saying how to get access. */
export function openChip (path: string): number {
  try {
    return openSync(path, 'r+')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') {
      throw new PcpError(RpiErrorCodes.GPIO_ACCESS_DENIED,
        `cannot open ${path} (${code}): run as a user in the "gpio" group (Raspberry Pi OS's udev rule gives /dev/gpiochip* to it: sudo usermod -aG gpio $USER, then log in again) or as a systemd service with SupplementaryGroups=gpio`,
        { file: path, cause: err })
    }
    throw err
  }
}

/** Every /dev/gpiochipN with its label and line count, sorted by N. */
export function listCharDevChips (addon: GpiochipAddon, devRoot: string = GPIO_DEV_ROOT): GpioChipInfo[] {
  const names = readdirSync(devRoot).filter((n) => /^gpiochip\d+$/.test(n)).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
  if (names.length === 0) {
    throw new PcpError(RpiErrorCodes.GPIO_CHIP_NOT_FOUND,
      `no ${join(devRoot, 'gpiochip*')}: this kernel exposes no GPIO character devices (CONFIG_GPIO_CDEV), or this is not a board with GPIO. On a machine without GPIO, pass a simulated backend (new SimulatedPi().backend)`,
      { file: devRoot, actual: [] })
  }
  return names.map((name) => {
    const path = join(devRoot, name)
    const fd = openChip(path)
    try {
      const buf = new Uint8Array(LAYOUT.gpiochip_info.size)
      addon.ioctl(fd, Ioctl.GPIO_GET_CHIPINFO_IOCTL, buf)
      const info = unpackChipInfo(buf)
      return { name, base: null, ngpio: info.lines, label: info.label, path }
    } finally {
      closeSync(fd)
    }
  })
}

/** What the kernel says about one line (who holds it, its flags, debounce): GPIO_V2_GET_LINEINFO_IOCTL. */
export function lineInfo (addon: GpiochipAddon, chipPath: string, offset: number): LineInfo {
  const fd = openChip(chipPath)
  try {
    const buf = packLineInfoQuery(offset)
    addon.ioctl(fd, Ioctl.GPIO_V2_GET_LINEINFO_IOCTL, buf)
    return unpackLineInfo(buf)
  } finally {
    closeSync(fd)
  }
}
