// Vigil's view of each agent (POST /api/vigil/agent-state, or the in-process push from the hub). An
// evaluation that does not name vrs/tsi_state/a2c/trust uses the agent's state while it is fresh.
import { PcpError } from '../../runtime/errors.js'
import { ServiceErrorCodes } from './errors.js'
import { TSI_STATES } from '../../policy/types.js'

export interface AgentState { agent_id: string, agent_name: string, vrs: number, tsi_state: string, a2c_score: number | null, trust_score: number | null, updated_at: number }

export interface AgentStateUpdate { agent_id: string, agent_name?: string, vrs: number, tsi_state: string, a2c_score?: number | null, trust_score?: number | null }

export class AgentStates {
  readonly #agents = new Map<string, AgentState>()

  /** @param ttlSeconds how long a state is used (reference: 120 s) */
  constructor (readonly ttlSeconds: number) {}

  /** Validates and keeps `u` as the agent's state at `now` (Unix seconds). */
  ingest (u: AgentStateUpdate, now: number): AgentState {
    if (typeof u?.agent_id !== 'string' || u.agent_id === '') throw new PcpError(ServiceErrorCodes.REQUEST_INVALID, 'agent_id must be a non-empty string', { field: 'agent_id' })
    if (typeof u.vrs !== 'number' || !(u.vrs >= 0 && u.vrs <= 1)) throw new PcpError(ServiceErrorCodes.REQUEST_INVALID, `vrs must be a number in [0, 1], got ${String(u.vrs)}`, { field: 'vrs' })
    if (!(TSI_STATES as readonly string[]).includes(u.tsi_state)) throw new PcpError(ServiceErrorCodes.REQUEST_INVALID, `tsi_state must be one of ${TSI_STATES.join(', ')}`, { field: 'tsi_state' })
    const state: AgentState = {
      agent_id: u.agent_id, agent_name: u.agent_name ?? u.agent_id, vrs: u.vrs, tsi_state: u.tsi_state,
      a2c_score: u.a2c_score ?? null, trust_score: u.trust_score ?? null, updated_at: now
    }
    this.#agents.set(u.agent_id, state)
    return state
  }

  /** The agent's latest state while it is fresh at `now`. */
  get (agentId: string, now: number): AgentState | undefined {
    const s = this.#agents.get(agentId)
    return s !== undefined && now - s.updated_at <= this.ttlSeconds ? s : undefined
  }

  list (): AgentState[] { return [...this.#agents.values()] }
}
