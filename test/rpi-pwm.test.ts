// AuditedPwm against a SIMULATED /sys/class/pwm tree (a temp dir; STAND-IN for the kernel, laid out as
// Documentation/ABI/testing/sysfs-class-pwm says: pwmchipN/{npwm,export,unexport}, pwmM/{period,
// duty_cycle,enable,polarity} in ns). A small in-test "kernel" creates pwmM/ when M is written to
// export. What it cannot show: the kernel's EINVAL for duty > period (checked before writing here).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditedPiAgent, AuditedPwm, type ActionGate } from '../rpi/index.js'
import { openTestChain } from './rpi-helpers.js'
import { tmpDir, codeOf } from './helpers.js'

const Pwm = suite('rpi AuditedPwm on a simulated sysfs PWM tree')

function pwmTree (root: string, npwm = 2): { stop: () => void, read: (ch: number, f: string) => string } {
  const chip = join(root, 'pwmchip0')
  mkdirSync(chip, { recursive: true })
  writeFileSync(join(chip, 'npwm'), `${npwm}\n`)
  writeFileSync(join(chip, 'export'), '')
  writeFileSync(join(chip, 'unexport'), '')
  // The "kernel": a channel written to export appears as pwmM/ with the ABI's attributes.
  const timer = setInterval(() => {
    const w = readFileSync(join(chip, 'export'), 'utf8').trim()
    if (w === '') return
    writeFileSync(join(chip, 'export'), '')
    const dir = join(chip, `pwm${w}`)
    mkdirSync(dir, { recursive: true })
    for (const [f, v] of [['period', '0'], ['duty_cycle', '0'], ['enable', '0'], ['polarity', 'normal']]) writeFileSync(join(dir, f!), `${v}\n`)
  }, 5)
  return { stop: () => clearInterval(timer), read: (ch, f) => readFileSync(join(chip, `pwm${ch}`, f), 'utf8').trim() }
}

Pwm('export, period/duty/enable: each change an actuator command stamped before the sysfs write; close disables and unexports', async () => {
  const tmp = tmpDir('pcp-pwm-')
  const chain = await openTestChain()
  const k = pwmTree(tmp.path)
  try {
    const pi = new AuditedPiAgent(chain)
    const fan = await AuditedPwm.open(pi, 0, 1, { root: tmp.path, name: 'fan' })
    assert.ok(existsSync(join(tmp.path, 'pwmchip0', 'pwm1', 'period')), 'exported')
    // What the file held when each command was stamped: the old value (intent first, then the write).
    const seenAtStamp: string[] = []
    const orig = chain.stamp.bind(chain)
    chain.stamp = async (t, p) => { if (t === 'rpi_actuator_command') seenAtStamp.push(k.read(1, 'duty_cycle')); return await orig(t, p) }
    await fan.set(40_000, 10_000) // 25 kHz, 25 %
    await fan.enable()
    await fan.setDuty(0.75)
    await fan.set(20_000, 15_000) // shorter period than the current duty → duty written first
    assert.equal([k.read(1, 'period'), k.read(1, 'duty_cycle'), k.read(1, 'enable')], ['20000', '15000', '1'])
    assert.equal(seenAtStamp, ['0', '10000', '10000', '30000'])
    await fan.close()
    assert.is(readFileSync(join(tmp.path, 'pwmchip0', 'unexport'), 'utf8'), '1')
    const cmds = chain.payloads('rpi_actuator_command')
    assert.equal(cmds.map((c) => c.state), [
      { period_ns: 40000, duty_cycle_ns: 10000, enabled: false },
      { period_ns: 40000, duty_cycle_ns: 10000, enabled: true },
      { period_ns: 40000, duty_cycle_ns: 30000, enabled: true },
      { period_ns: 20000, duty_cycle_ns: 15000, enabled: true },
      { period_ns: 20000, duty_cycle_ns: 15000, enabled: false }
    ])
    assert.ok(cmds.every((c) => c.actuator === 'fan' && (c.parameters as { chip: number }).chip === 0))
    assert.equal(chain.types().filter((t) => t.startsWith('rpi_pwm')), ['rpi_pwm_setup', 'rpi_pwm_cleanup'])
    assert.ok((await chain.verify()).valid)
  } finally { k.stop(); await chain.close(); tmp.cleanup() }
})

Pwm('the gate decides like for a GPIO output: a refusal is stamped rpi_actuator_blocked and nothing is written', async () => {
  const tmp = tmpDir('pcp-pwm-')
  const chain = await openTestChain()
  const k = pwmTree(tmp.path)
  try {
    const gate: ActionGate = { check: async (action, payload) => {
      const s = payload.state as { duty_cycle_ns: number, period_ns: number }
      return s.duty_cycle_ns > s.period_ns / 2 ? { allowed: false, reason: `${action}: above 50 %` } : { allowed: true }
    } }
    const pi = new AuditedPiAgent(chain, { gate })
    const heater = await AuditedPwm.open(pi, 0, 0, { root: tmp.path, name: 'heater' })
    await heater.set(1_000_000, 400_000)
    assert.is(await codeOf(heater.setDuty(0.9)), 'ACTUATOR_BLOCKED')
    assert.is(k.read(0, 'duty_cycle'), '400000', 'the refused duty never reached sysfs')
    assert.equal(heater.state.duty_cycle_ns, 400_000)
    assert.equal(chain.payloads('rpi_actuator_blocked').map((p) => [p.actuator, p.reason]), [['heater', 'actuator_heater: above 50 %']])
    let err: unknown
    try { await heater.set(1000, 2000) } catch (e) { err = e }
    assert.instance(err, RangeError, 'duty above period is refused before anything is stamped or written')
  } finally { k.stop(); await chain.close(); tmp.cleanup() }
})

Pwm('a missing chip or a channel beyond npwm is PWM_MISSING', async () => {
  const tmp = tmpDir('pcp-pwm-')
  const chain = await openTestChain()
  const k = pwmTree(tmp.path, 1)
  try {
    const pi = new AuditedPiAgent(chain)
    assert.is(await codeOf(AuditedPwm.open(pi, 3, 0, { root: tmp.path })), 'PWM_MISSING')
    assert.is(await codeOf(AuditedPwm.open(pi, 0, 1, { root: tmp.path })), 'PWM_MISSING')
  } finally { k.stop(); await chain.close(); tmp.cleanup() }
})

Pwm.run()
