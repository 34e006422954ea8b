// The REAL onoff 6 (native epoll addon and all) driven through AuditedGpio against a SIMULATED sysfs GPIO
// tree (stand-in: rpi/sim/sysfs-tree.ts) at /sys/class/gpio, inside a private mount namespace so the host's
// /sys is never touched. This file is both the uvu suite (parent) and, with PCP_RPI_SYSFS_CHILD set, the
// body run inside `unshare --mount --propagation private`. Not root / no unshare: the tests are skipped,
// with the reason printed. Edge interrupts cannot come from a tmpfs: see rpi-gpio.test.ts (SimulatedPi).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AuditedGpio, onoffBackend, resolveBcmPin, type BinaryValue } from '../rpi/index.js'
import { PI4_CHIPS, PI5_CHIPS, type SimChip } from '../rpi/sim/sysfs-tree.js'
import { inPrivateMountNamespace, mountSimulatedSysfs, runInPrivateNamespace, startSysfsSimulator, sysfsNamespaceSupport, SIM_GPIO_ROOT } from '../rpi/sim/sysfs-namespace.js'
import { gpioConformance } from './rpi-gpio-conformance.js'
import { openTestChain } from './rpi-helpers.js'

const SELF = fileURLToPath(import.meta.url)
const GPIO_GID = 997

// ---------- child side: runs inside the namespace, prints one RESULT line ----------
async function child (scenario: string): Promise<unknown> {
  if (scenario === 'as-user') {
    // Grandchild, already running as an unprivileged uid/gid: try to drive BCM 17.
    const chain = await openTestChain()
    try {
      const g = new AuditedGpio(17, 'out', { audit: chain, backend: onoffBackend() })
      g.writeSync(1)
      await g.flush()
      const value = readFileSync(`${SIM_GPIO_ROOT}/gpio${g.resolution.sysfs}/value`, 'utf8').trim()
      g.unexport()
      await g.flush()
      return { ok: true, uid: process.getuid?.(), value, types: chain.types(), valid: (await chain.verify()).valid }
    } catch (err) {
      return { ok: false, uid: process.getuid?.(), code: (err as { code?: string }).code, message: (err as Error).message }
    }
  }
  const chips: SimChip[] = scenario === 'pi5' ? PI5_CHIPS : scenario === 'legacy' ? [{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }] : PI4_CHIPS
  mountSimulatedSysfs()
  const sim = await startSysfsSimulator(chips, { gid: GPIO_GID })
  try {
    const mounted = readFileSync('/proc/self/mounts', 'utf8').includes('pcp-sim-gpio')
    if (scenario === 'users') {
      const run = (gid: number): unknown => {
        const r = spawnSync(process.execPath, [...process.execArgv, SELF], {
          uid: 65534, gid, env: { ...process.env, PCP_RPI_SYSFS_CHILD: 'as-user', HOME: '/tmp' }, encoding: 'utf8'
        })
        const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
        return line ? JSON.parse(line.slice(7)) : { ok: false, stderr: r.stderr.slice(-2000) }
      }
      return { mounted, inGpioGroup: run(GPIO_GID), notInGroup: run(65534) }
    }
    const chain = await openTestChain()
    const backend = onoffBackend()
    const probe = {
      exported: (n: number) => existsSync(`${SIM_GPIO_ROOT}/gpio${n}`),
      setWire: (n: number, v: BinaryValue) => writeFileSync(`${SIM_GPIO_ROOT}/gpio${n}/value`, `${v}\n`),
      value: (n: number) => (readFileSync(`${SIM_GPIO_ROOT}/gpio${n}/value`, 'utf8')[0] === '1' ? 1 : 0) as BinaryValue
    }
    const checks = await gpioConformance(backend, probe, chain)
    let outOfRange: unknown
    try { resolveBcmPin(60) } catch (err) { outOfRange = (err as { code?: string }).code }
    const setups = chain.payloads('rpi_gpio_setup')
    return { mounted, resolution: resolveBcmPin(17), checks, outOfRange, setups, types: chain.types(), report: await chain.verify() }
  } finally {
    sim.stdin!.end()
  }
}

if (process.env.PCP_RPI_SYSFS_CHILD) {
  const result = await child(process.env.PCP_RPI_SYSFS_CHILD)
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  process.exit(0)
}

// ---------- parent side: the uvu suite ----------
const Sysfs = suite('rpi onoff over a simulated sysfs tree (stand-in sysfs, real onoff)')
const support = sysfsNamespaceSupport()
if (!support.ok) console.log(`rpi-onoff-sysfs: namespace tests SKIPPED: ${support.why}`)
const t = support.ok ? Sysfs : Sysfs.skip

Sysfs('safety guard: outside the namespace the simulator refuses to mount over /sys (runs as any user)', () => {
  assert.ok(support.ok || support.why.length > 0)
  assert.not.ok(inPrivateMountNamespace())
  assert.throws(() => mountSimulatedSysfs(), /outside a private mount namespace/)
})

function inNamespace (scenario: string): any {
  const hostHadGpio = existsSync(SIM_GPIO_ROOT)
  const r = runInPrivateNamespace(SELF, { PCP_RPI_SYSFS_CHILD: scenario }) as { stdout: string, stderr: string, status: number | null }
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  assert.ok(line, `no RESULT from the namespace child (status ${r.status}): ${r.stderr.slice(-3000)}`)
  // Nothing leaks to the host: no gpio tree appeared, no simulated mount is visible here.
  assert.is(existsSync(SIM_GPIO_ROOT), hostHadGpio, 'host /sys/class/gpio unchanged')
  assert.not.ok(readFileSync('/proc/self/mounts', 'utf8').includes('pcp-sim-gpio'), 'simulated mount is not visible on the host')
  return JSON.parse(line!.slice(7))
}

t('Pi 4 layout (chip base 512): export, direction, read, write, unexport pass the conformance checks', () => {
  const r = inNamespace('pi4')
  assert.ok(r.mounted)
  assert.equal(r.resolution.sysfs, 529)
  assert.equal(r.resolution.chip.label, 'pinctrl-bcm2711')
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.ok(r.checks.length >= 15)
  assert.is(r.outOfRange, 'GPIO_PIN_OUT_OF_RANGE')
  assert.equal(r.setups.map((s: any) => [s.pin, s.sysfs_gpio, s.chip_base, s.backend, s.simulated]), [[17, 529, 512, 'onoff', false], [27, 539, 512, 'onoff', false]])
  assert.ok(r.report.valid, JSON.stringify(r.report.errors))
  for (const type of ['rpi_gpio_setup', 'rpi_gpio_output', 'rpi_gpio_input', 'rpi_gpio_cleanup']) assert.ok(r.types.includes(type), type)
  assert.not.ok(r.types.includes('rpi_gpio_error'), r.types.join(','))
})

t('Pi 5 layout: the header is pinctrl-rp1 at 571, not the brcmstb chip at 512', () => {
  const r = inNamespace('pi5')
  assert.equal(r.resolution.sysfs, 588)
  assert.equal(r.resolution.chip.label, 'pinctrl-rp1')
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.ok(r.report.valid)
})

t('legacy kernel (base 0): BCM 17 is still gpio17', () => {
  const r = inNamespace('legacy')
  assert.equal(r.resolution.sysfs, 17)
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
})

t('non-root: works in the gpio group, GPIO_ACCESS_DENIED with the fix outside it', () => {
  const r = inNamespace('users')
  assert.equal(r.inGpioGroup.uid, 65534)
  assert.ok(r.inGpioGroup.ok, JSON.stringify(r.inGpioGroup))
  assert.is(r.inGpioGroup.value, '1')
  assert.ok(r.inGpioGroup.valid)
  assert.not.ok(r.notInGroup.ok)
  assert.is(r.notInGroup.code, 'GPIO_ACCESS_DENIED')
  assert.match(r.notInGroup.message, /gpio" group/)
})

Sysfs.run()
