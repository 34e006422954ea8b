// AuditedI2c: what each transfer leaves on the chain (bus, address, register, bytes), fail-closed
// stamping, and the missing-peer error. The bus here is a STAND-IN (an in-memory register file with
// i2c-bus 5's PromisifiedBus methods); with PCP_TEST_I2C_BUS=<n> (e.g. after `modprobe i2c-dev;
// modprobe i2c-stub chip_addr=0x1c`) and i2c-bus installed, the last test drives that real bus.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRequire } from 'node:module'
import { AuditedI2c, openI2cBus, type I2cLikeBus } from '../rpi/index.js'
import { openTestChain } from './rpi-helpers.js'
import { codeOf } from './helpers.js'

const I2c = suite('rpi AuditedI2c')

/** STAND-IN device: 256 byte registers per address; an address with no device answers ENXIO as Linux does. */
function registerBus (present: number[]): I2cLikeBus & { regs: Map<number, Uint8Array> } {
  const regs = new Map(present.map((a) => [a, new Uint8Array(256)]))
  const dev = (a: number): Uint8Array => { const r = regs.get(a); if (!r) throw Object.assign(new Error('ENXIO, No such device or address'), { code: 'ENXIO', errno: 6 }); return r }
  return {
    regs,
    readI2cBlock: async (a, cmd, len, buf) => { dev(a).subarray(cmd, cmd + len).forEach((b, i) => { buf[i] = b }); return { bytesRead: Math.min(len, 256 - cmd), buffer: buf } },
    writeI2cBlock: async (a, cmd, len, buf) => { dev(a).set(buf.subarray(0, len), cmd); return { bytesWritten: len, buffer: buf } },
    close: async () => {}
  }
}

I2c('reads and writes are stamped with bus, address, register and bytes; a failed transfer is an rpi_i2c_error', async () => {
  const chain = await openTestChain()
  const bus = registerBus([0x76])
  bus.regs.get(0x76)!.set([0x60], 0xd0) // a BME280 answers chip id 0x60 at 0xd0
  const i2c = await AuditedI2c.open(1, { audit: chain, bus, label: 'bme280', now: () => 1_700_000_000_500 })
  assert.equal([...await i2c.readRegister(0x76, 0xd0, 1)], [0x60])
  await i2c.writeRegister(0x76, 0xf4, [0x27])
  assert.equal([...bus.regs.get(0x76)!.subarray(0xf4, 0xf5)], [0x27])
  assert.is(await codeOf(i2c.readRegister(0x77, 0xd0, 1)), 'ENXIO')
  await i2c.close()
  assert.equal(chain.types(), ['rpi_i2c_setup', 'rpi_i2c_read', 'rpi_i2c_write', 'rpi_i2c_error', 'rpi_i2c_cleanup'])
  const [read] = chain.payloads('rpi_i2c_read')
  assert.equal(read, { bus: 1, address: '0x76', register: '0xd0', t_ms: 1_700_000_000_500, length: 1, bytes_read: 1, bytes: '60', event_type: 'rpi_i2c_read' })
  assert.equal(chain.payloads('rpi_i2c_write')[0]!.bytes, '27')
  assert.equal([chain.payloads('rpi_i2c_error')[0]!.address, chain.payloads('rpi_i2c_error')[0]!.error_code], ['0x77', 'ENXIO'])
  assert.ok((await chain.verify()).valid)
  let err: unknown
  try { await i2c.readRegister(0x80, 0, 1) } catch (e) { err = e }
  assert.instance(err, RangeError, 'a 7-bit address')
  await chain.close()
})

I2c('fail closed: after a stamp fails, the bus refuses transfers with AUDIT_FAILED', async () => {
  const chain = await openTestChain()
  const i2c = await AuditedI2c.open(1, { audit: chain, bus: registerBus([0x40]) })
  await chain.breakStore()
  assert.is(await codeOf(i2c.readRegister(0x40, 0, 2)), 'AUDIT_FAILED')
  assert.is(await codeOf(i2c.writeRegister(0x40, 0, [1])), 'AUDIT_FAILED')
})

I2c('without i2c-bus installed, opening a real bus says what to install', async () => {
  const missing = Object.assign(new Error("Cannot find module 'i2c-bus'"), { code: 'MODULE_NOT_FOUND' })
  assert.is(await codeOf(openI2cBus(1, () => { throw missing })), 'I2C_BACKEND_MISSING')
  let installed = true
  try { createRequire(import.meta.url).resolve('i2c-bus') } catch { installed = false }
  if (!installed) assert.is(await codeOf(openI2cBus(1)), 'I2C_BACKEND_MISSING', 'the real lazy require, not an injected one')
})

const real = process.env.PCP_TEST_I2C_BUS
;(real ? I2c : I2c.skip)(`real bus ${real ?? '(set PCP_TEST_I2C_BUS)'}: write a block to i2c-stub at 0x1c and read it back`, async () => {
  const chain = await openTestChain()
  const i2c = await AuditedI2c.open(Number(real), { audit: chain })
  await i2c.writeRegister(0x1c, 0x10, [0xde, 0xad, 0xbe, 0xef])
  assert.equal([...await i2c.readRegister(0x1c, 0x10, 4)], [0xde, 0xad, 0xbe, 0xef])
  await i2c.close()
  assert.is(chain.payloads('rpi_i2c_read')[0]!.bytes, 'deadbeef')
  await chain.close()
})
if (!real) console.log('rpi-i2c: real-bus test SKIPPED: set PCP_TEST_I2C_BUS (needs i2c-dev + i2c-stub and the i2c-bus package)')

I2c.run()
