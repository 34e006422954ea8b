// SIMULATED Raspberry Pi: the rpi bridge (AuditedPiAgent, AuditedGpio) on the GPIO simulator
// (rpi/sim/simulated-pi.ts), NOT hardware, as rpi/examples/fan-control.ts runs with PCP_SIMULATE=1: a
// simulated CPU temperature sampled every 250 ms, and a fan relay on BCM 14 of a simulated header.
// Every GPIO event it stamps says backend "simulated", and the sensor is named cpu_temp_simulated.
// Switching the fan is an actuator command: the bridge asks TrustGate first (the gate hook).
import type { Agent } from '../../runtime/index.js'
import { AuditedGpio, AuditedPiAgent, SimulatedPi, type ActionGate } from '../../rpi/index.js'
import type { DeviceGate, GateVerdict } from '../../sync/gate.js'

export const FAN_PIN = 14

export interface PiRun {
  readonly pi: AuditedPiAgent
  readonly fan: AuditedGpio
  /** The simulated temperatures read so far (°C), in order. */
  readings (): number[]
  /** Asks TrustGate (via the bridge's gate hook) and, if allowed, switches the simulated relay on. */
  fanOn (): Promise<GateVerdict>
  /** Stops the sampling loop (after the read in flight; stamps rpi_sampler_stopped). */
  stopSampling (): Promise<{ readings: number, errors: number }>
  /** Fan off, pin released, rpi_agent_shutdown stamped. The Agent stays open (it is the caller's). */
  shutdown (): Promise<void>
}

/** `gate` is the device's DeviceGate; the last verdict it gave is kept to show which rule decided. */
export async function startPi (agent: Agent, gate: DeviceGate): Promise<PiRun> {
  let last: GateVerdict | null = null
  const recording: ActionGate = { check: async (action, payload, ctx) => (last = await gate.check(action, payload, ctx)) }
  const pi = await AuditedPiAgent.start(agent, { name: 'pi-sensor', gate: recording, role: 'trusted' })
  const sim = new SimulatedPi()
  const fan = new AuditedGpio(FAN_PIN, 'low', { audit: agent, label: 'fan relay', backend: sim.backend })
  await fan.ready
  const temps: number[] = []
  let temp = 57
  const sampler = pi.sample(() => {
    temp = Math.round((temp + 0.7 + Math.sin(temps.length) * 0.2) * 10) / 10 // warming up, simulated
    temps.push(temp)
    return temp
  }, { everyMs: 250, sensor: 'cpu_temp_simulated', unit: 'celsius', stopOnSignals: false })
  return {
    pi,
    fan,
    readings: () => temps.slice(),
    async fanOn () {
      const t = temps.at(-1) ?? temp
      await pi.stampDecision('fan_on', { context: { temp_c: t, on_above: 60 } })
      // Stamped (and gated) BEFORE the relay moves; a refusal throws ACTUATOR_BLOCKED and nothing moves.
      try {
        await pi.stampActuator('fan', 'on', { parameters: { pin: FAN_PIN, temp_c: t } })
      } catch (err) {
        if ((err as { code?: string }).code === 'ACTUATOR_BLOCKED' && last !== null) return last
        throw err
      }
      fan.writeSync(1)
      await fan.flush()
      return last!
    },
    async stopSampling () {
      const stats = await sampler.stop()
      return { readings: stats.readings, errors: stats.errors }
    },
    async shutdown () {
      await sampler.stop()
      fan.writeSync(0)
      fan.unexport()
      await fan.flush()
      await pi.shutdown()
    }
  }
}
