// Per-agent routes: detail (VRS with its components, history, alerts, chain status), recent events,
// the audit export, and POST .../record, which goes through verification (gaps.md #57).
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { eventHash } from '../../../runtime/index.js'
import { recordEvent } from '../record.js'
import { alertFilter, alertQuerySchema, type AlertQuery } from './alerts.js'
import { httpError, type VigilContext } from './context.js'
import { resolveAgent } from './resolve.js'

const DAY = 86_400
type RefParams = { Params: { ref: string } }

export function registerAgentRoutes (app: FastifyInstance, ctx: VigilContext): void {
  app.get<RefParams & { Querystring: { days: number, points: number } }>('/api/agent/:ref', {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          days: { type: 'number', exclusiveMinimum: 0, maximum: 30, default: 30 },
          points: { type: 'integer', minimum: 2, maximum: 2000, default: 500 }
        }
      }
    }
  }, async (req) => {
    const chain = resolveAgent(ctx.chain, req.params.ref)
    const now = ctx.now()
    return {
      agent: { agentId: chain.agentId, currentAgentId: chain.currentAgentId, name: chain.name },
      chain,
      vrs: ctx.vigil.vrs(chain.agentId) ?? null,
      history: ctx.vigil.history(chain.agentId, { since: now - req.query.days * DAY, maxPoints: req.query.points }),
      alerts: ctx.vigil.alerts({ agentId: chain.agentId, limit: 50 }),
      computedAt: now
    }
  })

  app.get<RefParams & { Querystring: AlertQuery }>('/api/agent/:ref/alerts', { schema: { querystring: alertQuerySchema } }, async (req) => {
    const chain = resolveAgent(ctx.chain, req.params.ref)
    const alerts = ctx.vigil.alerts(alertFilter(ctx, req.query, chain.agentId))
    return { agent: chain.agentId, alerts, count: alerts.length, timestamp: ctx.now() }
  })

  app.get<RefParams & { Querystring: { limit: number } }>('/api/agent/:ref/events', {
    schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 20 } } } }
  }, async (req) => {
    const chain = resolveAgent(ctx.chain, req.params.ref)
    const events = await ctx.chain.recent(chain.agentId, req.query.limit)
    return {
      agent: chain.agentId,
      // Index from the chain's count: recent() is newest first.
      events: events.map((event, i) => ({ index: chain.eventCount - 1 - i, hash: eventHash(event), event }))
    }
  })

  app.get<RefParams>('/api/agent/:ref/export', async (req, reply) => {
    const chain = resolveAgent(ctx.chain, req.params.ref)
    const chunks = await ctx.chain.exportChain(chain.agentId, { now: Math.floor(ctx.now()) })
    if (chunks === undefined) throw httpError(404, 'AGENT_NOT_FOUND', `agent ${chain.agentId} has no chain to export`)
    // The file name comes from the validated Base58 id, never from the URL.
    return reply
      .header('Content-Type', 'application/json; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${chain.agentId}.audit.json"`)
      .send(Readable.from(chunks))
  })

  app.post<RefParams & { Body: unknown }>('/api/agent/:ref/record', async (req, reply) => {
    const chain = resolveAgent(ctx.chain, req.params.ref)
    const body = req.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw httpError(400, 'EVENT_MALFORMED', 'the body must be one AISS event as a JSON object (Content-Type: application/json)')
    }
    const r = await recordEvent(ctx, chain.agentId, body)
    const common = { agent: chain.agentId, index: r.index, hash: r.hash, vrs: r.report.vrs, state: r.report.state }
    if (r.accepted) return reply.code(201).send({ status: 'recorded', ...common })
    return reply.code(422).send({ status: 'rejected', error: 'EVENT_REJECTED', code: 422, message: r.problems[0]?.message ?? 'rejected', problems: r.problems, ...common })
  })
}
