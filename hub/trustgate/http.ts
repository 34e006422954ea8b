// TrustGate's HTTP API (trustgate.md §10, with gaps.md #44, #52, #55 closed). Two credentials:
//   Authorization: Bearer <TRUSTGATE_TOKEN>   lets a caller use the API at all (hub/http-common.ts);
//   X-TrustGate-Principal: <principal token>  proves WHICH human is acting (principal-store.ts).
// Approving, rejecting, activating a policy and creating principals need the second: the API token
// alone can ask for decisions and read state, never answer for a human. Routes live in routes/*.ts.
import type { FastifyBaseLogger } from 'fastify'
import type { Logger } from '../../sync/log.js'
import Fastify, { type FastifyInstance } from 'fastify'
import { PcpError } from '../../runtime/errors.js'
import { checkAuthConfig, installBearerAuth, listenHttp } from '../http-common.js'
import { ServiceErrorCodes, type TrustGateService } from './service.js'
import { TrustGateErrorCodes as Codes } from './errors.js'
import { PrincipalErrorCodes } from './principal-store.js'
import { statusRoutes } from './routes/status.js'
import { policyRoutes } from './routes/policy.js'
import { decisionRoutes } from './routes/decisions.js'
import { principalRoutes } from './routes/principals.js'
import { auditRoutes } from './routes/audit.js'

export const DEFAULT_TRUSTGATE_PORT = 8422
export const API_VERSION = '1.0.0'

export interface TrustGateHttpOptions {
  /** The hub's pino logger (cli/log.ts): fastify's request log goes to its child { component: 'http', api: 'trustgate' }, in the same stream. Default: no request log. */
  logger?: Logger
  host?: string
  /** 0 picks a free port. Default 8422. */
  port?: number
  /** TRUSTGATE_TOKEN; without it the API only starts with localOnly on a loopback host. */
  token?: string
  localOnly?: boolean
  /**
   * Whether POST /api/vigil/agent-state is taken (a Vigil outside this process). Default true. The hub
   * passes false: its own Vigil feeds TrustGate from the chains it verified, and a push over HTTP would
   * let whoever holds the API token set a device's risk, and so its gate decisions.
   */
  vigilPush?: boolean
}

const STATUS: Record<string, number> = {
  [Codes.DECISION_NOT_FOUND]: 404,
  SIMULATE_BUSY: 429,
  [ServiceErrorCodes.VIGIL_PUSH_REFUSED]: 409,
  [Codes.POLICY_VERSION_NOT_FOUND]: 404,
  [Codes.PRINCIPAL_UNKNOWN]: 404,
  [Codes.PRINCIPAL_INACTIVE]: 403,
  [Codes.PRINCIPAL_NOT_ALLOWED]: 403,
  [Codes.DECISION_RESOLVED]: 409,
  [Codes.DECISION_TIMED_OUT]: 409,
  [Codes.DECISION_EXISTS]: 409,
  [PrincipalErrorCodes.PRINCIPAL_EXISTS]: 409,
  [Codes.POLICY_INVALID]: 400,
  [Codes.POLICY_LOAD_FAILED]: 400,
  [Codes.JUSTIFICATION_REQUIRED]: 400,
  [ServiceErrorCodes.REQUEST_INVALID]: 400,
  [ServiceErrorCodes.PRINCIPAL_AUTH_REQUIRED]: 401,
  [ServiceErrorCodes.PRINCIPAL_AUTH_FAILED]: 401,
  [ServiceErrorCodes.NO_ACTIVE_POLICY]: 503,
  [ServiceErrorCodes.JOURNAL_UNAVAILABLE]: 503
}

/** The Fastify app with every route, not listening (tests may call app.inject()). */
export function buildTrustGateApp (service: TrustGateService, opts: TrustGateHttpOptions = {}): FastifyInstance {
  const host = opts.host ?? '127.0.0.1'
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger.child({ component: 'http', api: 'trustgate' }) as unknown as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 2 * 1024 * 1024, // a policy (≤ 1 MiB) travels as a JSON string
    // No type coercion: "0.9" is not a VRS, and a wrong type must be a 400, not a guess.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true } }
  })
  installBearerAuth(app, { token: opts.token, localOnly: opts.localOnly, host, publicPaths: ['/health'], tokenName: 'TRUSTGATE_TOKEN' })
  app.addHook('onSend', async (_req, reply) => { reply.header('X-TrustGate-Version', API_VERSION) })
  // Several hubs on one store: a principal made, deactivated or re-keyed through another hub a moment ago
  // is read before a request that presents a principal token, or asks about principals, is answered.
  if (service.principals.refresh !== undefined) {
    app.addHook('preHandler', async (req) => {
      if (req.headers['x-trustgate-principal'] !== undefined || req.url.startsWith('/api/principals') || req.url.startsWith('/api/status')) await service.principals.refresh?.()
    })
  }
  app.setErrorHandler(async (err, _req, reply) => {
    const e = err as Error & { validation?: unknown, statusCode?: number, code?: string }
    if (e.validation !== undefined) return await reply.code(400).send({ error: 'Bad Request', code: 'REQUEST_INVALID', message: e.message })
    if (e instanceof PcpError) {
      const status = STATUS[e.code] ?? (e.code === 'PRINCIPAL_STORE_CORRUPTED' || e.code.startsWith('STORE') ? 500 : 400)
      const body: Record<string, unknown> = { error: e.code, code: e.code, message: e.message }
      const problems = (e as unknown as { problems?: unknown }).problems
      if (problems !== undefined) body.problems = problems
      return await reply.code(status).send(body)
    }
    if (typeof e.statusCode === 'number' && e.statusCode < 500) return await reply.code(e.statusCode).send({ error: e.code ?? 'Bad Request', code: e.code ?? 'REQUEST_INVALID', message: e.message })
    app.log.error(e)
    return await reply.code(500).send({ error: 'Internal Server Error', code: 'INTERNAL', message: e.message })
  })
  statusRoutes(app, service, { vigilPush: opts.vigilPush ?? true })
  policyRoutes(app, service)
  decisionRoutes(app, service)
  principalRoutes(app, service)
  auditRoutes(app, service)
  return app
}

/** Builds and listens. Refuses to start without a token unless local-only on loopback. */
export async function createTrustGateHttp (service: TrustGateService, opts: TrustGateHttpOptions = {}): Promise<{ port: number, app: FastifyInstance, close: () => Promise<void> }> {
  const host = opts.host ?? '127.0.0.1'
  checkAuthConfig({ token: opts.token, localOnly: opts.localOnly, host, publicPaths: [], tokenName: 'TRUSTGATE_TOKEN' })
  const app = buildTrustGateApp(service, opts)
  const port = await listenHttp(app, host, opts.port ?? DEFAULT_TRUSTGATE_PORT, 'TrustGate API')
  return { port, app, close: async () => { await app.close() } }
}
