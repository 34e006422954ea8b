// What a TrustGate evaluation is asked (EvaluateInput: from the HTTP API, the MQTT gate handler or the
// hub) and the policy engine's EvaluationContext built from it: whatever the caller does not say about
// the agent comes from Vigil's latest state for it (agent-states.ts), else the reference's defaults.
import type { JsonObject } from '../../runtime/value.js'
import type { EvaluationContext } from '../../policy/types.js'
import type { AgentState } from './agent-states.js'

export interface EvaluateInput {
  agent_id: string
  action: string
  role?: string
  agent_name?: string
  payload?: JsonObject
  vrs?: number
  tsi_state?: string
  a2c_score?: number | null
  trust_score?: number | null
  target_domain?: string | null
  /** The caller's id for this request: same id from the same agent → the same decision (idempotent). */
  request_id?: string
}

/** `known`: Vigil's fresh state of an agent; `now`: whole Unix seconds. */
export function evaluationContext (input: EvaluateInput, decisionId: string, known: (agentId: string) => AgentState | undefined, now: () => number): EvaluationContext {
  if (input === null || typeof input !== 'object') throw new TypeError('"input" expected an object')
  const state = known(input.agent_id)
  return {
    agent_id: input.agent_id,
    agent_name: input.agent_name ?? state?.agent_name ?? input.agent_id,
    role: input.role ?? 'operator',
    action: input.action,
    payload: input.payload ?? {},
    // Vigil's view of the agent when the caller does not say; an unknown agent starts at the reference's default.
    vrs: input.vrs ?? state?.vrs ?? 0,
    tsi_state: input.tsi_state ?? state?.tsi_state ?? 'STABLE',
    a2c_score: input.a2c_score ?? state?.a2c_score ?? null,
    trust_score: input.trust_score ?? state?.trust_score ?? null,
    target_domain: input.target_domain ?? null,
    timestamp: now(),
    request_id: decisionId
  }
}
