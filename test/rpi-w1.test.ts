// DS18B20 over /sys/bus/w1 against a SIMULATED sysfs tree (a temp dir, STAND-IN for the kernel) holding
// w1_slave texts in w1_therm's format (drivers/w1/slaves/w1_therm.c, w1_slave_show: nine "%02x "
// scratchpad bytes, ": crc=%02x YES|NO", then the bytes again and "t=%d" in m°C). The byte strings are
// real scratchpads: 72 01 … 57 is 23.125 °C with its Dallas CRC 0x57; 50 05 4b 46 7f ff 0c 10 1c is
// the DS18B20 datasheet's power-on reset scratchpad (85 °C). Bad answers become rpi_error, never readings.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditedPiAgent, parseW1Slave, readDs18b20, ds18b20Reader, w1Crc8 } from '../rpi/index.js'
import { openTestChain } from './rpi-helpers.js'
import { tmpDir, codeOf } from './helpers.js'

const W1 = suite('rpi DS18B20 over /sys/bus/w1 (simulated tree)')
const ID = '28-0316a2795eff'
const w1 = (bytes: string, crc: string, verdict: 'YES' | 'NO', mC: number): string => `${bytes} : crc=${crc} ${verdict}\n${bytes} t=${mC}\n`
const GOOD = w1('72 01 4b 46 7f ff 0e 10 57', '57', 'YES', 23125)
const NEGATIVE = w1('5e ff 4b 46 7f ff 02 10 b6', 'b6', 'YES', -10125)
const CRC_NO = w1('72 01 4b 46 7f ff 0e 10 50', '57', 'NO', 23125)
const POWER_ON = w1('50 05 4b 46 7f ff 0c 10 1c', '1c', 'YES', 85000)
const ZEROS = w1('00 00 00 00 00 00 00 00 00', '00', 'YES', 0)
// The kernel said YES, but byte 8 does not match the other bytes: we do not take its word.
const BAD_CRC_YES = w1('73 01 4b 46 7f ff 0e 10 57', '57', 'YES', 23187)

W1('parses the kernel format, re-checks the CRC and decodes the temperature from the bytes', () => {
  assert.is(w1Crc8(Uint8Array.from([0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10])), 0x57)
  assert.is(w1Crc8(Uint8Array.from([0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10])), 0x1c, 'the datasheet power-on scratchpad has CRC 1c')
  assert.equal(parseW1Slave(GOOD, ID), { sensor_id: ID, temp_c: 23.125, scratchpad: '72 01 4b 46 7f ff 0e 10 57' })
  assert.is(parseW1Slave(NEGATIVE, ID).temp_c, -10.125)
  for (const [text, code] of [[CRC_NO, 'W1_CRC_FAILED'], [POWER_ON, 'W1_POWER_ON_VALUE'], [ZEROS, 'W1_READ_FAILED'], [BAD_CRC_YES, 'W1_CRC_FAILED'], ['garbage\n', 'W1_READ_FAILED'],
    [w1('72 01 4b 46 7f ff 0e 10 57', '57', 'YES', 25000), 'W1_READ_FAILED']] as const) {
    assert.throws(() => parseW1Slave(text, ID), (e: { code?: string }) => e.code === code, `${JSON.stringify(text.slice(0, 40))} → ${code}`)
  }
})

W1('sampled through AuditedPiAgent: good values are readings; CRC NO, 85 °C and a silent sensor are rpi_error with their code', async () => {
  const tmp = tmpDir('pcp-w1-')
  const chain = await openTestChain()
  try {
    const dir = join(tmp.path, 'devices', ID)
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'w1_slave')
    const answers = [GOOD, CRC_NO, POWER_ON, ZEROS, NEGATIVE]
    const read = ds18b20Reader(ID, { root: join(tmp.path, 'devices') })
    let i = 0
    const pi = new AuditedPiAgent(chain)
    const stats = await pi.sample(async () => { writeFileSync(file, answers[i++]!); return await read() },
      { everyMs: 5, sensor: 'tank', unit: 'celsius', maxReadings: 2, stopOnSignals: false }).done
    assert.equal([stats.readings, stats.errors], [2, 3])
    assert.equal(chain.payloads('rpi_sensor_reading').map((p) => (p.values as { temp_c: number }).temp_c), [23.125, -10.125], 'only real measurements are readings')
    assert.equal(chain.payloads('rpi_error').map((p) => p.error_code), ['W1_CRC_FAILED', 'W1_POWER_ON_VALUE', 'W1_READ_FAILED'])
    assert.ok((await chain.verify()).valid)
    assert.is(await codeOf(readDs18b20('28-000000000000', { root: join(tmp.path, 'devices') })), 'W1_READ_FAILED', 'a sensor that is not there')
    assert.throws(() => ds18b20Reader('10-abc'), TypeError)
  } finally { await chain.close(); tmp.cleanup() }
})

W1.run()
