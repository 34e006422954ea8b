// AuditedPiAgent: a sensor script's readings, commands, decisions and actuator commands as one signed
// chain. It wraps any Stamper (an Agent); unlike the reference bridge (bridges.md §0, gaps.md #35) the
// link lives in the event's previous_hash, which the stamper sets, so verifyChain covers every event.
// Event names and fields follow bridges.md §2.1 (rpi_*), except that decision contexts are hashed, never
// copied raw (gaps.md #40), and readings carry t_ms because the envelope timestamp is whole seconds.
import type { AissEvent, JsonValue, Stamper } from '../runtime/index.js'
import { PcpError } from '../runtime/index.js'
import { RpiErrorCodes } from './errors.js'
import { checkStamper, drain, hashSalted, hashValue, stampInOrder, type Payload } from './audit.js'
import { invalidReading, runSampler, type ReadFn, type SampleOptions, type Sampler, type SignalSource } from './sampler.js'
import { readPlatformInfo, readSystemMetrics, type SystemSource } from './system.js'

/** The hook issue 8's gate will implement; actuator commands ask it first. */
export interface ActionGate {
  check (action: string, payload: Payload, ctx: { role?: string }): Promise<{ allowed: boolean, reason?: string, [more: string]: unknown }>
}

export interface PiAgentOptions {
  /** Stamped as agent_name. */
  name?: string
  gate?: ActionGate
  /** Role passed to the gate when a command gives none. */
  role?: string
  /** Milliseconds clock for t_ms; default Date.now. */
  now?: () => number
  system?: SystemSource
  /** Default signal source for samplers and heartbeats. */
  signals?: SignalSource
}

/** stop() prevents further beats; its promise settles once a beat already being stamped is stored. */
export interface Heartbeat { stop (): Promise<void> }

export class AuditedPiAgent {
  readonly stamper: Stamper
  readonly name: string
  readonly #opts: PiAgentOptions
  readonly #samplers = new Set<Sampler>()
  readonly #heartbeats = new Set<Heartbeat>()
  #count = 0

  constructor (stamper: Stamper, opts: PiAgentOptions = {}) {
    this.stamper = checkStamper(stamper)
    this.#opts = opts
    this.name = opts.name ?? 'pi_agent'
    if (opts.gate !== undefined && typeof opts.gate?.check !== 'function') throw new TypeError('"gate" expected an object with check(action, payload, { role })')
  }

  /** Constructs and stamps rpi_agent_init (platform, is_rpi, model). */
  static async start (stamper: Stamper, opts: PiAgentOptions = {}): Promise<AuditedPiAgent> {
    const pi = new AuditedPiAgent(stamper, opts)
    const info = readPlatformInfo(opts.system)
    await pi.stamp('rpi_agent_init', { agent_name: pi.name, framework: 'raspberry_pi', aiss_profile: 'AISS-1', ...info })
    return pi
  }

  /** Any event, in call order with the others. */
  stamp (eventType: string, payload: Payload = {}): Promise<AissEvent> {
    if (typeof eventType !== 'string' || !eventType) throw new TypeError('"eventType" expected a non-empty string')
    this.#count++
    return stampInOrder(this.stamper, eventType, payload)
  }

  /** rpi_sensor_reading: the values themselves (a number, or an object such as { temp_c, humidity }). */
  stampReading (sensor: string, values: JsonValue, unit?: string): Promise<AissEvent> {
    return this.stamp('rpi_sensor_reading', this.#reading(sensor, values, unit, false))
  }

  /** rpi_sensor_reading_hashed: value_hash = hashValue(values), or hashValue({ salt, value }) with a salt. */
  stampReadingHashed (sensor: string, values: JsonValue, unit?: string, opts: { salt?: string } = {}): Promise<AissEvent> {
    return this.stamp('rpi_sensor_reading_hashed', this.#reading(sensor, values, unit, true, opts.salt))
  }

  /** rpi_command: a command this device received (from an operator, MQTT, a schedule). */
  stampCommand (command: string, parameters?: JsonValue, opts: { source?: string } = {}): Promise<AissEvent> {
    checkName(command, 'command')
    const payload: Payload = { command }
    if (parameters !== undefined) payload.parameters = parameters
    if (opts.source !== undefined) payload.source = opts.source
    return this.stamp('rpi_command', payload)
  }

  /** rpi_decision: what the script decided and a hash of what it decided on. */
  stampDecision (decision: string, opts: { context?: JsonValue, confidence?: number, model?: string } = {}): Promise<AissEvent> {
    checkName(decision, 'decision')
    const payload: Payload = { decision }
    if (opts.context !== undefined) payload.context_hash = hashValue(opts.context)
    if (opts.confidence !== undefined) {
      if (!Number.isFinite(opts.confidence)) throw new RangeError(`"confidence" expected a finite number, got ${opts.confidence}`)
      payload.confidence = Math.round(opts.confidence * 1e4) / 1e4
    }
    if (opts.model !== undefined) payload.model = opts.model
    return this.stamp('rpi_decision', payload)
  }

  /**
   * rpi_actuator_command, stamped BEFORE the caller drives the actuator (so a crash mid-action still
   * leaves the intent on record). With a gate, it is asked first; a refusal stamps rpi_actuator_blocked
   * and throws ACTUATOR_BLOCKED, and the caller must not act.
   */
  async stampActuator (actuator: string, state: JsonValue, opts: { parameters?: JsonValue, role?: string } = {}): Promise<AissEvent> {
    checkName(actuator, 'actuator')
    const payload: Payload = { actuator, state }
    if (opts.parameters !== undefined) payload.parameters = opts.parameters
    const gate = this.#opts.gate
    if (gate) {
      const role = opts.role ?? this.#opts.role
      const verdict = await gate.check(`actuator_${actuator}`, payload, role === undefined ? {} : { role })
      if (!verdict?.allowed) {
        const reason = typeof verdict?.reason === 'string' ? verdict.reason : 'refused by gate'
        await this.stamp('rpi_actuator_blocked', { ...payload, reason })
        throw new PcpError(RpiErrorCodes.ACTUATOR_BLOCKED, `actuator ${actuator} -> ${JSON.stringify(state)} blocked: ${reason}`, { field: 'actuator', actual: actuator })
      }
    }
    return await this.stamp('rpi_actuator_command', payload)
  }

  /** rpi_system_metrics: CPU temperature, load, memory, disk, uptime (system.ts). */
  async stampSystemMetrics (): Promise<AissEvent> {
    const m = await readSystemMetrics(this.#opts.system)
    return await this.stamp('rpi_system_metrics', { ...m })
  }

  /** rpi_error: the error's name and code, and a hash of its message (messages may carry paths or values). */
  stampError (source: string, err: unknown, extra: Payload = {}): Promise<AissEvent> {
    const e = err instanceof Error ? err : new Error(String(err))
    const payload: Payload = { source, error_type: e.name, message_hash: hashValue(e.message), ...extra }
    const code = (e as NodeJS.ErrnoException).code
    if (typeof code === 'string') payload.error_code = code
    return this.stamp('rpi_error', payload)
  }

  /**
   * rpi_heartbeat every everyMs (with system metrics unless metrics: false). Beats never overlap: the
   * next is scheduled after the previous one is stored. A failed beat stops the heartbeat and is reported
   * to onError (default: a process warning). Stopped by
   * stop(), shutdown() or SIGTERM/SIGINT.
   */
  startHeartbeat (everyMs: number, opts: { metrics?: boolean, stopOnSignals?: NodeJS.Signals[] | false, onError?: (err: unknown) => void } = {}): Heartbeat {
    if (!Number.isFinite(everyMs) || everyMs <= 0) throw new RangeError(`"everyMs" expected a period in ms > 0, got ${everyMs}`)
    let timer: NodeJS.Timeout | undefined
    let stopped = false
    let seq = 0
    let inFlight: Promise<void> = Promise.resolve()
    const signals = this.#opts.signals ?? process
    const watched = opts.stopOnSignals === false ? [] : (opts.stopOnSignals ?? ['SIGTERM', 'SIGINT'] as NodeJS.Signals[])
    const hb: Heartbeat = {
      stop: async () => {
        stopped = true
        if (timer) clearTimeout(timer)
        for (const s of watched) signals.off(s, hb.stop)
        this.#heartbeats.delete(hb)
        await inFlight.catch(() => {})
      }
    }
    const beat = async (): Promise<void> => {
      if (stopped) return
      const payload: Payload = { interval_ms: everyMs, seq: ++seq }
      if (opts.metrics !== false) Object.assign(payload, await readSystemMetrics(this.#opts.system))
      if (stopped) return // stopped while the metrics were read: no beat after stop()
      await this.stamp('rpi_heartbeat', payload)
      if (!stopped) timer = setTimeout(tick, everyMs)
    }
    const tick = (): void => {
      inFlight = beat()
      inFlight.catch((err: unknown) => {
        void hb.stop()
        if (opts.onError) opts.onError(err)
        else process.emitWarning(`pcp-edge/rpi: heartbeat stopped, a beat could not be stamped: ${(err as Error)?.message ?? String(err)}`)
      })
    }
    for (const s of watched) signals.once(s, hb.stop)
    this.#heartbeats.add(hb)
    timer = setTimeout(tick, everyMs)
    return hb
  }

  /** The sampling loop (sampler.ts): one reading per tick, never overlapping, errors stamped, SIGTERM-safe. */
  sample (readFn: ReadFn, opts: SampleOptions): Sampler {
    const o: SampleOptions = { ...opts, signals: opts?.signals ?? this.#opts.signals }
    const sampler = runSampler(readFn, o, {
      reading: (values, seq) => this.stamp(o.hashed ? 'rpi_sensor_reading_hashed' : 'rpi_sensor_reading',
        { ...this.#reading(o.sensor, values, o.unit, o.hashed ?? false, o.salt), seq }),
      error: (err, seq) => this.stampError('sample', err, { sensor: o.sensor, seq }),
      stopped: (stats) => this.stamp('rpi_sampler_stopped', { ...stats })
    })
    this.#samplers.add(sampler)
    sampler.done.then(() => this.#samplers.delete(sampler), () => this.#samplers.delete(sampler))
    return sampler
  }

  /** Events stamped through this object so far. */
  get eventCount (): number { return this.#count }

  /** Stops heartbeats and samplers, waits for queued stamps, stamps rpi_agent_shutdown. Does not close the stamper. */
  async shutdown (): Promise<AissEvent> {
    await Promise.all([...this.#heartbeats].map((hb) => hb.stop()))
    await Promise.allSettled([...this.#samplers].map((s) => s.stop()))
    await drain(this.stamper)
    return await this.stamp('rpi_agent_shutdown', { agent_name: this.name, event_count: this.#count })
  }

  #reading (sensor: string, values: JsonValue, unit: string | undefined, hashed: boolean, salt?: string): Payload {
    checkName(sensor, 'sensor')
    const why = invalidReading(values)
    if (why) throw new RangeError(`"values" cannot be stamped: ${why}`)
    const payload: Payload = { sensor }
    if (hashed) payload.value_hash = hashSalted(values, salt)
    else payload.values = values
    if (unit !== undefined) payload.unit = unit
    payload.t_ms = Math.round((this.#opts.now ?? Date.now)())
    return payload
  }
}

function checkName (value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`"${name}" expected a non-empty string, got ${value === '' ? 'an empty string' : typeof value}`)
}
