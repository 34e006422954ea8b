// Runs INSIDE the VM that scripts/kernel-gpio.sh boots (a real Debian kernel with gpio-sim), never on the
// host: rpi-chardev-kernel.test.ts starts the VM and parses what this prints on the serial console.
// It creates two gpio-sim chips through configfs — a decoy "raspberrypi-exp-gpio" first, then the header
// "pinctrl-bcm2711" with 58 lines — so finding the header by label is tested, then runs the shared
// conformance checks and the character-device-only ones (bias, active-low, kernel edge timestamps,
// debounce, EBUSY, release). The probe reads the kernel's own views, not our code: gpio-sim's sysfs
// (sim_gpioN/value and pull) and debugfs's list of requested lines. Then AuditedI2c on the real i2c-bus
// against i2c-stub.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { AuditedGpio, AuditedI2c, chardevBackend, onoffBackend, type BinaryValue } from '../rpi/index.js'
import { gpiochipAddonPath, loadGpiochipAddon } from '../rpi/chardev/addon.js'
import { lineInfo } from '../rpi/chardev/chips.js'
import { gpioConformance, type Check } from './rpi-gpio-conformance.js'
import { openTestChain } from './rpi-helpers.js'

const CFG = '/sys/kernel/config/gpio-sim/pcp'
const out = (tag: string, value: unknown): void => { process.stdout.write(`${tag} ${JSON.stringify(value)}\n`) }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function makeSim (): { chipName: string, devName: string, decoy: string } {
  mkdirSync(CFG)
  for (const [bank, label, lines] of [['bank0', 'raspberrypi-exp-gpio', 8], ['bank1', 'pinctrl-bcm2711', 58]] as const) {
    mkdirSync(join(CFG, bank))
    writeFileSync(join(CFG, bank, 'num_lines'), String(lines))
    writeFileSync(join(CFG, bank, 'label'), label)
  }
  writeFileSync(join(CFG, 'live'), '1')
  const read = (p: string): string => readFileSync(join(CFG, p), 'utf8').trim()
  return { chipName: read('bank1/chip_name'), devName: read('dev_name'), decoy: read('bank0/chip_name') }
}

async function main (): Promise<void> {
  const sim = makeSim()
  out('PCPK-SIM', sim)
  const simLine = (o: number, f: string): string => `/sys/devices/platform/${sim.devName}/${sim.chipName}/sim_gpio${o}/${f}`
  // debugfs: gpio-sim's own listing (6.12) names every line of the chip, under its "gpiochipN: GPIOs a-b"
  // header, as "gpio-<a+offset> (<consumer>) ..." with "<unused>" for a free line.
  const held = (offset: number): string | undefined => {
    const text = readFileSync('/sys/kernel/debug/gpio', 'utf8')
    const block = text.split(/\n(?=gpiochip\d+:)/).find((b) => b.startsWith(`${sim.chipName}:`))
    if (!block) return undefined
    const base = Number(/GPIOs (\d+)-/.exec(block)?.[1])
    const line = block.split('\n').find((l) => new RegExp(`^\\s*gpio-${base + offset}\\s`).test(l))
    const consumer = line ? /\(([^)]*)\)/.exec(line)?.[1]?.trim() : undefined
    return consumer === '<unused>' ? undefined : consumer
  }
  const probe = {
    exported: (o: number) => held(o) === 'pcp-edge',
    setWire: (o: number, v: BinaryValue) => writeFileSync(simLine(o, 'pull'), v === 1 ? 'pull-up' : 'pull-down'),
    value: (o: number) => (readFileSync(simLine(o, 'value'), 'utf8').trim() === '1' ? 1 : 0) as BinaryValue
  }
  const chain = await openTestChain('kernel-gpio')
  const backend = chardevBackend()
  const checks: Check[] = await gpioConformance(backend, probe, chain)
  const check = (name: string, ok: boolean, detail: unknown): void => { checks.push({ name, ok, detail: JSON.stringify(detail) }) }
  const addon = loadGpiochipAddon()
  // Every pin made here, so all their queued stamps (setup, cleanup) are stored before chain.verify().
  const pins: AuditedGpio[] = []
  const pin = (g: AuditedGpio): AuditedGpio => { pins.push(g); return g }
  const r17 = backend.resolvePin(17)
  check('chardev: header found by label, not the first chip', r17.chip.path === `/dev/${sim.chipName}` && r17.chip.label === 'pinctrl-bcm2711' && sim.decoy !== sim.chipName, { path: r17.chip.path, decoy: sim.decoy })
  check('chardev: 58 lines read from GPIO_GET_CHIPINFO', r17.chip.ngpio === 58, r17.chip.ngpio)

  // Bias: gpio-sim applies a requested pull to the line (gpio_sim_set_config), and shows it in sim_gpioN/pull.
  const up = pin(new AuditedGpio(5, 'in', { audit: chain, backend, bias: 'pull-up' }))
  check('bias pull-up: input reads 1, gpio-sim shows pull-up', up.readSync() === 1 && readFileSync(simLine(5, 'pull'), 'utf8').trim() === 'pull-up', readFileSync(simLine(5, 'pull'), 'utf8').trim())
  const down = pin(new AuditedGpio(6, 'in', { audit: chain, backend, bias: 'pull-down' }))
  check('bias pull-down: input reads 0, gpio-sim shows pull-down', down.readSync() === 0 && readFileSync(simLine(6, 'pull'), 'utf8').trim() === 'pull-down', readFileSync(simLine(6, 'pull'), 'utf8').trim())
  check('bias: kernel line info has BIAS_PULL_UP (1<<8)', (lineInfo(addon, r17.chip.path!, 5).flags & (1n << 8n)) !== 0n, lineInfo(addon, r17.chip.path!, 5).flags.toString())
  up.unexport(); down.unexport()

  // Active-low: logical 1 drives the wire low.
  const relay = pin(new AuditedGpio(23, 'high', { audit: chain, backend, activeLow: true }))
  check('active-low: high = logical 1 = wire 0', relay.readSync() === 1 && probe.value(23) === 0, probe.value(23))
  relay.writeSync(0)
  check('active-low: write(0) drives the wire 1', probe.value(23) === 1, probe.value(23))
  relay.unexport()

  // Edges, stamped by the kernel (realtime clock by default).
  probe.setWire(22, 0)
  const button = pin(new AuditedGpio(22, 'in', 'both', { audit: chain, backend }))
  const seen: Array<{ value: BinaryValue, ns: bigint, offset: number, chip: string, dropped: number }> = []
  button.watch((err, value, ev) => { if (!err && ev) seen.push({ value, ns: ev.timestampNs, offset: ev.offset, chip: ev.chip, dropped: ev.dropped }) })
  const before = BigInt(Date.now()) * 1_000_000n
  for (const v of [1, 0, 1] as const) { probe.setWire(22, v); await sleep(20) }
  await sleep(100)
  const after = BigInt(Date.now()) * 1_000_000n
  check('edges: both edges delivered in order with values 1,0,1', seen.map((s) => s.value).join() === '1,0,1', seen.map((s) => s.value))
  check('edges: offset 22 on pinctrl-bcm2711, no drops', seen.every((s) => s.offset === 22 && s.chip === 'pinctrl-bcm2711' && s.dropped === 0), seen.map((s) => [s.offset, s.chip]))
  check('edges: kernel timestamps strictly increase, within the wall-clock window', seen.length === 3 && seen.every((s, i) => s.ns >= before && s.ns <= after && (i === 0 || s.ns > seen[i - 1]!.ns)), seen.map((s) => s.ns.toString()))
  // Only a lower bound: the writes were >= 20 ms apart; how much later they ran depends on the VM (TCG is slow).
  const gapsMs = seen.slice(1).map((s, i) => Number(s.ns - seen[i]!.ns) / 1e6)
  check('edges: gaps between kernel timestamps are at least the 20 ms the wire changes were apart (>= 19 ms)', seen.length === 3 && gapsMs.every((d) => d >= 19), gapsMs)
  await button.flush()
  const stamped = chain.payloads('rpi_gpio_interrupt').filter((p) => p.pin === 22)
  check('edges: rpi_gpio_interrupt stamps chip, line_offset, timestamp_ns (string), clock', stamped.length === 3 && stamped.every((p, i) => p.chip === 'pinctrl-bcm2711' && p.line_offset === 22 && p.timestamp_ns === seen[i]!.ns.toString() && p.clock === 'realtime'), stamped)
  button.unexport()

  const rising = pin(new AuditedGpio(24, 'in', 'rising', { audit: chain, backend }))
  probe.setWire(24, 0)
  const rises: BinaryValue[] = []
  rising.watch((err, v) => { if (!err) rises.push(v) })
  for (const v of [1, 0, 1, 0] as const) { probe.setWire(24, v); await sleep(15) }
  await sleep(100)
  check('edge rising: only the two rising edges', rises.join() === '1,1', rises)
  rising.unexport()

  // Debounce by the kernel: attribute visible in line info; a burst of bounces ends in one event.
  probe.setWire(25, 0)
  const deb = pin(new AuditedGpio(25, 'in', 'both', { audit: chain, backend, debounceTimeout: 30 }))
  check('debounce: kernel line info reports 30000 us', lineInfo(addon, r17.chip.path!, 25).debounceUs === 30000, lineInfo(addon, r17.chip.path!, 25).debounceUs)
  const debounced: BinaryValue[] = []
  deb.watch((err, v) => { if (!err) debounced.push(v) })
  for (const v of [1, 0, 1, 0, 1] as const) probe.setWire(25, v)
  await sleep(200)
  check('debounce: 5 bounces within microseconds give one event, value 1', debounced.join() === '1', debounced)
  deb.unexport()

  // A held line cannot be requested twice: EBUSY becomes GPIO_EXPORT_FAILED.
  const holder = pin(new AuditedGpio(26, 'out', { audit: chain, backend }))
  let busy: unknown
  try { new AuditedGpio(26, 'out', { audit: chain, backend }) } catch (err) { busy = (err as { code?: string }).code }
  check('EBUSY: second request of a held line is GPIO_EXPORT_FAILED', busy === 'GPIO_EXPORT_FAILED', busy)
  check('consumer: debugfs shows the line held by "pcp-edge"', held(26) === 'pcp-edge', held(26))
  holder.unexport()
  check('release: unexport frees the line in the kernel', held(26) === undefined, held(26))

  // Out of range on the real chip.
  let oor: unknown
  try { backend.resolvePin(58) } catch (err) { oor = (err as { code?: string }).code }
  check('out of range: BCM 58 on a 58-line chip is GPIO_PIN_OUT_OF_RANGE', oor === 'GPIO_PIN_OUT_OF_RANGE', oor)

  const setup = chain.payloads('rpi_gpio_setup')[0]!
  check('setup stamp: backend chardev, chip_device, line_offset, sysfs_gpio null', setup.backend === 'chardev' && setup.chip_device === `/dev/${sim.chipName}` && setup.line_offset === 17 && setup.sysfs_gpio === null && setup.simulated === false, setup)
  for (const g of pins) await g.flush()
  const report = await chain.verify()
  check('chain verifies', report.valid === true, { valid: report.valid, events: chain.events.length })
  out('PCPK-CHARDEV', checks)

  // The same conformance checks through REAL onoff on this kernel's sysfs GPIO (CONFIG_GPIO_SYSFS=y here).
  // onoff (via epoll) and i2c-bus are node-gyp builds for the host: in the arm64 guest they do not load,
  // which is reported, with the loader's error, for the host suite to check it is that and nothing else.
  const unloadable = (name: string): string | undefined => {
    try { createRequire(import.meta.url)(name); return undefined } catch (err) { return (err as Error).message.split('\n')[0] }
  }
  const onoffError = unloadable('onoff')
  if (onoffError) out('PCPK-SKIP', { part: 'sysfs', reason: `onoff does not load on ${process.arch}: ${onoffError}` })
  else if (existsSync('/sys/class/gpio/export')) {
    const sysChain = await openTestChain('kernel-sysfs')
    const sysProbe = {
      exported: (n: number) => existsSync(`/sys/class/gpio/gpio${n}`),
      setWire: (n: number, v: BinaryValue) => probe.setWire(n - sysBase, v),
      value: (n: number) => probe.value(n - sysBase)
    }
    const sysBackend = onoffBackend()
    const sysBase = sysBackend.resolvePin(0).chip.base ?? NaN
    const sysChecks = await gpioConformance(sysBackend, sysProbe, sysChain)
    out('PCPK-SYSFS', { base: sysBase, checks: sysChecks })
  }
  // i2c-stub (chip_addr=0x50,0x48) and i2c-dev are loaded for the I2C helpers: report the bus, then run them.
  const i2c = existsSync('/sys/bus/i2c/devices') ? readdirSync('/sys/bus/i2c/devices').filter((d) => /^i2c-\d+$/.test(d))
    .map((d) => ({ bus: d, name: readFileSync(`/sys/bus/i2c/devices/${d}/name`, 'utf8').trim(), dev: existsSync(`/dev/${d}`) })) : []
  out('PCPK-I2C', i2c)
  const stub = i2c.find((b) => b.name === 'SMBus stub driver')
  if (stub) out('PCPK-I2C-AUDIT', await i2cChecks(Number(stub.bus.slice(4))))
  if (!stub) out('PCPK-SKIP', { part: 'i2c', reason: `no i2c-stub bus (buses: ${JSON.stringify(i2c)})${unloadable('i2c-bus') ? `; i2c-bus does not load on ${process.arch}: ${unloadable('i2c-bus')}` : ''}` })
  out('PCPK-DONE', { kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), node: process.version, arch: process.arch, napi: process.versions.napi, addon: gpiochipAddonPath() })
}

// AuditedI2c on the real i2c-bus package against the kernel's i2c-stub. The device's side is read back
// through a second, plain i2c-bus handle (not through AuditedI2c), so a write that only reached our
// stamp and not the chip fails here.
async function i2cChecks (busNumber: number): Promise<Check[]> {
  const checks: Check[] = []
  const check = (name: string, ok: boolean, detail: unknown): void => { checks.push({ name, ok, detail: JSON.stringify(detail) }) }
  const chain = await openTestChain('kernel-i2c')
  const i2c = await AuditedI2c.open(busNumber, { audit: chain, label: 'i2c-stub' })
  const raw = (createRequire(import.meta.url)('i2c-bus') as { openSync: (n: number) => { readByteSync: (a: number, r: number) => number, closeSync: () => void } }).openSync(busNumber)
  await i2c.writeRegister(0x50, 0x10, [0xde, 0xad, 0xbe, 0xef])
  check('i2c write: the stub EEPROM at 0x50 holds de ad be ef from 0x10 (read by plain i2c-bus)', [0x10, 0x11, 0x12, 0x13].map((r) => raw.readByteSync(0x50, r)).join() === '222,173,190,239', [0x10, 0x11, 0x12, 0x13].map((r) => raw.readByteSync(0x50, r)))
  const back = await i2c.readRegister(0x50, 0x10, 4)
  check('i2c read: the block reads back de ad be ef', back.toString('hex') === 'deadbeef', back.toString('hex'))
  await i2c.writeRegister(0x48, 0x01, [0x60, 0xa0])
  const second = await i2c.readRegister(0x48, 0x01, 2)
  check('i2c: the second stub device at 0x48 keeps its own registers', second.toString('hex') === '60a0' && raw.readByteSync(0x50, 0x01) !== 0x60, second.toString('hex'))
  raw.closeSync()
  let missing: { code?: string, message?: string } = {}
  try { await i2c.readRegister(0x51, 0x00, 1) } catch (err) { missing = err as typeof missing }
  // i2c-stub's stub_xfer answers an address it does not emulate with -ENODEV (a real bus NAKs: ENXIO/EREMOTEIO).
  check('i2c: a read at 0x51 (no device) fails with i2c-stub\'s ENODEV', missing.code === 'ENODEV', missing)
  await i2c.close()
  check('i2c stamps: setup, write, read, write, read, error, cleanup in that order', chain.types().join() === 'rpi_i2c_setup,rpi_i2c_write,rpi_i2c_read,rpi_i2c_write,rpi_i2c_read,rpi_i2c_error,rpi_i2c_cleanup', chain.types())
  const [setup] = chain.payloads('rpi_i2c_setup')
  check('i2c setup stamp: bus, /dev node, backend i2c-bus (not injected)', setup?.bus === busNumber && setup.device === `/dev/i2c-${busNumber}` && setup.backend === 'i2c-bus' && setup.label === 'i2c-stub', setup)
  const pick = (p: Record<string, unknown> | undefined, keys: string[]): string => JSON.stringify(keys.map((k) => p?.[k]))
  const [w1, w2] = chain.payloads('rpi_i2c_write')
  const [r1, r2] = chain.payloads('rpi_i2c_read')
  const [e1] = chain.payloads('rpi_i2c_error')
  check('i2c write stamps: bus, address, register, length, bytes exactly', pick(w1, ['bus', 'address', 'register', 'length', 'bytes']) === JSON.stringify([busNumber, '0x50', '0x10', 4, 'deadbeef']) &&
    pick(w2, ['bus', 'address', 'register', 'length', 'bytes']) === JSON.stringify([busNumber, '0x48', '0x01', 2, '60a0']), [w1, w2])
  check('i2c read stamps: bus, address, register, length, bytes_read, bytes exactly', pick(r1, ['bus', 'address', 'register', 'length', 'bytes_read', 'bytes']) === JSON.stringify([busNumber, '0x50', '0x10', 4, 4, 'deadbeef']) &&
    pick(r2, ['bus', 'address', 'register', 'length', 'bytes_read', 'bytes']) === JSON.stringify([busNumber, '0x48', '0x01', 2, 2, '60a0']), [r1, r2])
  check('i2c error stamp: the missing device\'s address, register, op read, and the errno code thrown', pick(e1, ['bus', 'address', 'register', 'op', 'length', 'error_code']) === JSON.stringify([busNumber, '0x51', '0x00', 'read', 1, missing.code]) &&
    typeof e1?.message_hash === 'string' && !('bytes' in (e1 ?? {})), e1)
  const report = await chain.verify()
  check('i2c chain verifies', report.valid === true, { valid: report.valid, events: chain.events.length })
  return checks
}

main().then(() => process.exit(0), (err: Error) => { out('PCPK-FATAL', { message: err.message, stack: err.stack, code: (err as { code?: string }).code }); process.exit(1) })
