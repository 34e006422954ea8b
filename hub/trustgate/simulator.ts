// POST /api/policy/simulate's worker thread: one worker running simulate-task.ts, started at the first
// simulation, so that a costly simulation (a hostile pattern list at the simulation ceilings) never holds
// the thread that serves ingest and /health (issue 14 #7). A small queue, then SIMULATE_BUSY.
import { PcpError } from '../../runtime/errors.js'
import { stringifyJson } from '../../runtime/json.js'
import type { Decision, EscalationState, EvaluationContext } from '../../policy/types.js'
import { VerifyPool, taskModule } from '../verify-pool.js'
import { ServiceErrorCodes } from './errors.js'
import type { SimulateItem, SimulateRefusal } from './simulate-task.js'

/** Simulations running or waiting on the simulation worker before more are refused with SIMULATE_BUSY. */
export const SIMULATE_QUEUE = 4
type SimulateOutcome = { decision: Decision } | SimulateRefusal

export class Simulator {
  #pool: Promise<VerifyPool<SimulateItem, SimulateOutcome>> | undefined

  /** The decision for `context` under the policy `policyText` (parsed on the worker; POLICY_INVALID comes back). */
  async run (policyText: string, context: EvaluationContext, escalation: EscalationState): Promise<Decision> {
    this.#pool ??= VerifyPool.open<SimulateItem, SimulateOutcome>({ module: taskModule('./simulate-task', import.meta.url), exportName: 'simulateTask', workers: 1, maxBatch: 1, inflightPerWorker: 1 })
    const pool = await this.#pool
    if (pool.stats.queued + pool.stats.inflight >= SIMULATE_QUEUE) {
      throw new PcpError(ServiceErrorCodes.SIMULATE_BUSY, `${SIMULATE_QUEUE} simulations are already waiting; try again shortly`)
    }
    const out = await pool.submit('simulate', { policyText, context: stringifyJson(context), escalation })
    if ('refused' in out) throw new PcpError(out.refused.code, out.refused.message, out.refused.fields)
    return out.decision
  }

  async close (): Promise<void> {
    if (this.#pool === undefined) return
    const p = this.#pool
    this.#pool = undefined
    await (await p.catch(() => null))?.terminate()
  }
}
