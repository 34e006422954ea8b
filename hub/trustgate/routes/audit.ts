// The journal: the hub's own PCP chain. /api/audit lists its trustgate.* entries; /api/audit/export is
// the whole chain as an AISS audit export, which `pcp verify` checks like any agent's chain.
import type { FastifyInstance } from 'fastify'
import { stringifyJson } from '../../../runtime/json.js'
import type { TrustGateService } from '../service.js'

export function auditRoutes (app: FastifyInstance, service: TrustGateService): void {
  app.get('/api/audit', {
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { agent_id: { type: 'string' }, outcome: { type: 'string' }, limit: { type: 'string', pattern: '^[0-9]{1,6}$' } }
      }
    }
  }, async (req) => {
    const q = req.query as { agent_id?: string, outcome?: string, limit?: string }
    const r = await service.audit({ ...(q.agent_id ? { agent_id: q.agent_id } : {}), ...(q.outcome ? { outcome: q.outcome } : {}), limit: q.limit ? Number(q.limit) : 100 })
    return { ...r, filter: { agent_id: q.agent_id ?? null, outcome: q.outcome ?? null } }
  })

  app.get('/api/audit/export', async (_req, reply) => {
    const doc = await service.auditExport()
    // Written losslessly, as every export: JSON.stringify would turn a signed 25.0 into 25 (and throw on a
    // big integer), and the signatures cover the original text.
    return await reply.header('Content-Disposition', 'attachment; filename="trustgate-journal.json"')
      .type('application/json').send(stringifyJson(doc, 2) + '\n')
  })
}
