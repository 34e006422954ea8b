// /api/policy/simulate runs here, on a worker thread of its own (hub/verify-pool.ts), not on the thread
// that serves ingest, gate requests and /health: one simulation with the largest scan limits a policy
// could set froze all of them for 20.8 s (issue 14 #7). It runs with lower ceilings than the gate
// (SIMULATE_LIMITS), so a worker is busy for a bounded time per request, and the service queues only a
// few requests (the rest are refused with SIMULATE_BUSY). Even the policy text is parsed here: compiling
// a dozen requests' patterns at once on the main thread held it for 250 ms. The context travels as lossless JSON text,
// so Floats in a payload reach the evaluation as they were.
import { parsePolicy } from '../../policy/load.js'
import { evaluate } from '../../policy/evaluate.js'
import { parseJson } from '../../runtime/json.js'
import { PcpError } from '../../runtime/errors.js'
import type { Decision, EscalationState, EvaluationContext, LoadedPolicy } from '../../policy/types.js'

/** What a simulation may spend at most, whatever the policy says (the gate itself uses the policy's). */
export const SIMULATE_LIMITS = { max_payload_chars: 16_384, max_scan_steps: 250_000 } as const

export interface SimulateItem { policyText: string, context: string, escalation: EscalationState }

/** The policy with its scan limits lowered to SIMULATE_LIMITS where they are higher. */
export function withSimulateCeilings (loaded: LoadedPolicy): LoadedPolicy {
  const l = loaded.policy.limits
  const limits = { max_payload_chars: Math.min(l.max_payload_chars, SIMULATE_LIMITS.max_payload_chars), max_scan_steps: Math.min(l.max_scan_steps, SIMULATE_LIMITS.max_scan_steps) }
  return { ...loaded, policy: { ...loaded.policy, limits } }
}

/** A refusal as data: a worker's thrown error loses its fields on the way back (hub/verify-pool.ts). */
export interface SimulateRefusal { refused: { code: string, message: string, fields: Record<string, unknown> } }

export function simulateTask (item: SimulateItem): { decision: Decision } | SimulateRefusal {
  let loaded: LoadedPolicy
  try {
    loaded = withSimulateCeilings(parsePolicy(item.policyText, 'simulated policy'))
  } catch (err) {
    if (!(err instanceof PcpError)) throw err
    const { code, message, name: _n, stack: _s, cause: _c, ...fields } = err as PcpError & Record<string, unknown>
    return { refused: { code, message, fields } }
  }
  return { decision: evaluate(parseJson(item.context, 'simulation context') as unknown as EvaluationContext, loaded, item.escalation) }
}
