// Audited PWM through the kernel's sysfs PWM interface (Documentation/ABI/testing/sysfs-class-pwm):
//   /sys/class/pwm/pwmchipN/{npwm, export, unexport}, and once exported pwmchipN/pwmM/{period,
//   duty_cycle, enable, polarity}, times in nanoseconds, duty_cycle <= period.
// Every change of period, duty or enable is an actuator command: stamped through
// AuditedPiAgent.stampActuator() BEFORE the sysfs write (so a crash mid-action still leaves the intent),
// asked of the gate first exactly like a GPIO output driven by a script (a refusal stamps
// rpi_actuator_blocked, throws ACTUATOR_BLOCKED and nothing is written). The kernel refuses a duty
// above the period with EINVAL, so the order of writes matters when both change: we check first.
import { readFile, writeFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { PcpError } from '../runtime/errors.js'
import { RpiErrorCodes } from './errors.js'
import type { AuditedPiAgent } from './agent.js'
import type { AissEvent } from '../runtime/index.js'

export const SYSFS_PWM_ROOT = '/sys/class/pwm'

export interface AuditedPwmOptions {
  /** Default /sys/class/pwm (tests point it at a simulated tree). */
  root?: string
  /** Actuator name in the chain; default pwm<chip>_<channel>. */
  name?: string
  role?: string
  /** How long to wait for pwmM/ after writing export (udev may also need to chgrp it). */
  exportTimeoutMs?: number
}

export interface PwmState { period_ns: number, duty_cycle_ns: number, enabled: boolean }

function ns (v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RangeError(`"${name}" expected whole nanoseconds >= 0, got ${String(v)}`)
  return v
}

export class AuditedPwm {
  readonly chip: number
  readonly channel: number
  readonly name: string
  readonly dir: string
  readonly #pi: AuditedPiAgent
  readonly #root: string
  readonly #role: string | undefined
  #state: PwmState = { period_ns: 0, duty_cycle_ns: 0, enabled: false }

  private constructor (pi: AuditedPiAgent, chip: number, channel: number, opts: AuditedPwmOptions) {
    this.#pi = pi
    this.chip = chip
    this.channel = channel
    this.#root = opts.root ?? SYSFS_PWM_ROOT
    this.#role = opts.role
    this.name = opts.name ?? `pwm${chip}_${channel}`
    this.dir = join(this.#root, `pwmchip${chip}`, `pwm${channel}`)
  }

  /** Exports the channel if needed, reads its current state and stamps rpi_pwm_setup. */
  static async open (pi: AuditedPiAgent, chip: number, channel: number, opts: AuditedPwmOptions = {}): Promise<AuditedPwm> {
    if (!Number.isSafeInteger(chip) || chip < 0) throw new RangeError(`"chip" expected a pwmchip number, got ${String(chip)}`)
    if (!Number.isSafeInteger(channel) || channel < 0) throw new RangeError(`"channel" expected a channel number, got ${String(channel)}`)
    const pwm = new AuditedPwm(pi, chip, channel, opts)
    const chipDir = join(pwm.#root, `pwmchip${chip}`)
    let npwm: number
    try { npwm = Number((await readFile(join(chipDir, 'npwm'), 'utf8')).trim()) } catch (err) {
      throw new PcpError(RpiErrorCodes.PWM_MISSING, `no PWM chip at ${chipDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); enable one with dtoverlay=pwm or pwm-2chan in config.txt`, { file: chipDir, cause: err })
    }
    if (channel >= npwm) throw new PcpError(RpiErrorCodes.PWM_MISSING, `pwmchip${chip} has ${npwm} channels; ${channel} is out of range`, { field: 'channel', actual: channel, expected: `< ${npwm}` })
    if (!await exists(pwm.dir)) {
      await pwm.#write(join(chipDir, 'export'), String(channel))
      const until = Date.now() + (opts.exportTimeoutMs ?? 2000)
      while (!await exists(join(pwm.dir, 'period'))) {
        if (Date.now() > until) throw new PcpError(RpiErrorCodes.PWM_WRITE_FAILED, `wrote ${channel} to ${join(chipDir, 'export')} but ${pwm.dir} did not appear`, { file: pwm.dir })
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    const read = async (f: string): Promise<string> => (await readFile(join(pwm.dir, f), 'utf8')).trim()
    pwm.#state = { period_ns: Number(await read('period')), duty_cycle_ns: Number(await read('duty_cycle')), enabled: (await read('enable')) === '1' }
    await pi.stamp('rpi_pwm_setup', { actuator: pwm.name, chip, channel, npwm, ...pwm.#state })
    return pwm
  }

  get state (): PwmState { return { ...this.#state } }

  /** Sets period and duty together (ns), in the order the kernel accepts; one actuator command. */
  async set (periodNs: number, dutyNs: number): Promise<AissEvent> {
    ns(periodNs, 'periodNs'); ns(dutyNs, 'dutyNs')
    if (dutyNs > periodNs) throw new RangeError(`"dutyNs" (${dutyNs}) must not exceed "periodNs" (${periodNs}): the kernel refuses it (EINVAL)`)
    const ev = await this.#command({ ...this.#state, period_ns: periodNs, duty_cycle_ns: dutyNs })
    // Growing the period first keeps duty <= period after each single write; shrinking, duty first.
    if (periodNs >= this.#state.duty_cycle_ns) { await this.#attr('period', periodNs); await this.#attr('duty_cycle', dutyNs) } else { await this.#attr('duty_cycle', dutyNs); await this.#attr('period', periodNs) }
    this.#state = { ...this.#state, period_ns: periodNs, duty_cycle_ns: dutyNs }
    return ev
  }

  /** Duty as a fraction 0..1 of the current period. */
  async setDuty (fraction: number): Promise<AissEvent> {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`"fraction" expected 0..1, got ${String(fraction)}`)
    if (this.#state.period_ns === 0) throw new RangeError('set a period first (set(periodNs, dutyNs))')
    return this.set(this.#state.period_ns, Math.round(this.#state.period_ns * fraction))
  }

  async enable (on = true): Promise<AissEvent> {
    const ev = await this.#command({ ...this.#state, enabled: on })
    await this.#attr('enable', on ? 1 : 0)
    this.#state = { ...this.#state, enabled: on }
    return ev
  }

  disable (): Promise<AissEvent> { return this.enable(false) }

  /** Disables (stamped) and unexports the channel. */
  async close (): Promise<void> {
    if (this.#state.enabled) await this.disable()
    await this.#write(join(this.#root, `pwmchip${this.chip}`, 'unexport'), String(this.channel))
    await this.#pi.stamp('rpi_pwm_cleanup', { actuator: this.name, chip: this.chip, channel: this.channel })
  }

  #command (next: PwmState): Promise<AissEvent> {
    return this.#pi.stampActuator(this.name, { ...next }, {
      parameters: { chip: this.chip, channel: this.channel, previous: { ...this.#state } },
      ...(this.#role !== undefined ? { role: this.#role } : {})
    })
  }

  async #attr (name: string, value: number): Promise<void> { await this.#write(join(this.dir, name), String(value)) }

  async #write (file: string, text: string): Promise<void> {
    try { await writeFile(file, text) } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // The command is already on the chain; the failure is stamped beside it so the record says it did not happen.
      await this.#pi.stampError('pwm', err, { actuator: this.name, file })
      throw new PcpError(RpiErrorCodes.PWM_WRITE_FAILED, `cannot write ${text} to ${file}: ${code ?? (err as Error).message}${code === 'EACCES' ? ' (run as a user in the gpio group, with the udev rule that chgrps /sys/class/pwm)' : ''}`, { file, cause: err })
    }
  }
}

async function exists (p: string): Promise<boolean> {
  try { await access(p); return true } catch { return false }
}
