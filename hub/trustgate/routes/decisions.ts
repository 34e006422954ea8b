// Decisions and the human answer to them. Approve/reject act as the principal the request PROVES with its
// X-TrustGate-Principal token (gaps.md #44); a body naming a principal is not accepted.
import type { FastifyInstance } from 'fastify'
import { PcpError } from '../../../runtime/errors.js'
import { TrustGateErrorCodes } from '../errors.js'
import type { TrustGateService } from '../service.js'
import { decisionView, principalOf } from './common.js'

export function decisionRoutes (app: FastifyInstance, service: TrustGateService): void {
  app.get('/api/decisions', {
    schema: { querystring: { type: 'object', properties: { agent_id: { type: 'string' } } } }
  }, async (req) => {
    const agent = (req.query as { agent_id?: string }).agent_id
    await service.expire()
    const decisions = service.pending().filter((p) => agent === undefined || p.decision.agent_id === agent).map((p) => ({
      decision_id: p.decision.decision_id, agent_id: p.decision.agent_id, agent_name: p.decision.agent_name, action: p.decision.action,
      role: p.decision.role, outcome: p.decision.outcome, state: 'PENDING', vrs: p.decision.vrs, tsi_state: p.decision.tsi_state,
      reason: p.decision.reason, timestamp: p.decision.timestamp, submitted_at: p.submitted_at, expires_at: p.expires_at,
      required_clearance: p.required_clearance, escalations: p.escalations, on_timeout: p.terms.onTimeout,
      require_justification: p.terms.requireJustification
    }))
    return { total: decisions.length, decisions }
  })

  app.get('/api/decisions/:id', async (req) => {
    const id = (req.params as { id: string }).id
    await service.sync() // several hubs: what the others decided meanwhile
    const rec = service.lookup(id)
    if (rec === undefined) throw new PcpError(TrustGateErrorCodes.DECISION_NOT_FOUND, `no decision ${id}`, { key: id })
    return decisionView(rec)
  })

  const answer = (how: 'approve' | 'reject', textField: 'justification' | 'reason') => ({
    schema: {
      body: {
        type: ['object', 'null'], additionalProperties: false,
        properties: { [textField]: { type: 'string', maxLength: 4000 }, ...(how === 'reject' ? { justification: { type: 'string', maxLength: 4000 } } : {}) }
      }
    }
  })

  app.post('/api/decisions/:id/approve', answer('approve', 'justification'), async (req) => {
    const id = (req.params as { id: string }).id
    const b = (req.body ?? {}) as { justification?: string }
    return decisionView(await service.approve(id, principalOf(req, service), b.justification ?? ''))
  })

  app.post('/api/decisions/:id/reject', answer('reject', 'reason'), async (req) => {
    const id = (req.params as { id: string }).id
    const b = (req.body ?? {}) as { reason?: string, justification?: string }
    return decisionView(await service.reject(id, principalOf(req, service), b.reason ?? b.justification ?? ''))
  })
}
