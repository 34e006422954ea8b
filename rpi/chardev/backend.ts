// The character-device GpioBackend, and the default choice between it and onoff: where the kernel has no
// /sys/class/gpio/export (sysfs GPIO is deprecated and off in many current kernels) the character device
// is the only interface; where sysfs exists, onoff keeps working as before. Either can be chosen
// explicitly with { backend }.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pickHeaderChip, resolveOnChip, SYSFS_GPIO_ROOT, type GpioChipInfo } from '../chip.js'
import { onoffBackend, type Direction, type Edge, type GpioBackend, type OnoffLikeClass, type OnoffLikeGpio } from '../backend.js'
import { loadGpiochipAddon, type GpiochipAddon } from './addon.js'
import { GPIO_DEV_ROOT, listCharDevChips, openChip } from './chips.js'
import { CharDevGpio, type CharDevGpioOptions } from './line.js'
import { closeSync } from 'node:fs'

export interface CharDevBackendOptions {
  /** Where gpiochipN devices are (tests: a devtmpfs in a VM; default /dev). */
  devRoot?: string
  /** Use the chip with exactly this label instead of the known Pi header labels. */
  chipLabel?: string
  /** The consumer name the kernel shows for held lines (gpioinfo, debugfs); at most 31 bytes. */
  consumer?: string
  /** Loads the addon; tests inject one that fails. */
  loadAddon?: () => GpiochipAddon
}

export function chardevBackend (opts: CharDevBackendOptions = {}): GpioBackend {
  const devRoot = opts.devRoot ?? GPIO_DEV_ROOT
  const consumer = opts.consumer ?? 'pcp-edge'
  let addon: GpiochipAddon | undefined
  let chip: GpioChipInfo | undefined
  let rule: 'known-label' | 'chip-label-option' = 'known-label'
  const getAddon = (): GpiochipAddon => (addon ??= (opts.loadAddon ?? loadGpiochipAddon)())
  const header = (): GpioChipInfo => {
    if (!chip) ({ chip, rule } = pickHeaderChip(listCharDevChips(getAddon(), devRoot), opts.chipLabel))
    return chip
  }
  let cls: OnoffLikeClass | undefined
  const makeClass = (): OnoffLikeClass => {
    const target = () => { const c = header(); return { addon: getAddon(), chipPath: c.path!, chipLabel: c.label, consumer } }
    const Gpio = class extends CharDevGpio implements OnoffLikeGpio {
      static readonly HIGH = 1 as const
      static readonly LOW = 0 as const
      static get accessible (): boolean {
        try { closeSync(openChip(header().path!)); return true } catch { return false }
      }
      constructor (offset: number, direction: Direction, edge?: Edge | CharDevGpioOptions, options?: CharDevGpioOptions) {
        super(target(), offset, direction, edge, options)
      }
    }
    return Gpio as unknown as OnoffLikeClass
  }
  return {
    name: 'chardev',
    simulated: false,
    supportsBias: true,
    get Gpio () { return (cls ??= makeClass()) },
    resolvePin: (bcm) => { const c = header(); return { ...resolveOnChip(bcm, c), rule } },
    preflight: (r) => { closeSync(openChip(r.chip.path!)) }
  }
}

/** The character device where sysfs GPIO export is absent, else onoff (the behaviour before the character device). */
export function defaultBackend (sysfsRoot: string = SYSFS_GPIO_ROOT): GpioBackend {
  return existsSync(join(sysfsRoot, 'export')) ? onoffBackend({ sysfsRoot }) : chardevBackend()
}
