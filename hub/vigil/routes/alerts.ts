// Alerts across the installation (gaps.md #60: the reference's /api/alerts without `agent` looked up an
// agent named "*" and was always empty; here no agent means every agent) and acknowledgement.
import type { FastifyInstance } from 'fastify'
import { ALERT_NOT_FOUND, SEVERITY_RANK, type AlertFilter, type AlertSeverity } from '../alerts.js'
import { PcpError } from '../../../runtime/index.js'
import { httpError, type VigilContext } from './context.js'
import { resolveAgent } from './resolve.js'

export interface AlertQuery { severity?: string, agent?: string, limit?: number, since?: number, open?: boolean }

export const alertQuerySchema = {
  type: 'object',
  properties: {
    severity: { type: 'string', enum: Object.keys(SEVERITY_RANK) },
    agent: { type: 'string', maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    since: { type: 'number' },
    open: { type: 'boolean' }
  }
} as const

/** The journal filter for a query (agent already resolved by the caller, or taken from the query). */
export function alertFilter (ctx: VigilContext, q: AlertQuery, agentId?: string): AlertFilter {
  const filter: AlertFilter = { limit: q.limit ?? 100 }
  if (q.severity !== undefined) filter.minSeverity = q.severity as AlertSeverity
  if (q.since !== undefined) filter.since = q.since
  if (q.open === true) filter.unacknowledged = true
  const id = agentId ?? (q.agent === undefined ? undefined : resolveAgent(ctx.chain, q.agent).agentId)
  if (id !== undefined) filter.agentId = id
  return filter
}

export function registerAlertRoutes (app: FastifyInstance, ctx: VigilContext): void {
  app.get<{ Querystring: AlertQuery }>('/api/alerts', { schema: { querystring: alertQuerySchema } }, async (req) => {
    const alerts = ctx.vigil.alerts(alertFilter(ctx, req.query))
    return { alerts, count: alerts.length, timestamp: ctx.now() }
  })

  // One shared token has no identity: `by` is what the operator types, recorded as said (documented).
  app.post<{ Params: { id: string }, Body: { by: string } }>('/api/alerts/:id/ack', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^a[0-9]{1,15}$' } } },
      body: { type: 'object', required: ['by'], properties: { by: { type: 'string', minLength: 1, maxLength: 64 } } }
    }
  }, async (req) => {
    try {
      return { alert: ctx.vigil.acknowledge(req.params.id, req.body.by) }
    } catch (err) {
      if (err instanceof PcpError && err.code === ALERT_NOT_FOUND) throw httpError(404, ALERT_NOT_FOUND, err.message)
      if (err instanceof TypeError) throw httpError(400, 'INVALID_REQUEST', err.message)
      throw err
    }
  })
}
