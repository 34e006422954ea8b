// BCM → sysfs resolution (pure part: chip lists as the kernels lay them out) and the pipe-splitting rule
// of the sysfs stand-in. The real-sysfs path is in rpi-onoff-sysfs.test.ts.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pickHeaderChip, resolveOnChip, type GpioChipInfo } from '../rpi/index.js'
import { PI4_CHIPS, PI5_CHIPS, segment } from '../rpi/sim/sysfs-tree.js'

const Chip = suite('rpi chip base resolution')
const named = (chips: Array<Omit<GpioChipInfo, 'name'>>): GpioChipInfo[] => chips.map((c) => ({ ...c, name: `gpiochip${c.base}` }))

Chip('Pi 4 (6.6+): header chip by label at 512, not the firmware expander', () => {
  const { chip, rule } = pickHeaderChip(named(PI4_CHIPS))
  assert.equal([chip.label, chip.base, rule], ['pinctrl-bcm2711', 512, 'known-label'])
  assert.is(resolveOnChip(17, chip).sysfs, 529)
})

Chip('Pi 5: pinctrl-rp1 wins over the brcmstb chips at lower bases', () => {
  assert.is(resolveOnChip(17, pickHeaderChip(named(PI5_CHIPS)).chip).sysfs, 588)
})

Chip('old kernels (base 0), chipLabel option, unknown boards and bad pins', () => {
  assert.is(resolveOnChip(17, pickHeaderChip(named([{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }])).chip).sysfs, 17)
  const other = named([{ base: 0, ngpio: 32, label: 'gpio-mxc' }, { base: 32, ngpio: 32, label: 'gpio-mxc2' }])
  assert.throws(() => pickHeaderChip(other), (e: { code?: string, message: string }) => e.code === 'GPIO_CHIP_NOT_FOUND' && /gpio-mxc/.test(e.message) && /chipLabel/.test(e.message))
  assert.equal(pickHeaderChip(other, 'gpio-mxc2').rule, 'chip-label-option')
  const pi4 = pickHeaderChip(named(PI4_CHIPS)).chip
  assert.throws(() => resolveOnChip(58, pi4), (e: { code?: string }) => e.code === 'GPIO_PIN_OUT_OF_RANGE')
  assert.throws(() => resolveOnChip(-1, pi4), RangeError)
  assert.throws(() => resolveOnChip(1.5, pi4), RangeError)
})

Chip('sysfs stand-in splits concatenated pipe writes into valid numbers', () => {
  const pi4 = (n: number): boolean => n >= 512 && n < 570
  assert.equal(segment('529539', pi4), [529, 539])
  assert.equal(segment('17', (n) => n < 54), [17])
  assert.equal(segment('1727', (n) => n < 54), [17, 27])
  assert.is(segment('999', pi4), null)
})

Chip.run()
