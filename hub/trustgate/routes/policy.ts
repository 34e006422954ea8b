// Policy routes. POST /api/policy stores a new immutable version and activates it; it never writes over
// a file (the reference overwrote the package's own policy.yaml: gaps.md #52) and needs an admin principal.
import type { FastifyInstance } from 'fastify'
import type { TrustGateService } from '../service.js'
import { contextSchema, principalOf } from './common.js'

export function policyRoutes (app: FastifyInstance, service: TrustGateService): void {
  app.get('/api/policy', async (_req, reply) => {
    await service.sync() // several hubs: an activation through another one
    const p = service.policy; const a = service.activation
    if (p === null || a === null) return await reply.code(503).send({ error: 'NO_ACTIVE_POLICY', code: 'NO_ACTIVE_POLICY', message: 'no policy is active' })
    return {
      name: p.policy.name, version: p.policy.version, version_id: p.versionId, content_hash: p.hash, profile: p.policy.profile,
      thresholds: p.policy.thresholds, roles: Object.keys(p.policy.roles), dangerous_patterns_count: p.policy.dangerous_patterns.length,
      notification: { timeout_seconds: p.policy.notification.timeout_seconds, on_timeout: p.policy.notification.on_timeout, require_justification: p.policy.notification.require_justification },
      activation: a, warnings: p.warnings
    }
  })

  app.post('/api/policy', {
    schema: { body: { type: 'object', required: ['yaml'], additionalProperties: false, properties: { yaml: { type: 'string', minLength: 1 }, comment: { type: 'string', maxLength: 1000 } } } }
  }, async (req, reply) => {
    const b = req.body as { yaml: string, comment?: string }
    const r = await service.activatePolicy(b.yaml, { principal: principalOf(req, service), comment: b.comment ?? '' })
    return await reply.code(201).send({ ok: true, version: r.record.version, version_id: r.record.policy_version, created: r.created, activation: r.record, warnings: r.warnings })
  })

  app.get('/api/policy/versions', async () => {
    await service.sync()
    const history = service.versions.history()
    return { active: service.activation?.version ?? null, versions: service.versions.versions(), history }
  })

  app.get('/api/policy/versions/:id', async (req, reply) => {
    const p = service.versions.get((req.params as { id: string }).id)
    return await reply.type('text/plain; charset=utf-8').send(p.text)
  })

  app.get('/api/policy/diff', {
    schema: { querystring: { type: 'object', required: ['a', 'b'], properties: { a: { type: 'string' }, b: { type: 'string' } } } }
  }, async (req) => {
    const q = req.query as { a: string, b: string }
    return { a: service.versions.resolve(q.a), b: service.versions.resolve(q.b), changes: service.versions.diff(q.a, q.b) }
  })

  // Simulation records nothing: no journal entry, no escalation count, no queue.
  app.post('/api/policy/simulate', {
    schema: { body: { ...contextSchema, properties: { ...contextSchema.properties, yaml: { type: 'string', minLength: 1 } } } }
  }, async (req) => {
    const { yaml, ...ctx } = req.body as { yaml?: string, agent_id: string, action: string }
    const decision = await service.simulateOffThread(ctx, yaml)
    return { simulated: true, decision }
  })
}
