// What the hub's HTTP APIs (Vigil, TrustGate) share: bearer-token auth and listening with clear errors.
// Unlike the reference (gaps.md #55): tokens only in the Authorization header (never in a URL, where they
// end up in logs), compared in constant time, no CORS wildcard, and no token means no API unless the
// operator says it is local-only.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { PcpError } from '../runtime/errors.js'

export const HttpErrorCodes = {
  PORT_IN_USE: 'PORT_IN_USE',
  API_TOKEN_MISSING: 'API_TOKEN_MISSING',
  /** An API served without a token (--local-only) was addressed by a name that is not loopback (DNS rebinding). */
  API_HOST_REFUSED: 'API_HOST_REFUSED',
  /** An API served without a token was called from a page of another origin (cross-site request). */
  API_ORIGIN_REFUSED: 'API_ORIGIN_REFUSED'
} as const

/** SHA-256 both sides first so timingSafeEqual sees equal lengths and the token length does not leak. */
export function tokenMatches (expected: string, presented: string): boolean {
  const a = createHash('sha256').update(expected).digest()
  const b = createHash('sha256').update(presented).digest()
  return timingSafeEqual(a, b)
}

export interface AuthOptions {
  /** The API's token (VIGIL_TOKEN, TRUSTGATE_TOKEN). */
  token: string | undefined
  /** Without a token the API only starts when explicitly local-only and bound to loopback. */
  localOnly?: boolean
  host: string
  /** Paths answered without a token. */
  publicPaths: readonly string[]
  /** Which env var names the token, for messages. */
  tokenName: string
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** Refuses to start an API that would be open to anyone. */
export function checkAuthConfig (opts: AuthOptions): void {
  if (opts.token) {
    if (opts.token.length < 16) throw new PcpError(HttpErrorCodes.API_TOKEN_MISSING, `${opts.tokenName} is too short (${opts.token.length} chars); use at least 16 random characters`, { field: opts.tokenName })
    return
  }
  if (!opts.localOnly) {
    throw new PcpError(HttpErrorCodes.API_TOKEN_MISSING, `${opts.tokenName} is not set: set it, or pass --local-only to serve the API without a token on ${opts.host}`, { field: opts.tokenName })
  }
  if (!LOOPBACK.has(opts.host)) {
    throw new PcpError(HttpErrorCodes.API_TOKEN_MISSING, `--local-only needs a loopback host, got ${opts.host}; set ${opts.tokenName} to serve on other interfaces`, { field: 'host' })
  }
}

/** Adds the bearer check as an onRequest hook. 401 with a JSON body and WWW-Authenticate. */
export function installBearerAuth (app: FastifyInstance, opts: AuthOptions): void {
  checkAuthConfig(opts)
  const publicPaths = new Set(opts.publicPaths)
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!
    if (!opts.token) {
      // Without a token, being on loopback is the only credential, and a browser on this machine has it:
      // a page whose DNS name re-resolves to 127.0.0.1 (rebinding) is same-origin with the API, and any
      // page may send it a form. So the request must name a loopback host, and a browser's request must
      // come from a page of that same loopback origin.
      const refused = localRefusal(req.headers.host, req.headers.origin)
      if (refused !== null) {
        await reply.code(403).send({ error: refused.code, code: refused.code, message: refused.message })
      }
      return
    }
    if (publicPaths.has(path)) return
    const header = req.headers.authorization ?? ''
    const presented = header.startsWith('Bearer ') ? header.slice(7) : ''
    if (!presented || !tokenMatches(opts.token, presented)) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer realm="pcp-hub"')
        .send({ error: 'Unauthorized', code: 401, message: `send "Authorization: Bearer <${opts.tokenName}>"` })
    }
  })
}

const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i

/** Why a request to a token-less API is refused, or null: Host must be loopback, Origin (if any) too. */
function localRefusal (host: string | undefined, origin: string | undefined): { code: string, message: string } | null {
  if (host === undefined || !LOOPBACK_HOST.test(host)) {
    return { code: HttpErrorCodes.API_HOST_REFUSED, message: `this API has no token and answers only requests to 127.0.0.1, localhost or [::1], not ${JSON.stringify(String(host ?? '').slice(0, 100))}` }
  }
  if (origin === undefined) return null
  let ok = false
  try { const u = new URL(origin); ok = u.protocol === 'http:' && u.host.toLowerCase() === host.toLowerCase() } catch {}
  if (!ok) return { code: HttpErrorCodes.API_ORIGIN_REFUSED, message: `this API has no token and answers no page of another origin (${JSON.stringify(origin.slice(0, 100))})` }
  return null
}

/** listen() with a PcpError naming host and port when the port is taken. Resolves to the bound port. */
export async function listenHttp (app: FastifyInstance, host: string, port: number, what: string): Promise<number> {
  try {
    await app.listen({ host, port })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PcpError(HttpErrorCodes.PORT_IN_USE, `${what}: port ${port} on ${host} is already in use (choose another with --${what.toLowerCase().split(' ')[0]}-port)`, { field: 'port', actual: port, cause: err })
    }
    throw err
  }
  const addr = app.server.address()
  return typeof addr === 'object' && addr ? addr.port : port
}
