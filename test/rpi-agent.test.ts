// AuditedPiAgent on a real Agent (temp home): the stamp methods, the gate hook, system metrics from a
// fake /proc + /sys tree, the heartbeat, and the sampling loop's invariants. SIGTERM in a real process is
// covered by rpi-example.test.ts.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EventEmitter } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hashValue } from '../runtime/index.js'
import { AuditedPiAgent, type ActionGate } from '../rpi/index.js'
import { openTestChain } from './rpi-helpers.js'
import { tmpDir } from './helpers.js'

const Pi = suite('rpi AuditedPiAgent')
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function fakeSystem (): { procRoot: string, sysRoot: string, diskPath: string, cleanup: () => void } {
  const tmp = tmpDir('pcp-rpi-sys-')
  const root = tmp.path
  mkdirSync(join(root, 'proc/device-tree'), { recursive: true })
  mkdirSync(join(root, 'sys/class/thermal/thermal_zone0'), { recursive: true })
  writeFileSync(join(root, 'proc/device-tree/model'), 'Raspberry Pi 4 Model B Rev 1.5\0')
  writeFileSync(join(root, 'proc/loadavg'), '0.52 0.41 0.30 1/123 4567\n')
  writeFileSync(join(root, 'proc/meminfo'), 'MemTotal:        3884096 kB\nMemFree:          100000 kB\nMemAvailable:    2942048 kB\n')
  writeFileSync(join(root, 'proc/uptime'), '12345.67 40000.00\n')
  writeFileSync(join(root, 'sys/class/thermal/thermal_zone0/temp'), '48686\n')
  return { procRoot: join(root, 'proc'), sysRoot: join(root, 'sys'), diskPath: root, cleanup: tmp.cleanup }
}

Pi('stamp methods: readings raw and hashed, command, decision (context hashed), init and shutdown', async () => {
  const sys = fakeSystem()
  const chain = await openTestChain()
  try {
    const pi = await AuditedPiAgent.start(chain, { name: 'greenhouse', system: sys, now: () => 1700000000123 })
    await pi.stampReading('dht22', { temp_c: 21.5, humidity: 40 }, 'mixed')
    await pi.stampReadingHashed('badge_reader', 'employee-4711')
    await pi.stampReadingHashed('occupancy', 3, 'people', { salt: 'off-chain-secret' })
    await pi.stampCommand('set_target', { temp_c: 22 }, { source: 'mqtt' })
    await pi.stampDecision('heater_on', { context: { temp_c: 21.5, target: 22 }, confidence: 0.912345, model: 'hysteresis' })
    await pi.shutdown()
    const [init] = chain.payloads('rpi_agent_init')
    assert.equal([init!.agent_name, init!.framework, init!.is_rpi, init!.model], ['greenhouse', 'raspberry_pi', true, 'Raspberry Pi 4 Model B Rev 1.5'])
    assert.equal(chain.payloads('rpi_sensor_reading')[0], { event_type: 'rpi_sensor_reading', sensor: 'dht22', values: { temp_c: 21.5, humidity: 40 }, unit: 'mixed', t_ms: 1700000000123 })
    const hashed = chain.payloads('rpi_sensor_reading_hashed')
    assert.is(hashed[0]!.value_hash, hashValue('employee-4711'))
    assert.not.ok(JSON.stringify(chain.events).includes('employee-4711'), 'the raw value never reaches the chain')
    assert.is(hashed[1]!.value_hash, hashValue({ salt: 'off-chain-secret', value: 3 }))
    const d = chain.payloads('rpi_decision')[0]!
    assert.equal([d.decision, d.context_hash, d.confidence, d.model, d.context], ['heater_on', hashValue({ temp_c: 21.5, target: 22 }), 0.9123, 'hysteresis', undefined])
    assert.equal(chain.payloads('rpi_command')[0]!.parameters, { temp_c: 22 })
    assert.equal(chain.payloads('rpi_agent_shutdown')[0]!.event_count, 6, 'events before the shutdown event')
    assert.throws(() => pi.stampReading('x', Number.NaN), (e: Error) => e instanceof RangeError && /values is NaN/.test(e.message))
    assert.ok((await chain.verify()).valid)
  } finally { sys.cleanup(); await chain.close() }
})

Pi('actuator commands ask the gate first; a refusal stamps rpi_actuator_blocked and throws ACTUATOR_BLOCKED', async () => {
  const chain = await openTestChain()
  const asked: unknown[] = []
  const gate: ActionGate = {
    async check (action, payload, ctx) { asked.push([action, payload, ctx]); return payload.state === 'open' ? { allowed: false, reason: 'valve locked' } : { allowed: true } }
  }
  try {
    const pi = new AuditedPiAgent(chain, { gate, role: 'operator' })
    await pi.stampActuator('valve', 'closed', { parameters: { pin: 18 } })
    try { await pi.stampActuator('valve', 'open', { role: 'guest' }); assert.unreachable() } catch (err) {
      assert.is((err as { code?: string }).code, 'ACTUATOR_BLOCKED')
    }
    assert.equal(asked, [['actuator_valve', { actuator: 'valve', state: 'closed', parameters: { pin: 18 } }, { role: 'operator' }], ['actuator_valve', { actuator: 'valve', state: 'open' }, { role: 'guest' }]])
    assert.equal(chain.types(), ['rpi_actuator_command', 'rpi_actuator_blocked'])
    assert.is(chain.payloads('rpi_actuator_blocked')[0]!.reason, 'valve locked')
  } finally { await chain.close() }
})

Pi('system metrics and heartbeat read the Pi sources (fake /proc and /sys tree)', async () => {
  const sys = fakeSystem()
  const chain = await openTestChain()
  try {
    const pi = new AuditedPiAgent(chain, { system: sys })
    const m = (await pi.stampSystemMetrics()).payload
    assert.equal([m.cpu_temp_c, m.load_1, m.load_15, m.mem_total_mib, m.mem_available_mib, m.mem_used_percent, m.uptime_sec], [48.7, 0.52, 0.3, 3793.1, 2873.1, 24.3, 12346])
    assert.ok((m.disk_total_mib as number) > 0 && typeof m.disk_used_percent === 'number')
    const hb = pi.startHeartbeat(30, { stopOnSignals: false })
    // Wait for three beats rather than a fixed time: a loaded CI machine may stretch a 30 ms timer.
    for (const deadline = Date.now() + 10_000; chain.payloads('rpi_heartbeat').length < 3 && Date.now() < deadline;) await sleep(20)
    await hb.stop()
    const beats = chain.payloads('rpi_heartbeat')
    assert.ok(beats.length >= 3, `${beats.length} beats`)
    assert.equal(beats.map((b) => b.seq), beats.map((_b, i) => i + 1))
    assert.is(beats[0]!.cpu_temp_c, 48.7)
    const n = beats.length
    await sleep(80)
    assert.is(chain.payloads('rpi_heartbeat').length, n, 'no beat after stop')
  } finally { sys.cleanup(); await chain.close() }
})

Pi('sample: reads never overlap, a throwing or NaN read is stamped as rpi_error and the loop goes on', async () => {
  const chain = await openTestChain()
  try {
    const pi = new AuditedPiAgent(chain)
    let inFlight = 0; let maxInFlight = 0; let n = 0
    const sampler = pi.sample(async () => {
      inFlight++; maxInFlight = Math.max(maxInFlight, inFlight)
      n++
      await sleep(n === 2 ? 45 : 1) // one slow read, longer than the period
      inFlight--
      if (n === 3) throw Object.assign(new Error('I2C bus timeout at /dev/i2c-1'), { code: 'ETIMEDOUT' })
      if (n === 4) return Number.NaN
      return 20 + n
    }, { everyMs: 10, sensor: 'bme280', unit: 'celsius', maxReadings: 6, stopOnSignals: false })
    const stats = await sampler.done
    assert.is(maxInFlight, 1)
    assert.equal([stats.readings, stats.errors, stats.reason], [6, 2, 'maxReadings'])
    assert.ok(stats.skipped_ticks >= 3, `skipped ${stats.skipped_ticks}`)
    const errors = chain.payloads('rpi_error')
    assert.equal(errors.map((e) => [e.source, e.sensor, e.seq, e.error_type]), [['sample', 'bme280', 3, 'Error'], ['sample', 'bme280', 4, 'InvalidReading']])
    assert.is(errors[0]!.error_code, 'ETIMEDOUT')
    assert.is(errors[0]!.message_hash, hashValue('I2C bus timeout at /dev/i2c-1'))
    assert.equal(chain.payloads('rpi_sensor_reading').map((r) => [r.seq, r.values]), [[1, 21], [2, 22], [5, 25], [6, 26], [7, 27], [8, 28]])
    assert.is(chain.types().at(-1), 'rpi_sampler_stopped')
    assert.ok((await chain.verify()).valid)
  } finally { await chain.close() }
})

Pi('sample: a signal stops it after the read in flight; stop() works; a failed stamp stops it with AUDIT_FAILED', async () => {
  const chain = await openTestChain()
  try {
    const signals = new EventEmitter()
    const pi = new AuditedPiAgent(chain, { signals })
    let reading = false
    const s = pi.sample(async () => { reading = true; await sleep(30); reading = false; return 1 }, { everyMs: 5, sensor: 'slow' })
    await sleep(10)
    assert.ok(reading)
    signals.emit('SIGTERM')
    const stats = await s.done
    assert.is(stats.reason, 'SIGTERM')
    assert.is(stats.readings, 1, 'the read in flight completed and was stamped')
    assert.is(signals.listenerCount('SIGTERM'), 0, 'signal listeners removed')
    const s2 = pi.sample(() => 2, { everyMs: 5, sensor: 'fast', stopOnSignals: false })
    await sleep(30)
    assert.is((await s2.stop()).reason, 'stopped')
    const s3 = pi.sample(() => 3, { everyMs: 5, sensor: 'doomed', stopOnSignals: false })
    await sleep(15)
    await chain.breakStore()
    try { await s3.done; assert.unreachable() } catch (err) { assert.is((err as { code?: string }).code, 'STORE_CLOSED') }
    assert.is(s3.stats.reason, 'audit_failed')
  } finally { await chain.close() }
})

Pi.run()
