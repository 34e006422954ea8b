// Audited I2C register access on `i2c-bus` (an optional peer with a native addon, loaded lazily, like
// onoff): every read and write is stamped with the bus, the 7-bit address, the register and the bytes
// (hex; or only their hashValue with hashValues: true). Reads are stamped after they return (what the
// device said), writes before they are sent (the intent survives a crash mid-write) and their failure
// after. A stamp that fails makes the bus refuse further transfers (AUDIT_FAILED), as AuditedGpio does.
// Register writes can drive actuators (a motor driver, a DAC): pass `gate` checks through
// AuditedPiAgent.stampActuator yourself for those; this helper records, it does not decide.
import { createRequire } from 'node:module'
import { PcpError } from '../runtime/errors.js'
import type { AissEvent, Stamper } from '../runtime/index.js'
import { RpiErrorCodes } from './errors.js'
import { checkStamper, hashValue, stampInOrder, type Payload } from './audit.js'

/** The subset of i2c-bus 5's PromisifiedBus used here (restated so our types do not need i2c-bus). */
export interface I2cLikeBus {
  readI2cBlock (address: number, command: number, length: number, buffer: Buffer): Promise<{ bytesRead: number, buffer: Buffer }>
  writeI2cBlock (address: number, command: number, length: number, buffer: Buffer): Promise<{ bytesWritten: number, buffer: Buffer }>
  close (): Promise<void>
}

export interface AuditedI2cOptions {
  audit: Stamper
  /** An already open bus (tests, a stand-in); default: require('i2c-bus').openPromisified(busNumber). */
  bus?: I2cLikeBus
  /** Loads the i2c-bus module; tests inject one that fails. */
  requireI2c?: () => unknown
  hashValues?: boolean
  label?: string
  /** Milliseconds clock for t_ms; default Date.now. */
  now?: () => number
}

const requireFromHere = createRequire(import.meta.url)

function byteArg (v: unknown, name: string, max: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > max) throw new RangeError(`"${name}" expected an integer 0..0x${max.toString(16)}, got ${String(v)}`)
  return v as number
}

/** i2c-bus's openPromisified, or I2C_BACKEND_MISSING saying what to install. */
export async function openI2cBus (busNumber: number, requireI2c: () => unknown = () => requireFromHere('i2c-bus')): Promise<I2cLikeBus> {
  let mod: { openPromisified?: (n: number) => Promise<I2cLikeBus> }
  try { mod = requireI2c() as typeof mod } catch (err) {
    const notFound = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'i2c-bus'/.test((err as Error).message)
    throw new PcpError(RpiErrorCodes.I2C_BACKEND_MISSING, notFound
      ? 'pcp-edge/rpi needs the optional peer "i2c-bus" for I2C: npm install i2c-bus@5 (its addon builds with: sudo apt install build-essential), and dtparam=i2c_arm=on in config.txt'
      : `"i2c-bus" is installed but could not be loaded (${(err as Error).message}); its native addon must be built on this machine (npm rebuild i2c-bus)`, { cause: err })
  }
  if (typeof mod.openPromisified !== 'function') throw new PcpError(RpiErrorCodes.I2C_BACKEND_MISSING, '"i2c-bus" was loaded but has no openPromisified(): i2c-bus 5 is required')
  return await mod.openPromisified(busNumber)
}

export class AuditedI2c {
  readonly busNumber: number
  readonly #bus: I2cLikeBus
  readonly #stamper: Stamper
  readonly #hash: boolean
  readonly #now: () => number
  #failed: PcpError | undefined

  private constructor (busNumber: number, bus: I2cLikeBus, opts: AuditedI2cOptions) {
    this.busNumber = busNumber
    this.#bus = bus
    this.#stamper = opts.audit
    this.#hash = opts.hashValues ?? false
    this.#now = opts.now ?? Date.now
  }

  /** Opens /dev/i2c-<busNumber> (or takes opts.bus) and stamps rpi_i2c_setup. */
  static async open (busNumber: number, opts: AuditedI2cOptions): Promise<AuditedI2c> {
    byteArg(busNumber, 'busNumber', 0xffff)
    checkStamper(opts?.audit, 'options.audit')
    const bus = opts.bus ?? await openI2cBus(busNumber, opts.requireI2c)
    const i2c = new AuditedI2c(busNumber, bus, opts)
    await i2c.#stamp('rpi_i2c_setup', { bus: busNumber, device: `/dev/i2c-${busNumber}`, backend: opts.bus ? 'injected' : 'i2c-bus', ...(opts.label ? { label: opts.label } : {}) })
    return i2c
  }

  /** Reads `length` bytes from `register` of the device at `address` (SMBus/I2C block read). */
  async readRegister (address: number, register: number, length: number): Promise<Buffer> {
    this.#check()
    byteArg(address, 'address', 0x7f); byteArg(register, 'register', 0xff); byteArg(length, 'length', 32)
    let got: { bytesRead: number, buffer: Buffer }
    try { got = await this.#bus.readI2cBlock(address, register, length, Buffer.alloc(length)) } catch (err) {
      await this.#stamp('rpi_i2c_error', { ...this.#where(address, register), op: 'read', length, message_hash: hashValue((err as Error).message), ...code(err) })
      throw err
    }
    const bytes = got.buffer.subarray(0, got.bytesRead)
    await this.#stamp('rpi_i2c_read', { ...this.#where(address, register), length, bytes_read: got.bytesRead, ...this.#bytes(bytes) })
    return Buffer.from(bytes)
  }

  /** Writes bytes to `register` (I2C block write); stamped before it is sent. */
  async writeRegister (address: number, register: number, bytes: Uint8Array | number[]): Promise<AissEvent> {
    this.#check()
    byteArg(address, 'address', 0x7f); byteArg(register, 'register', 0xff)
    const buf = Buffer.from(bytes as Uint8Array)
    if (buf.length < 1 || buf.length > 32) throw new RangeError(`"bytes" expected 1..32 bytes, got ${buf.length}`)
    const ev = await this.#stamp('rpi_i2c_write', { ...this.#where(address, register), length: buf.length, ...this.#bytes(buf) })
    try { await this.#bus.writeI2cBlock(address, register, buf.length, buf) } catch (err) {
      await this.#stamp('rpi_i2c_error', { ...this.#where(address, register), op: 'write', length: buf.length, message_hash: hashValue((err as Error).message), ...code(err) })
      throw err
    }
    return ev
  }

  async close (): Promise<void> {
    await this.#bus.close()
    await this.#stamp('rpi_i2c_cleanup', { bus: this.busNumber })
  }

  #where (address: number, register: number): Payload {
    return { bus: this.busNumber, address: '0x' + address.toString(16).padStart(2, '0'), register: '0x' + register.toString(16).padStart(2, '0'), t_ms: Math.round(this.#now()) }
  }

  #bytes (b: Uint8Array): Payload {
    const hex = Buffer.from(b).toString('hex')
    return this.#hash ? { bytes_hash: hashValue(hex) } : { bytes: hex }
  }

  #check (): void { if (this.#failed) throw this.#failed }

  async #stamp (eventType: string, payload: Payload): Promise<AissEvent> {
    try { return await stampInOrder(this.#stamper, eventType, payload) } catch (err) {
      this.#failed ??= new PcpError(RpiErrorCodes.AUDIT_FAILED, `I2C bus ${this.busNumber}: could not stamp ${eventType} (${(err as Error)?.message ?? String(err)}); this bus refuses further transfers`, { field: eventType, cause: err })
      throw this.#failed
    }
  }
}

function code (err: unknown): Payload {
  const c = (err as NodeJS.ErrnoException)?.code
  return typeof c === 'string' ? { error_code: c } : {}
}
