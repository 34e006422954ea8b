// The sampling loop behind AuditedPiAgent.sample(). Invariants: at most one read in flight (the next
// tick is scheduled only after the previous read and its stamp finished; ticks that could not be kept
// are counted, not queued); a read that throws or returns a non-JSON number (NaN from a failed DHT22
// read) is stamped as an error and the loop goes on; a stamp that fails stops the loop, because
// readings that cannot be recorded must not be acted on silently; SIGTERM/SIGINT stop it after the
// read in flight, with a final rpi_sampler_stopped event, so systemd's `stop` leaves a clean chain end.
import type { JsonValue } from '../runtime/index.js'

export type ReadFn = () => JsonValue | Promise<JsonValue>

export interface SignalSource {
  once (signal: NodeJS.Signals, listener: () => void): unknown
  off (signal: NodeJS.Signals, listener: () => void): unknown
}

export interface SampleOptions {
  /** Period in ms. Fixed rate: tick k is due at start + k·everyMs. */
  everyMs: number
  /** Sensor name stamped with each reading. */
  sensor: string
  unit?: string
  /** Stamp value_hash instead of the values (stampReadingHashed). */
  hashed?: boolean
  salt?: string
  /** Runs after each reading is stored (decide, actuate); a throw is stamped as an error like a failed read. */
  onReading?: (values: JsonValue, seq: number) => void | Promise<void>
  /** Stop after this many successful readings (tests, benchmarks). */
  maxReadings?: number
  /** Signals that stop the loop; default SIGTERM and SIGINT. false: none. */
  stopOnSignals?: NodeJS.Signals[] | false
  /** Where signals come from; default process. */
  signals?: SignalSource
}

export type StopReason = 'stopped' | 'maxReadings' | 'audit_failed' | NodeJS.Signals

export interface SampleStats {
  sensor: string
  readings: number
  errors: number
  /** Ticks skipped because a read (plus its stamp) took longer than everyMs. */
  skipped_ticks: number
  max_read_ms: number
  reason: StopReason | null
}

export interface Sampler {
  /** Stops after the read in flight; resolves with the final stats (after rpi_sampler_stopped is stored). */
  stop (): Promise<SampleStats>
  /** Resolves when the loop ends for any reason; rejects with AUDIT_FAILED if a stamp failed. */
  readonly done: Promise<SampleStats>
  readonly stats: Readonly<SampleStats>
}

/** What the loop records through; AuditedPiAgent supplies stamping implementations. */
export interface SamplerHooks {
  reading (values: JsonValue, seq: number): Promise<unknown>
  error (err: unknown, seq: number): Promise<unknown>
  stopped (stats: SampleStats): Promise<unknown>
}

/** Why a value cannot be a reading (NaN, Infinity, undefined, a function…), or null if it can. */
export function invalidReading (value: unknown, path = 'values'): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return null
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}`
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) { const why = invalidReading(value[i], `${path}[${i}]`); if (why) return why }
    return null
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) { const why = invalidReading(v, `${path}.${k}`); if (why) return why }
    return null
  }
  return `${path} is ${value === undefined ? 'undefined' : `a ${typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value}`}`
}

export function runSampler (readFn: ReadFn, opts: SampleOptions, hooks: SamplerHooks): Sampler {
  if (typeof readFn !== 'function') throw new TypeError(`"readFn" expected a function, got ${typeof readFn}`)
  if (!Number.isFinite(opts?.everyMs) || opts.everyMs <= 0) throw new RangeError(`"everyMs" expected a period in ms > 0, got ${String(opts?.everyMs)}`)
  if (typeof opts.sensor !== 'string' || !opts.sensor) throw new TypeError('"sensor" expected a non-empty string')
  const stats: SampleStats = { sensor: opts.sensor, readings: 0, errors: 0, skipped_ticks: 0, max_read_ms: 0, reason: null }
  const signals = opts.signals ?? process
  const watched = opts.stopOnSignals === false ? [] : (opts.stopOnSignals ?? ['SIGTERM', 'SIGINT'])
  let wake: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  const requestStop = (reason: StopReason): void => {
    stats.reason ??= reason
    if (timer) clearTimeout(timer)
    wake?.()
  }
  const onSignal = new Map(watched.map((s) => [s, () => requestStop(s)]))
  for (const [s, fn] of onSignal) signals.once(s, fn)

  const loop = async (): Promise<SampleStats> => {
    let due = performance.now()
    let seq = 0
    try {
      while (stats.reason === null) {
        seq++
        const t0 = performance.now()
        let value: JsonValue | undefined
        let failure: unknown
        try {
          value = await readFn()
          const why = invalidReading(value)
          if (why) failure = Object.assign(new Error(`invalid reading: ${why}`), { name: 'InvalidReading' })
        } catch (err) { failure = err }
        // Stamp failures propagate out of the loop (fail closed); read failures were caught above.
        if (failure === undefined) {
          await hooks.reading(value as JsonValue, seq)
          stats.readings++
          if (opts.onReading) {
            try { await opts.onReading(value as JsonValue, seq) } catch (err) {
              if ((err as { code?: string })?.code === 'AUDIT_FAILED') throw err
              stats.errors++
              await hooks.error(err, seq)
            }
          }
        } else {
          stats.errors++
          await hooks.error(failure, seq)
        }
        stats.max_read_ms = Math.max(stats.max_read_ms, Math.round((performance.now() - t0) * 10) / 10)
        if (opts.maxReadings !== undefined && stats.readings >= opts.maxReadings) requestStop('maxReadings')
        if (stats.reason !== null) break
        due += opts.everyMs
        const now = performance.now()
        if (now > due) {
          const late = Math.ceil((now - due) / opts.everyMs)
          stats.skipped_ticks += late
          due += late * opts.everyMs
        }
        await new Promise<void>((resolve) => {
          wake = resolve
          timer = setTimeout(resolve, due - now)
        })
        wake = undefined
      }
    } catch (err) {
      stats.reason = 'audit_failed'
      throw err
    } finally {
      for (const [s, fn] of onSignal) signals.off(s, fn)
    }
    await hooks.stopped(stats)
    return { ...stats }
  }
  const done = loop()
  return {
    stop: async () => { requestStop('stopped'); return await done },
    done,
    get stats () { return { ...stats } }
  }
}
