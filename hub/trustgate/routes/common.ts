// What the route files share: principal authentication and the decision's public shape.
import type { FastifyRequest } from 'fastify'
import { PcpError } from '../../../runtime/errors.js'
import { eventHash } from '../../../runtime/event.js'
import type { Principal } from '../principals.js'
import { ServiceErrorCodes, type DecisionRecord, type TrustGateService } from '../service.js'

export const PRINCIPAL_HEADER = 'x-trustgate-principal'

/**
 * The principal the request proves, or undefined when it presents no principal token. A token that is
 * presented but wrong is refused outright (401), never treated as "no principal".
 */
export function principalOf (req: FastifyRequest, service: TrustGateService): Principal | undefined {
  const raw = req.headers[PRINCIPAL_HEADER]
  if (raw === undefined) return undefined
  const p = typeof raw === 'string' ? service.principals.authenticate(raw) : undefined
  if (p === undefined) throw new PcpError(ServiceErrorCodes.PRINCIPAL_AUTH_FAILED, 'the principal token is not valid')
  return p
}

/** The decision as the API returns it: the Decision plus where it stands now. */
export function decisionView (rec: DecisionRecord): Record<string, unknown> {
  return {
    ...rec.decision,
    state: rec.state,
    final_outcome: rec.final_outcome,
    allowed: rec.allowed,
    blocked: !rec.allowed,
    pending: rec.state === 'PENDING',
    expires_at: rec.expires_at,
    required_clearance: rec.required_clearance,
    resolution: rec.resolution,
    resolution_event_hash: rec.resolution_event === null ? null : eventHash(rec.resolution_event),
    journal_event_hash: eventHash(rec.decision_event)
  }
}

export const contextSchema = {
  type: 'object',
  required: ['agent_id', 'action'],
  additionalProperties: false,
  properties: {
    agent_id: { type: 'string', minLength: 1, maxLength: 256 },
    agent_name: { type: 'string', maxLength: 256 },
    action: { type: 'string', minLength: 1, maxLength: 256 },
    role: { type: 'string', minLength: 1, maxLength: 256 },
    payload: { type: 'object' },
    vrs: { type: 'number', minimum: 0, maximum: 1 },
    tsi_state: { type: 'string' },
    a2c_score: { type: ['number', 'null'] },
    trust_score: { type: ['number', 'null'] },
    target_domain: { type: ['string', 'null'] },
    request_id: { type: 'string', minLength: 1, maxLength: 64 }
  }
} as const
