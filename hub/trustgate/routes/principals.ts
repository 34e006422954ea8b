// Principals. Listing needs only the API token; creating, deactivating and re-keying need an admin
// principal's own token (the reference let any API-token holder mint an L3 principal: gaps.md #44).
import type { FastifyInstance } from 'fastify'
import { PcpError } from '../../../runtime/errors.js'
import { TrustGateErrorCodes } from '../errors.js'
import { CLEARANCES, type Clearance } from '../principals.js'
import { ServiceErrorCodes, type TrustGateService } from '../service.js'
import { PRINCIPAL_NAME } from '../principal-store.js'
import { principalOf } from './common.js'

export function principalRoutes (app: FastifyInstance, service: TrustGateService): void {
  app.get('/api/principals', async () => {
    const principals = service.principals.list()
    return { total: principals.length, principals }
  })

  /** Who the presented principal token belongs to (the CLI's "whoami" and a credential check). */
  app.get('/api/principals/me', async (req) => {
    const p = principalOf(req, service)
    if (p === undefined) throw new PcpError(ServiceErrorCodes.PRINCIPAL_AUTH_REQUIRED, 'send your principal token in X-TrustGate-Principal')
    return service.principals.summary(p.id)
  })

  app.get('/api/principals/:id', async (req) => {
    const id = (req.params as { id: string }).id
    const p = service.principals.summary(id)
    if (p === undefined) throw new PcpError(TrustGateErrorCodes.PRINCIPAL_UNKNOWN, `unknown principal "${id}"`, { key: id })
    return p
  })

  app.post('/api/principals', {
    schema: {
      body: {
        type: 'object', required: ['name', 'clearance'], additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, clearance: { type: 'string', enum: [...CLEARANCES] } }
      }
    }
  }, async (req, reply) => {
    const admin = service.requireAdmin(principalOf(req, service))
    const b = req.body as { name: string, clearance: Clearance }
    if (!PRINCIPAL_NAME.test(b.name)) throw new PcpError(ServiceErrorCodes.REQUEST_INVALID, 'name must be 1-64 of [A-Za-z0-9._@-]', { field: 'name' })
    const { principal, token } = await service.principals.create({ name: b.name, clearance: b.clearance, createdBy: admin.id, now: service.now() })
    // The only time the token is shown: give it to the principal, it is not stored in clear.
    return await reply.code(201).send({ ...principal, token })
  })

  app.post('/api/principals/:id/deactivate', async (req) => {
    service.requireAdmin(principalOf(req, service))
    return await service.principals.setActive((req.params as { id: string }).id, false)
  })
}
