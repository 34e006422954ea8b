// The character-device backend on THIS machine (no GPIO chips here): backend choice, coded errors with
// their fix, and the native addon's two primitives on real fds (ioctl on /dev/null, uv_poll on a pipe).
// The GPIO behaviour itself is tested against a real kernel's gpio-sim chip in rpi-chardev-kernel.test.ts.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { AuditedGpio, SimulatedPi, chardevBackend, defaultBackend } from '../rpi/index.js'
import { addonCandidates, loadGpiochipAddon } from '../rpi/chardev/addon.js'
import { openTestChain } from './rpi-helpers.js'
import { tmpDir } from './helpers.js'

const Chardev = suite('rpi character-device backend (host side)')
const built = addonCandidates().some((p) => { try { closeSync(openSync(p, 'r')); return true } catch { return false } })
if (!built) console.log('rpi-chardev: addon tests SKIPPED: no gpiochip addon for this platform (no prebuild in rpi/native/prebuilds/; npm run build:gpiochip)')

Chardev('default backend: onoff where <sysfs>/export exists, the character device where it does not', () => {
  const tmp = tmpDir('pcp-chardev-')
  try {
    assert.is(defaultBackend(join(tmp.path, 'class/gpio')).name, 'chardev')
    mkdirSync(join(tmp.path, 'class/gpio'), { recursive: true })
    assert.is(defaultBackend(join(tmp.path, 'class/gpio')).name, 'chardev', 'a gpio dir without export is not sysfs GPIO')
    writeFileSync(join(tmp.path, 'class/gpio/export'), '')
    assert.is(defaultBackend(join(tmp.path, 'class/gpio')).name, 'onoff')
  } finally { tmp.cleanup() }
})

Chardev('no /dev/gpiochip* gives GPIO_CHIP_NOT_FOUND naming the directory; a missing addon gives GPIO_BACKEND_MISSING with the build command', () => {
  const tmp = tmpDir('pcp-chardev-')
  try {
    const empty = chardevBackend({ devRoot: tmp.path, loadAddon: () => ({ ioctl: () => 0, poll: () => ({}), unpoll: () => {} }) })
    assert.throws(() => empty.resolvePin(17), (e: { code?: string, message: string }) => e.code === 'GPIO_CHIP_NOT_FOUND' && e.message.includes(join(tmp.path, 'gpiochip*')))
    const prev = process.env.PCP_GPIOCHIP_ADDON
    const noAddon = chardevBackend({ devRoot: tmp.path, loadAddon: () => { throw Object.assign(new Error('x'), { code: 'GPIO_BACKEND_MISSING' }) } })
    assert.throws(() => noAddon.resolvePin(17), (e: { code?: string }) => e.code === 'GPIO_BACKEND_MISSING')
    assert.is(process.env.PCP_GPIOCHIP_ADDON, prev)
  } finally { tmp.cleanup() }
})

Chardev('bias on a backend that cannot set it is refused, not ignored (an input would float)', async () => {
  const chain = await openTestChain()
  try {
    const pi = new SimulatedPi()
    assert.throws(() => new AuditedGpio(4, 'in', { audit: chain, backend: pi.backend, bias: 'pull-up' }),
      (e: Error) => e instanceof TypeError && /"options\.bias" \(pull-up\) needs the character-device backend/.test(e.message))
    assert.is(pi.isExported(4), false)
  } finally { await chain.close() }
})

const A = built ? Chardev : Chardev.skip
A('addon ioctl: errno as a coded error; a buffer of the wrong size is refused before the syscall', () => {
  const addon = loadGpiochipAddon()
  const fd = openSync('/dev/null', 'r+')
  try {
    // GPIO_GET_CHIPINFO_IOCTL on a non-GPIO device: the kernel answers ENOTTY.
    assert.throws(() => addon.ioctl(fd, 0x8044b401, new Uint8Array(68)), (e: NodeJS.ErrnoException) => e.code === 'ENOTTY' && e.syscall === 'ioctl')
    assert.throws(() => addon.ioctl(fd, 0x8044b401, new Uint8Array(67)), (e: Error) => e instanceof RangeError && /expected 68 bytes/.test(e.message))
    assert.throws(() => addon.ioctl(fd, 0x8044b401, 'x' as unknown as Uint8Array), TypeError)
  } finally { closeSync(fd) }
})

A('addon poll: the callback runs on the main loop when the fd becomes readable, and never after unpoll', async () => {
  const addon = loadGpiochipAddon()
  const dir = tmpDir('pcp-chardev-fifo-')
  try {
    const fifo = join(dir.path, 'f')
    execFileSync('mkfifo', [fifo])
    const rfd = openSync(fifo, 'r+') // r+ so open does not block waiting for a writer
    let calls = 0
    const woke = new Promise<void>((resolve) => {
      const h = addon.poll(rfd, (err) => { assert.is(err, null); calls++; addon.unpoll(h); resolve() })
    })
    await new Promise((r) => setTimeout(r, 50))
    assert.is(calls, 0, 'not readable yet')
    writeSync(rfd, 'x')
    await woke
    await new Promise((r) => setTimeout(r, 50))
    assert.is(calls, 1, 'unpoll stopped further callbacks although the byte is still unread')
    closeSync(rfd)
  } finally { dir.cleanup() }
})

Chardev.run()
