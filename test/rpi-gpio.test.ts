// AuditedGpio on the SimulatedPi STAND-IN (simulated GPIO, no hardware): the shared conformance checks,
// then what only the simulator can show here — edge watching with debounce, active_low — and the audit
// policy (events, hashed values, fail-closed), plus the missing-onoff and missing-sysfs errors.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { AuditedGpio, SimulatedPi, configureGpioAudit, hashSalted, onoffBackend, type BinaryValue } from '../rpi/index.js'
import { hashValue } from '../runtime/index.js'
import { gpioConformance } from './rpi-gpio-conformance.js'
import { openTestChain } from './rpi-helpers.js'
import { tmpDir } from './helpers.js'

const Gpio = suite('rpi AuditedGpio on the simulated Pi (stand-in GPIO)')
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

Gpio('simulated backend passes the same conformance checks as real onoff', async () => {
  const pi = new SimulatedPi({ base: 512 })
  const chain = await openTestChain()
  const toBcm = (n: number): number => n - pi.chip.base
  const checks = await gpioConformance(pi.backend, {
    exported: (n) => pi.isExported(toBcm(n)),
    setWire: (n, v) => pi.setInput(toBcm(n), v),
    value: (n) => pi.level(toBcm(n))
  }, chain)
  for (const c of checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  const setup = chain.payloads('rpi_gpio_setup')[0]!
  assert.equal([setup.pin, setup.sysfs_gpio, setup.backend, setup.simulated, setup.label], [17, 529, 'simulated', true, 'led'])
  const outputs = chain.payloads('rpi_gpio_output')
  assert.equal(outputs.map((p) => [p.pin, p.direction, p.value]), [[17, 'out', 1], [17, 'out', 0], [17, 'out', 1]])
  assert.ok((await chain.verify()).valid)
  await chain.close()
})

Gpio('watch: every debounced edge is stamped before the callback, and the chain verifies', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const button = new AuditedGpio(4, 'in', 'both', { audit: chain, backend: pi.backend, debounceTimeout: 30 })
  const seen: BinaryValue[] = []
  const typesAtCallback: string[][] = []
  const onEdge = (err: Error | null | undefined, v: BinaryValue): void => {
    assert.not.ok(err)
    seen.push(v)
    typesAtCallback.push(chain.types())
  }
  button.watch(onEdge)
  // A bouncing press: five flips within a few ms settle at 1 → one delivery of 1.
  for (const v of [1, 0, 1, 0, 1] as BinaryValue[]) { pi.setInput(4, v); await sleep(2) }
  await sleep(80)
  pi.setInput(4, 0)
  await sleep(80)
  assert.equal(seen, [1, 0])
  await button.flush()
  const edges = chain.payloads('rpi_gpio_interrupt')
  assert.equal(edges.map((p) => [p.pin, p.value, p.edge]), [[4, 1, 'both'], [4, 0, 'both']])
  button.unwatch(onEdge)
  pi.setInput(4, 1)
  await sleep(60)
  assert.equal(seen.length, 2, 'no delivery after unwatch')
  button.unexport()
  await button.flush()
  assert.equal(chain.types(), ['rpi_gpio_setup', 'rpi_gpio_interrupt_registered', 'rpi_gpio_interrupt', 'rpi_gpio_interrupt', 'rpi_gpio_interrupt_removed', 'rpi_gpio_cleanup'])
  assert.ok((await chain.verify()).valid)
  await chain.close()
})

Gpio('watch without debounce filters by edge (rising only)', async () => {
  const pi = new SimulatedPi({ base: 0 })
  const chain = await openTestChain()
  const g = new AuditedGpio(22, 'in', 'rising', { audit: chain, backend: pi.backend })
  const seen: BinaryValue[] = []
  g.watch((_e, v) => seen.push(v))
  for (const v of [1, 0, 1, 0] as BinaryValue[]) { pi.setInput(22, v); await sleep(5) }
  assert.equal(seen, [1, 1])
  g.unexport()
  await g.flush()
})

Gpio('activeLow inverts, high/low directions set the initial level, writing an input fails and is stamped', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const relay = new AuditedGpio(23, 'high', { audit: chain, backend: pi.backend, activeLow: true })
  assert.is(relay.readSync(), 1)
  assert.is(pi.level(23), 0, 'active-low: logical 1 drives the wire low')
  const input = new AuditedGpio(24, 'in', { audit: chain, backend: pi.backend })
  assert.throws(() => input.writeSync(1), /EPERM/)
  await input.flush()
  assert.equal(chain.payloads('rpi_gpio_error').map((p) => [p.pin, p.op]), [[24, 'writeSync']])
  assert.equal(chain.payloads('rpi_gpio_setup')[0]!.active_low, true)
  assert.throws(() => relay.writeSync(2 as BinaryValue), (e: Error) => e instanceof TypeError && /"value"/.test(e.message))
})

Gpio('hashValues stamps value_hash = hashValue(bit), never the value', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const g = new AuditedGpio(5, 'out', { audit: chain, backend: pi.backend, hashValues: true })
  g.writeSync(1)
  await g.flush()
  const out = chain.payloads('rpi_gpio_output')[0]!
  assert.is(out.value, undefined)
  assert.is(out.value_hash, hashValue(1))
  assert.is(hashValue(1), '6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b', 'sha256("1")')
  assert.is(hashSalted(21.5, 's3cret'), hashValue({ salt: 's3cret', value: 21.5 }))
})

Gpio('fail closed: once a stamp fails, the pin refuses further actions with AUDIT_FAILED', async () => {
  const pi = new SimulatedPi()
  const chain = await openTestChain()
  const g = new AuditedGpio(6, 'out', { audit: chain, backend: pi.backend })
  await g.ready
  await chain.breakStore()
  g.writeSync(1)
  try { await g.flush(); assert.unreachable('flush should throw') } catch (err) { assert.is((err as { code?: string }).code, 'AUDIT_FAILED') }
  assert.throws(() => g.writeSync(0), (e: { code?: string }) => e.code === 'AUDIT_FAILED')
  try { await g.read(); assert.unreachable() } catch (err) { assert.is((err as { code?: string }).code, 'AUDIT_FAILED') }
})

Gpio('defaults via configureGpioAudit; missing stamper and missing onoff give clear errors', async () => {
  const pi = new SimulatedPi()
  assert.throws(() => new AuditedGpio(17, 'out', { backend: pi.backend }), /configureGpioAudit/)
  const chain = await openTestChain()
  configureGpioAudit({ stamper: chain, backend: pi.backend })
  const g = new AuditedGpio(17, 'out')
  await g.ready
  assert.is(g.backend.name, 'simulated')
  const missing = Object.assign(new Error("Cannot find module 'onoff'"), { code: 'MODULE_NOT_FOUND' })
  const backend = onoffBackend({ sysfsRoot: '/nonexistent', requireOnoff: () => { throw missing } })
  assert.throws(() => backend.Gpio, (e: { code?: string, message: string }) => e.code === 'GPIO_BACKEND_MISSING' && /npm install onoff/.test(e.message))
})

Gpio('importing pcp-edge/rpi does not load onoff; a real machine without sysfs GPIO gets GPIO_SYSFS_MISSING', async () => {
  const tmp = tmpDir('pcp-rpi-')
  const root = tmp.path
  try {
    const chain = await openTestChain()
    const backend = onoffBackend({ sysfsRoot: join(root, 'class/gpio'), requireOnoff: () => { throw new Error('must not load onoff before the pin is resolved') } })
    assert.throws(() => new AuditedGpio(17, 'out', { audit: chain, backend }),
      (e: { code?: string, message: string }) => e.code === 'GPIO_SYSFS_MISSING' && /CONFIG_GPIO_SYSFS/.test(e.message) && /SimulatedPi/.test(e.message))
  } finally { tmp.cleanup() }
})

Gpio.run()
