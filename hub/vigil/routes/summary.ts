// GET /api/summary (vigil.md §6, joined with each agent's chain status) and GET /metrics.
import type { FastifyInstance } from 'fastify'
import type { AgentChainStatus } from '../../chain-view.js'
import type { AgentSummary } from '../summary.js'
import { installVigilMetrics } from '../vigil-metrics.js'
import type { VigilContext } from './context.js'
import { resolveAgent } from './resolve.js'

export interface SummaryAgent extends Partial<Omit<AgentSummary, 'vrs'>> {
  agentId: string
  name: string
  /** null when the hub registered the chain but Vigil has not scored it yet. */
  vrs: number | null
  chain: AgentChainStatus | null
}

export function registerSummaryRoutes (app: FastifyInstance, ctx: VigilContext): void {
  app.get<{ Querystring: { agents?: string } }>('/api/summary', {
    schema: { querystring: { type: 'object', properties: { agents: { type: 'string', maxLength: 4096 } } } }
  }, async (req) => {
    const s = ctx.vigil.summary()
    const chains = new Map(ctx.chain.agents().map((c) => [c.agentId, c]))
    const rows: SummaryAgent[] = s.agents.map((a) => ({ ...a, chain: chains.get(a.agentId) ?? null }))
    for (const c of chains.values()) {
      if (!rows.some((r) => r.agentId === c.agentId)) rows.push({ agentId: c.agentId, name: c.name, vrs: null, state: undefined, chain: c })
    }
    let agents = rows
    if (req.query.agents !== undefined && req.query.agents !== '') {
      const wanted = new Set(req.query.agents.split(',').map((ref) => resolveAgent(ctx.chain, ref.trim()).agentId))
      agents = rows.filter((r) => wanted.has(r.agentId))
    }
    const openAlerts = ctx.vigil.alerts({ unacknowledged: true }).length
    return {
      installationState: s.installationState,
      globalVrs: s.globalVrs,
      counts: s.counts,
      totals: { agents: rows.length, events: rows.reduce((n, r) => n + (r.chain?.eventCount ?? 0), 0), openAlerts },
      agents,
      activeAlerts: s.activeAlerts,
      computedAt: s.computedAt
    }
  })

  installVigilMetrics(ctx.metrics, ctx.vigil)
  app.get('/metrics', async (_req, reply) => {
    return reply.header('Content-Type', ctx.metrics.contentType).send(await ctx.metrics.render())
  })
}
