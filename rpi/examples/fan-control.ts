// Example: a temperature-controlled fan on a Raspberry Pi, every reading, decision and switch signed
// into one chain. Reads the SoC temperature every PCP_SAMPLE_MS (default 2000), switches a fan relay on
// BCM pin PCP_FAN_PIN (default 14) on above 60 °C and off below 50 °C, stamps system metrics as a
// heartbeat every minute, and stops cleanly on SIGTERM (systemctl stop) with the chain closed.
//
//   node --import tsx rpi/examples/fan-control.ts          # on a Pi (user in the gpio group)
//   PCP_SIMULATE=1 node --import tsx rpi/examples/fan-control.ts   # anywhere: SIMULATED Pi and temperature
//   node node_modules/pcp-edge/dist/rpi/examples/fan-control.js    # installed package: plain node, no dev tools
// The key comes unlocked from the systemd credential pcp-key (`pcp identity unlock`, no scrypt at start:
// no 128 MiB peak on a Pi Zero 2 W), else its passphrase from the credential pcp-passphrase
// (LoadCredential=), else $PCP_PASSPHRASE; PCP_DURABILITY=interval fsyncs once a second instead of per
// reading (SD cards).
//
// In your own project import from the package instead: 'pcp-edge' and 'pcp-edge/rpi'.
import { readFile } from 'node:fs/promises'
import { Agent } from '../../runtime/index.js'
import { AuditedGpio, AuditedPiAgent, SimulatedPi } from '../index.js'
import { serviceKey } from '../credentials.js'

const simulate = process.env.PCP_SIMULATE === '1'
const pin = Number(process.env.PCP_FAN_PIN ?? 14)
const everyMs = Number(process.env.PCP_SAMPLE_MS ?? 2000)
const ON_ABOVE = 60
const OFF_BELOW = 50

const { source: _keySource, ...key } = serviceKey()
const durability = process.env.PCP_DURABILITY as 'durable' | 'interval' | 'relaxed' | undefined
const agent = await Agent.open({ name: process.env.PCP_AGENT ?? 'pi-fan' }, { ...key, ...(durability ? { durability } : {}) })
const pi = await AuditedPiAgent.start(agent, { name: 'pi-fan' })
// STAND-IN when PCP_SIMULATE=1: a simulated GPIO header; every GPIO event then says simulated: true.
const sim = simulate ? new SimulatedPi() : undefined
const fan = new AuditedGpio(pin, 'low', { audit: agent, label: 'fan relay', ...(sim ? { backend: sim.backend } : {}) })
let fanOn = false
let simTemp = 55

async function readCpuTemp (): Promise<number> {
  if (simulate) { simTemp += fanOn ? -2.5 : 2.5; return simTemp } // simulated: warms up, the fan cools it
  const milli = Number((await readFile('/sys/class/thermal/thermal_zone0/temp', 'utf8')).trim())
  return Math.round(milli / 100) / 10
}

const heartbeat = pi.startHeartbeat(60_000)
const sampler = pi.sample(readCpuTemp, {
  everyMs,
  sensor: simulate ? 'cpu_temp_simulated' : 'cpu_temp',
  unit: 'celsius',
  onReading: async (temp) => {
    const want = (temp as number) > ON_ABOVE ? true : (temp as number) < OFF_BELOW ? false : fanOn
    if (want === fanOn) return
    await pi.stampDecision(want ? 'fan_on' : 'fan_off', { context: { temp, on_above: ON_ABOVE, off_below: OFF_BELOW } })
    await pi.stampActuator('fan', want ? 'on' : 'off', { parameters: { pin } })
    fan.writeSync(want ? 1 : 0)
    fanOn = want
  }
})
console.log(`pcp fan control: agent ${agent.agentId}, fan on BCM ${pin}${simulate ? ' (SIMULATED)' : ''}, every ${everyMs} ms`)

const stats = await sampler.done // resolves on SIGTERM/SIGINT, after the read in flight
await heartbeat.stop()
fan.writeSync(0)
fan.unexport()
await fan.flush()
await pi.shutdown()
await agent.close()
console.log(`stopped (${stats.reason}): ${stats.readings} readings, ${stats.errors} errors`)
