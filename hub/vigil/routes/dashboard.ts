// The dashboard's files (vigil.md §8): a fixed list read once from hub/vigil/dashboard/, each on its
// own route, so no request path ever reaches the file system (gaps.md #58). They are public and hold
// no secret (gaps.md #67: the reference injected the token into the HTML); the page asks for the
// token and keeps it in sessionStorage. A strict CSP: scripts only from this origin, no inline code.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { loadVerifierBundle, loadAnchorsBundle } from '../verifier-bundle.js'
import { httpError } from './context.js'

const FILES: Record<string, { file: string, type: string }> = {
  '/dashboard/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/plot.js': { file: 'plot.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/dashboard/verify.html': { file: 'verify.html', type: 'text/html; charset=utf-8' },
  '/dashboard/verify.js': { file: 'verify.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/export-check.js': { file: 'export-check.js', type: 'text/javascript; charset=utf-8' }
}
const BUNDLE_PATH = '/dashboard/verifier.js'
/** The anchor checker (pkijs): the pages ask for it only for a chain with anchors. */
const ANCHORS_PATH = '/dashboard/anchors.js'

export const DASHBOARD_PUBLIC_PATHS: readonly string[] = ['/', '/dashboard', ...Object.keys(FILES), BUNDLE_PATH, ANCHORS_PATH]

export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"
].join('; ')

const DIR = new URL('../dashboard/', import.meta.url)

export function registerDashboardRoutes (app: FastifyInstance, opts: { verifierBundle?: string | undefined, anchorsBundle?: string | undefined }): void {
  const redirect = async (_req: unknown, reply: { redirect: (url: string) => unknown }): Promise<unknown> => reply.redirect('/dashboard/')
  app.get('/', redirect)
  app.get('/dashboard', redirect)
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, DIR))
    app.get(route, async (_req, reply) => reply
      .header('Content-Type', type).header('Content-Security-Policy', DASHBOARD_CSP).header('Cache-Control', 'no-cache')
      .send(body))
  }
  // Built on first request (esbuild, ~0.3 s; the anchor bundle ~1 s) unless prebuilt; a failed build is retried.
  serveBundle(app, BUNDLE_PATH, 'verifier', () => loadVerifierBundle(opts.verifierBundle))
  serveBundle(app, ANCHORS_PATH, 'anchor', () => loadAnchorsBundle(opts.anchorsBundle))
}

function serveBundle (app: FastifyInstance, path: string, what: string, load: () => Promise<string>): void {
  let bundle: Promise<string> | null = null
  app.get(path, async (_req, reply) => {
    bundle ??= load()
    let text: string
    try {
      text = await bundle
    } catch (err) {
      bundle = null
      throw httpError(503, 'VERIFIER_UNAVAILABLE', `the browser ${what} bundle could not be built: ${(err as Error).message.split('\n')[0]}`)
    }
    return reply.header('Content-Type', 'text/javascript; charset=utf-8').header('Cache-Control', 'no-cache')
      .send(text)
  })
}
