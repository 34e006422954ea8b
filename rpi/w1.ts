// DS18B20 temperatures through the kernel's 1-Wire bus (w1-gpio overlay + w1_therm), read from
// /sys/bus/w1/devices/28-<serial>/w1_slave. The format is w1_therm's w1_slave_show():
//   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//   72 01 4b 46 7f ff 0e 10 57 t=23125
// the 9 scratchpad bytes, the kernel's CRC verdict, then the temperature in m°C. Two answers are NOT
// readings and must not be stamped as such: a failed CRC (`NO`, a noisy or long wire) and 85 °C, the
// power-on reset value of the scratchpad (50 05 …), which a sensor that browned out returns before its
// next conversion. An all-zero scratchpad (CRC 00 passes!) is a sensor that is not answering. These
// throw coded errors, so AuditedPiAgent.sample() stamps them as rpi_error with their code.
// We re-check the CRC (Dallas/Maxim CRC-8) and recompute t from bytes 0-1 rather than trust the text.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PcpError } from '../runtime/errors.js'
import { RpiErrorCodes } from './errors.js'
import type { JsonObject } from '../runtime/index.js'

export const W1_DEVICES_ROOT = '/sys/bus/w1/devices'
const SERIAL = /^28-[0-9a-f]{12}$/

/** Dallas/Maxim 1-Wire CRC-8 (x^8 + x^5 + x^4 + 1, reflected: 0x8C), as the DS18B20 datasheet defines. */
export function w1Crc8 (bytes: Uint8Array): number {
  let crc = 0
  for (let b of bytes) {
    for (let i = 0; i < 8; i++) {
      const mix = (crc ^ b) & 1
      crc >>= 1
      if (mix) crc ^= 0x8c
      b >>= 1
    }
  }
  return crc
}

export interface Ds18b20Reading extends JsonObject {
  sensor_id: string
  temp_c: number
  /** The 9 scratchpad bytes as the kernel printed them, so the reading can be re-checked. */
  scratchpad: string
}

/** Parses w1_slave text; throws W1_READ_FAILED / W1_CRC_FAILED / W1_POWER_ON_VALUE. */
export function parseW1Slave (text: string, sensorId = 'ds18b20'): Ds18b20Reading {
  const fields = { field: 'w1_slave', actual: text.slice(0, 120) }
  const m = /^((?:[0-9a-f]{2} ){9}): crc=([0-9a-f]{2}) (YES|NO)\n((?:[0-9a-f]{2} ){9})t=(-?\d+)\n?$/.exec(text)
  if (!m) throw new PcpError(RpiErrorCodes.W1_READ_FAILED, `${sensorId}: w1_slave is not in w1_therm's format: ${JSON.stringify(text.slice(0, 120))}`, fields)
  const bytes = Uint8Array.from(m[1]!.trim().split(' ').map((h) => parseInt(h, 16)))
  const scratchpad = m[1]!.trim()
  if (m[3] === 'NO') throw new PcpError(RpiErrorCodes.W1_CRC_FAILED, `${sensorId}: the kernel's CRC check failed (crc=${m[2]} NO, scratchpad ${scratchpad}): check the wiring and the 4.7 kΩ pull-up`, { ...fields, expected: m[2] })
  if (bytes.every((b) => b === 0)) throw new PcpError(RpiErrorCodes.W1_READ_FAILED, `${sensorId}: the scratchpad is all zeros (the sensor is not answering; its CRC passes by accident)`, fields)
  const crc = w1Crc8(bytes.subarray(0, 8))
  if (crc !== bytes[8]) throw new PcpError(RpiErrorCodes.W1_CRC_FAILED, `${sensorId}: scratchpad ${scratchpad} has CRC ${crc.toString(16).padStart(2, '0')}, byte 8 says ${bytes[8]!.toString(16).padStart(2, '0')}`, { ...fields, expected: crc, actual: bytes[8] })
  // Bytes 0-1: the temperature, signed, 1/16 °C (12-bit resolution; lower resolutions leave low bits undefined).
  const raw = (bytes[1]! << 8 | bytes[0]!) << 16 >> 16
  const mC = Number(m[5])
  if (raw * 62.5 !== mC) throw new PcpError(RpiErrorCodes.W1_READ_FAILED, `${sensorId}: t=${mC} does not match the scratchpad's ${raw * 62.5} m°C`, fields)
  if (raw === 0x0550) throw new PcpError(RpiErrorCodes.W1_POWER_ON_VALUE, `${sensorId}: 85 °C is the DS18B20's power-on reset value (scratchpad ${scratchpad}), not a measurement: the sensor lost power or was read before converting`, { ...fields, actual: 85 })
  return { sensor_id: sensorId, temp_c: mC / 1000, scratchpad }
}

function checkSerial (sensorId: unknown): void {
  if (typeof sensorId !== 'string' || !SERIAL.test(sensorId)) throw new TypeError(`"sensorId" expected a DS18B20 1-Wire id like 28-0316a2795eff, got ${JSON.stringify(sensorId)}`)
}

/** Reads one DS18B20 by its 1-Wire id (28-xxxxxxxxxxxx). `root` defaults to /sys/bus/w1/devices. */
export async function readDs18b20 (sensorId: string, opts: { root?: string } = {}): Promise<Ds18b20Reading> {
  checkSerial(sensorId)
  const file = join(opts.root ?? W1_DEVICES_ROOT, sensorId, 'w1_slave')
  let text: string
  try { text = await readFile(file, 'utf8') } catch (err) {
    throw new PcpError(RpiErrorCodes.W1_READ_FAILED, `${sensorId}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); is dtoverlay=w1-gpio set and the sensor wired?`, { file, cause: err })
  }
  return parseW1Slave(text, sensorId)
}

/** A ReadFn for AuditedPiAgent.sample(): each tick one reading, or a coded error stamped as rpi_error. */
export function ds18b20Reader (sensorId: string, opts: { root?: string } = {}): () => Promise<Ds18b20Reading> {
  checkSerial(sensorId)
  return () => readDs18b20(sensorId, opts)
}
