// The GPIO adapter conformance checks (not a suite itself): the same sequence of onoff calls, through
// AuditedGpio, against any backend — the real onoff over a simulated sysfs tree (rpi-onoff-sysfs.test.ts)
// the SimulatedPi stand-in (rpi-gpio.test.ts) and the character device on a real kernel's gpio-sim chip
// (rpi-chardev-kernel.test.ts, inside a VM). A probe looks at the "hardware" from outside, by the number
// the backend's Gpio takes (resolution.line: the sysfs number for onoff, the line offset for the chardev).
import type { Stamper } from '../runtime/index.js'
import { AuditedGpio, type BinaryValue, type GpioBackend } from '../rpi/index.js'

export interface GpioProbe {
  exported (line: number): boolean
  /** Drive an input's wire. */
  setWire (line: number, value: BinaryValue): void
  /** What an output currently drives. */
  value (line: number): BinaryValue
}

export interface Check { name: string, ok: boolean, detail: string }

async function eventually (fn: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) { if (fn()) return true; await new Promise((resolve) => setTimeout(resolve, 10)) }
  return fn()
}

/** Runs the checks on BCM pins outPin and inPin; every check is returned, pass or fail. */
export async function gpioConformance (backend: GpioBackend, probe: GpioProbe, audit: Stamper, outPin = 17, inPin = 27): Promise<Check[]> {
  const checks: Check[] = []
  const check = (name: string, ok: boolean, detail: unknown): void => { checks.push({ name, ok, detail: JSON.stringify(detail) }) }

  const out = new AuditedGpio(outPin, 'out', { audit, backend, label: 'led' })
  const r = out.resolution
  const os = r.line
  if (r.sysfs === null) check('out: line offset = BCM on the header chip (character device)', os === outPin && r.chip.base === null, { line: os, chip: r.chip.path })
  else check('out: sysfs number = chip base + BCM', r.sysfs === (r.chip.base ?? NaN) + outPin && os === r.sysfs, { sysfs: r.sysfs, base: r.chip.base })
  check('out: exported', probe.exported(os), os)
  check('out: direction() is out', out.direction() === 'out', out.direction())
  out.writeSync(1)
  check('out: writeSync(1) drives 1', probe.value(os) === 1, probe.value(os))
  await out.write(0)
  check('out: write(0) drives 0', probe.value(os) === 0, probe.value(os))
  check('out: readSync() reads back 0', out.readSync() === 0, null)
  await new Promise<void>((resolve, reject) => out.write(1, (err) => err ? reject(err) : resolve()))
  check('out: write(1, cb) drives 1', probe.value(os) === 1, probe.value(os))

  const inp = new AuditedGpio(inPin, 'in', 'both', { audit, backend })
  const is = inp.resolution.line
  check('in: exported', probe.exported(is), is)
  check('in: direction() is in', inp.direction() === 'in', inp.direction())
  check('in: edge() is both', inp.edge() === 'both', inp.edge())
  probe.setWire(is, 1)
  check('in: readSync() sees the wire at 1', inp.readSync() === 1, null)
  probe.setWire(is, 0)
  check('in: read() sees the wire at 0', (await inp.read()) === 0, null)
  const viaCb = await new Promise<BinaryValue>((resolve, reject) => inp.read((err, v) => err ? reject(err) : resolve(v)))
  check('in: read(cb) works', viaCb === 0, viaCb)

  await out.flush()
  await inp.flush()
  out.unexport()
  inp.unexport()
  check('unexport: out pin released', await eventually(() => !probe.exported(os)), os)
  check('unexport: in pin released', await eventually(() => !probe.exported(is)), is)
  await out.flush()
  await inp.flush()
  return checks
}
