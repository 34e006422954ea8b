// The character-device backend against a REAL kernel gpiochip: scripts/kernel-gpio.sh boots Debian's
// 6.12 kernel under QEMU with gpio-sim (the kernel's simulated GPIO chip, real uAPI v2, real cdev code),
// and test/rpi-chardev-kernel-guest.ts runs inside it: the shared conformance checks and the chardev-only
// ones for the character device, then the same conformance checks through real onoff on that kernel's
// sysfs GPIO, then AuditedI2c on the real i2c-bus package against the kernel's i2c-stub. This suite
// parses the serial console. Skipped, with the reason, when qemu, the VM image (scripts/kernel-gpio.sh
// build) or a gpiochip addon for this platform (the shipped prebuild, or npm run build:gpiochip) is missing.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { addonCandidates } from '../rpi/chardev/addon.js'
import { existsSync } from 'node:fs'
import { ROOT } from './helpers.js'

interface Check { name: string, ok: boolean, detail?: string }
const SCRIPT = join(ROOT, 'scripts/kernel-gpio.sh')
const TIMEOUT_MS = Number(process.env.PCP_KERNEL_TEST_TIMEOUT_MS || 390_000)

function skipReason (): string {
  if (spawnSync('qemu-system-x86_64', ['--version']).error) return 'qemu-system-x86_64 is not installed (apt install qemu-system-x86)'
  const info = spawnSync(SCRIPT, ['info'], { encoding: 'utf8' })
  const [cache, state] = info.stdout.trim().split('\n')
  if (state !== 'complete') return `no VM image in ${cache}: run scripts/kernel-gpio.sh build (downloads Debian's linux-image/-headers/-source 6.12 with apt-get download, builds gpio-sim.ko)`
  if (!addonCandidates().some((p) => existsSync(p))) return 'no gpiochip addon for this platform (no prebuild in rpi/native/prebuilds/): npm run build:gpiochip'
  return ''
}

const Kernel = suite('rpi character device on a real kernel gpio-sim chip (QEMU)')
const why = skipReason()
if (why) console.log(`rpi-chardev-kernel: SKIPPED: ${why}`)
const t = why ? Kernel.skip : Kernel

let consoleText = ''
function tagged<T> (tag: string): T | undefined {
  const line = consoleText.split(/\r?\n/).find((l) => l.startsWith(`${tag} `))
  return line ? JSON.parse(line.slice(tag.length + 1)) as T : undefined
}

t('the VM boots, creates the chips and finishes', () => {
  const started = Date.now()
  const r = spawnSync(SCRIPT, ['run'], { encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 << 20 })
  consoleText = r.stdout + r.stderr
  const fatal = tagged<{ message: string }>('PCPK-FATAL')
  assert.not.ok(fatal, `guest failed: ${fatal?.message}`)
  assert.not.ok(/PCPK-ERROR/.test(consoleText), consoleText.split('\n').filter((l) => l.includes('PCPK-ERROR')).join('\n'))
  const done = tagged<{ kernel: string, node: string }>('PCPK-DONE')
  assert.ok(done, `no PCPK-DONE on the console (status ${r.status}, signal ${r.signal}):\n${consoleText.slice(-3000)}`)
  assert.match(done!.kernel, /^6\.12\./)
  console.log(`rpi-chardev-kernel: guest kernel ${done!.kernel}, node ${done!.node}, ${((Date.now() - started) / 1000).toFixed(0)} s`)
})

t('character device: every conformance and chardev check passes on the kernel chip', () => {
  const checks = tagged<Check[]>('PCPK-CHARDEV')
  assert.ok(checks, 'PCPK-CHARDEV line on the console')
  for (const c of checks!) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  // 15 shared conformance checks + 21 chardev-only ones: a check that silently vanished fails here.
  assert.ok(checks!.length >= 36, `only ${checks!.length} checks ran`)
  console.log(`rpi-chardev-kernel: chardev ${checks!.filter((c) => c.ok).length}/${checks!.length} checks passed`)
})

t('onoff over the same kernel\'s sysfs GPIO passes the same conformance checks', () => {
  const sysfs = tagged<{ base: number, checks: Check[] }>('PCPK-SYSFS')
  assert.ok(sysfs, 'PCPK-SYSFS line on the console (the guest kernel has CONFIG_GPIO_SYSFS=y)')
  for (const c of sysfs!.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.ok(sysfs!.checks.length >= 15)
  assert.ok(sysfs!.base > 0, 'the header chip is not at base 0 (a decoy chip comes first), so base + BCM was really applied')
  console.log(`rpi-chardev-kernel: sysfs/onoff ${sysfs!.checks.filter((c) => c.ok).length}/${sysfs!.checks.length} checks passed (header chip base ${sysfs!.base})`)
})

t('AuditedI2c on real i2c-bus against the kernel\'s i2c-stub: bytes reach the chip and read back, stamps exact, a missing device is a stamped error', () => {
  const buses = tagged<Array<{ bus: string, name: string, dev: boolean }>>('PCPK-I2C')
  assert.ok(buses, 'PCPK-I2C line on the console')
  const stub = buses!.find((b) => b.name === 'SMBus stub driver')
  assert.ok(stub && stub.dev, `an i2c-stub bus with its /dev node: ${JSON.stringify(buses)}`)
  const checks = tagged<Check[]>('PCPK-I2C-AUDIT')
  assert.ok(checks, 'PCPK-I2C-AUDIT line on the console')
  for (const c of checks!) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.ok(checks!.length >= 10, `only ${checks!.length} I2C checks ran`)
  console.log(`rpi-chardev-kernel: i2c-stub on ${stub!.bus}: AuditedI2c ${checks!.filter((c) => c.ok).length}/${checks!.length} checks passed`)
})

Kernel.run()
