// Health, status, evaluation, Vigil intake and the agent registry (trustgate.md §10).
import type { FastifyInstance } from 'fastify'
import { sha256Hex } from '../../../runtime/index.js'
import { PROFILE_NAMES, loadProfile } from '../profiles.js'
import { API_VERSION } from '../http.js'
import type { TrustGateService } from '../service.js'
import { ServiceErrorCodes } from '../errors.js'
import { PcpError } from '../../../runtime/errors.js'
import { contextSchema, decisionView } from './common.js'
import type { JsonObject } from '../../../policy/types.js'

/**
 * A request_id makes an API evaluation idempotent, in an id space of its own: with the gate's
 * (gateDecisionId), a caller who saw a device's request id on the broker could decide that request
 * first, under a role and risk of its choosing, and the hub would answer the device with it signed.
 */
export function apiDecisionId (agentId: string, requestId: string): string {
  return 'dec-' + sha256Hex(`api\n${agentId}\n${requestId}`).slice(0, 40)
}

export function statusRoutes (app: FastifyInstance, service: TrustGateService, opts: { vigilPush: boolean }): void {
  // Public, so a load balancer can probe it: says nothing beyond "up", the policy id and a count.
  app.get('/health', async () => ({ status: 'ok', policy: service.policy?.versionId ?? null, pending: service.pending().length, timestamp: service.now() }))

  app.get('/api/status', async () => (await service.sync(), {
    service: 'trust_gate', version: API_VERSION, policy: service.policy?.versionId ?? null, policy_hash: service.policy?.hash ?? null,
    pending_decisions: service.pending().length, principals: service.principals.list().length, agents: service.agents().length,
    timestamp: service.now()
  }))

  app.post('/api/evaluate', { schema: { body: contextSchema } }, async (req) => {
    const body = req.body as JsonObject & { agent_id: string, action: string, request_id?: string }
    const rec = await service.evaluate(body as never, {
      source: 'api', ...(body.request_id !== undefined ? { decisionId: apiDecisionId(body.agent_id, body.request_id) } : {})
    })
    return decisionView(rec)
  })

  // Vigil's push (vigil.md §7.1). The state is kept for agentStateTtlSeconds and used for this agent's
  // next evaluations; a state at or past the human threshold, or CRITICAL/ALERT, is evaluated now as
  // the action `vigil_threshold_exceeded`, and unlike the reference the decision is returned.
  app.post('/api/vigil/agent-state', {
    schema: {
      body: {
        type: 'object', required: ['agent_id', 'vrs', 'tsi_state'],
        properties: {
          agent_id: { type: 'string', minLength: 1, maxLength: 256 }, agent_name: { type: 'string' }, vrs: { type: 'number' },
          tsi_state: { type: 'string' }, a2c_score: { type: ['number', 'null'] }, trust_score: { type: ['number', 'null'] }, role: { type: 'string' }
        }
      }
    }
  }, async (req) => {
    if (!opts.vigilPush) throw new PcpError(ServiceErrorCodes.VIGIL_PUSH_REFUSED, 'this hub\'s own Vigil feeds TrustGate the risk of the chains it verified; it takes no agent state over HTTP')
    const b = req.body as { agent_id: string, agent_name?: string, vrs: number, tsi_state: string, a2c_score?: number, trust_score?: number, role?: string, fork_detected?: boolean }
    const state = service.ingestAgentState(b)
    const policy = service.policy
    if (policy === null) return { outcome: 'MONITOR', vrs: state.vrs, registered: true }
    if (state.vrs >= policy.policy.thresholds.vrs_require_human || state.tsi_state === 'CRITICAL' || state.tsi_state === 'ALERT') {
      const rec = await service.evaluate({
        agent_id: state.agent_id, agent_name: state.agent_name, action: 'vigil_threshold_exceeded', role: b.role ?? 'operator',
        payload: { source: 'vigil', vrs: state.vrs, tsi_state: state.tsi_state, forced: true }
      }, { source: 'vigil' })
      return { registered: true, ...decisionView(rec) }
    }
    return { outcome: 'MONITOR', vrs: state.vrs, registered: true }
  })

  app.get('/api/agents', async () => {
    const agents = service.agents().map((a) => ({ ...a, active: service.now() - a.updated_at < 60 }))
    return { total: agents.length, agents }
  })

  app.get('/api/profiles', async () => {
    const profiles = PROFILE_NAMES.map((name) => { const p = loadProfile(name); return { name, description: p.policy.description, hash: p.hash, content: p.text } })
    return { profiles, count: profiles.length }
  })
}
