// Vigil's HTTP API and dashboard (vigil.md §7-§8), on fastify. What differs from the reference, and why:
//  * auth: bearer token in the header only, constant-time compare, no token → no API unless local-only
//    on loopback (hub/http-common.ts; gaps.md #55). The dashboard's files are public and hold no token
//    (#67): the page asks for it. /health says "ok" and nothing about licences or tiers (#67).
//  * no CORS headers at all: the dashboard is same-origin; other sites cannot read the API.
//  * agents are addressed by agent_id or registered name, both validated, resolved against the chain
//    view's own list: no path is ever built from a URL segment (#58).
//  * bodies are parsed losslessly and replies written with stringifyJson, so an event's `25.0` or big
//    integer survives the round trip and its signature still verifies.
import type { FastifyBaseLogger } from 'fastify'
import type { Logger } from '../../sync/log.js'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { parseJson, stringifyJson, PcpError } from '../../runtime/index.js'
import { installBearerAuth, listenHttp } from '../http-common.js'
import type { ChainView } from '../chain-view.js'
import type { MetricsRegistry } from '../metrics.js'
import type { VigilEngine } from './engine.js'
import { httpError, type VigilContext } from './routes/context.js'
import { registerAgentRoutes } from './routes/agents.js'
import { registerAlertRoutes } from './routes/alerts.js'
import { registerSummaryRoutes } from './routes/summary.js'
import { registerDashboardRoutes, DASHBOARD_PUBLIC_PATHS } from './routes/dashboard.js'

export const VIGIL_DEFAULT_PORT = 8421
export const HUB_VERSION = '0.1.0'

export interface VigilApiOptions {
  vigil: VigilEngine
  chain: ChainView
  metrics: MetricsRegistry
  /** VIGIL_TOKEN. Without one the API starts only with localOnly on a loopback host. */
  token?: string | undefined
  localOnly?: boolean
  /** The host the server will listen on (checked against localOnly). Default 127.0.0.1. */
  host?: string
  /** Unix seconds; defaults to the wall clock. */
  now?: () => number
  /** A prebuilt verifier bundle to serve instead of building runtime/browser.ts with esbuild. */
  verifierBundle?: string
  /** A prebuilt anchor bundle (anchors.js) to serve instead of building runtime/tsa/browser.ts. */
  anchorsBundle?: string
  /** The hub's pino logger (cli/log.ts): fastify's request log goes to its child { component: 'http', api: 'vigil' }, in the same stream. `true`: fastify's own. Default off. */
  logger?: boolean | Logger
}

export { httpError, type VigilContext } from './routes/context.js'

export async function createVigilApi (opts: VigilApiOptions): Promise<FastifyInstance> {
  const host = opts.host ?? '127.0.0.1'
  // 256 KiB bounds one event (the record route); GET routes have no body.
  const app = Fastify({
    ...(typeof opts.logger === 'object' ? { loggerInstance: opts.logger.child({ component: 'http', api: 'vigil' }) as unknown as FastifyBaseLogger } : { logger: opts.logger ?? false }),
    bodyLimit: 256 * 1024
  })
  installBearerAuth(app, {
    token: opts.token,
    localOnly: opts.localOnly ?? false,
    host,
    tokenName: 'VIGIL_TOKEN',
    publicPaths: ['/health', ...DASHBOARD_PUBLIC_PATHS]
  })

  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string, 'request body'))
    } catch (err) {
      done(httpError(400, 'JSON_INVALID', (err as Error).message), undefined)
    }
  })
  app.setReplySerializer((payload) => stringifyJson(payload as object))

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store')
    return payload
  })

  app.setErrorHandler((err: FastifyError & { code?: string }, _req, reply) => {
    if (err.validation) {
      return reply.code(400).send({ error: 'INVALID_REQUEST', code: 400, message: err.message })
    }
    const status = err.statusCode ?? (err instanceof PcpError ? 400 : 500)
    const code = err instanceof PcpError ? err.code : status >= 500 ? 'INTERNAL' : (err.code ?? 'INVALID_REQUEST')
    // An internal error's message may hold paths or state: the client gets a fixed text.
    const message = status >= 500 && !(err instanceof PcpError) ? 'internal error' : err.message
    if (status >= 500) app.log.error(err)
    return reply.code(status).send({ error: code, code: status, message })
  })
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'NOT_FOUND', code: 404, message: `no route ${req.method} ${req.url.split('?')[0]}` }))

  const ctx: VigilContext = { vigil: opts.vigil, chain: opts.chain, metrics: opts.metrics, now: opts.now ?? (() => Date.now() / 1000) }
  app.get('/health', async () => ({ status: 'ok', version: HUB_VERSION, timestamp: new Date(ctx.now() * 1000).toISOString() }))
  registerSummaryRoutes(app, ctx)
  registerAlertRoutes(app, ctx)
  registerAgentRoutes(app, ctx)
  registerDashboardRoutes(app, { verifierBundle: opts.verifierBundle, anchorsBundle: opts.anchorsBundle })
  return app
}

/** Creates the API and listens; resolves with the bound port (PORT_IN_USE error when taken). */
export async function startVigilApi (opts: VigilApiOptions & { port?: number }): Promise<{ app: FastifyInstance, port: number, url: string, close: () => Promise<void> }> {
  const host = opts.host ?? '127.0.0.1'
  const app = await createVigilApi(opts)
  const port = await listenHttp(app, host, opts.port ?? VIGIL_DEFAULT_PORT, 'Vigil API')
  const shown = host.includes(':') ? `[${host}]` : host
  return { app, port, url: `http://${shown}:${port}`, close: () => app.close() }
}
