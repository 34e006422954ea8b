// Fetched revocation status (TokenCheck.fetchRevocation, `pcp verify --tsa-fetch`; runtime/tsa/
// revocation-fetch.ts): TSA certificates made by the loopback CA name a loopback server in their
// authorityInfoAccess (OCSP) and cRLDistributionPoints; behind it `openssl ocsp` answers each request it
// receives and `openssl ca -gencrl` CRLs are served (test/support/openssl-ocsp.ts). Beside it: a port
// nothing listens on, a server that never answers, one that streams too much. The CLI runs as a child
// process with the server in this one (spawned asynchronously: a blocking spawn would stall the server).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { verifyTimestampToken, type TokenCheck, type TokenVerdict } from '../runtime/tsa/verify-token.js'
import { buildTimestampRequest } from '../runtime/tsa/request.js'
import { parseTrustRoots } from '../runtime/tsa/trust.js'
import { httpRevocationFetcher } from '../runtime/tsa/revocation-fetch.js'
import { startLoopbackTsa, opensslHasTs, type LoopbackTsa, type CertFiles } from './support/openssl-tsa.js'
import { respond, startRevocationServer, deadUrl, type RevocationServer } from './support/openssl-ocsp.js'
import { stampN } from './support/anchored.js'
import { ROOT, tmpDir } from './helpers.js'

const Fetch = suite('tsa-revocation-fetch')
const codeOf = (v: TokenVerdict): string => v.ok ? 'ok' : v.code
const TSA_EXT = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping']
const hourAgo = (): Date => new Date(Date.now() - 3600_000)

let tsa: LoopbackTsa
let srv: RevocationServer
let dir: { path: string, cleanup: () => void }
const tok: Record<string, Uint8Array> = {}
const cert: Record<string, CertFiles> = {}
const ctx: { imprint: Uint8Array, roots: Uint8Array[], rootsFile: string, exportFile: string, crl: Uint8Array, revokedCrl: Uint8Array, otherCrl: Uint8Array } = {} as never

const check = (token: Uint8Array, extra: Partial<TokenCheck> = { fetchRevocation: true }): Promise<TokenVerdict> =>
  verifyTimestampToken(token, { imprint: ctx.imprint, trustRoots: ctx.roots, ...extra })
const hits = (path: string): number => srv.hits[path] ?? 0
const reset = (): void => { srv.modes = {}; srv.ocsp = { issuer: tsa.root, index: Object.values(cert).map((c) => ({ cert: c })), opts: {} }; srv.files['root.crl'] = ctx.crl }

function pcp (args: string[], env: Record<string, string> = {}): Promise<{ status: number | null, json: Record<string, unknown>, stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, PCP_TSA_ROOTS: '', PCP_TSA_CRLS: '', PCP_TSA_OCSP: '', PCP_TSA_FETCH: '', ...env } })
    let stdout = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.resume()
    child.on('close', (status) => {
      let json: Record<string, unknown> = {}
      try { json = JSON.parse(stdout) } catch { /* text output */ }
      resolve({ status, json, stdout })
    })
  })
}

Fetch('setup: TSA certificates naming a loopback OCSP responder and CRL distribution point, a dead one, an ldap one, none', async () => {
  assert.ok(await opensslHasTs(), 'this openssl has no "ts" command')
  tsa = await startLoopbackTsa()
  srv = await startRevocationServer(tsa)
  dir = tmpDir()
  cert.aia = await tsa.issue('AIA TSA', [...TSA_EXT, `authorityInfoAccess=OCSP;URI:${srv.base}/ocsp`, `crlDistributionPoints=URI:${srv.base}/root.crl`])
  cert.cdp = await tsa.issue('CDP TSA', [...TSA_EXT, `crlDistributionPoints=URI:${srv.base}/root.crl`])
  cert.dead = await tsa.issue('Dead TSA', [...TSA_EXT, `authorityInfoAccess=OCSP;URI:${await deadUrl('/ocsp')}`, `crlDistributionPoints=URI:${await deadUrl('/root.crl')}`])
  cert.ldap = await tsa.issue('LDAP TSA', [...TSA_EXT, 'crlDistributionPoints=URI:ldap://ldap.example/cn=Test%20Root%20CA?certificateRevocationList'])
  cert.plain = tsa.tsa
  ctx.crl = (await tsa.crl(tsa.root)).der
  ctx.revokedCrl = (await tsa.crl(tsa.root, [{ cert: cert.cdp, at: hourAgo() }])).der
  ctx.otherCrl = (await tsa.crl(await tsa.newRoot('Other CA'))).der
  ctx.imprint = new Uint8Array(createHash('sha256').update('an anchored root').digest())
  const req = buildTimestampRequest(ctx.imprint, (n) => new Uint8Array(randomBytes(n)))
  for (const [k, c] of Object.entries(cert)) tok[k] = await tsa.reply(req.der, c)
  ctx.roots = parseTrustRoots(tsa.root.pem)
  ctx.rootsFile = join(dir.path, 'roots.pem'); writeFileSync(ctx.rootsFile, tsa.root.pem)
  const home = join(dir.path, 'home')
  tsa.signer = cert.aia
  await stampN(tsa, home, 6, 'fetch', true)
  tsa.signer = tsa.tsa
  const agent = await Agent.open({ name: 'bot' }, { home })
  ctx.exportFile = join(dir.path, 'export.json')
  await agent.export(ctx.exportFile)
  await agent.close()
  reset()
})
Fetch.after(async () => { await srv?.close(); await tsa?.close(); dir?.cleanup() })

Fetch('the AIA responder answers good: ok, from one OCSP request and no CRL; off by default nothing is fetched', async () => {
  reset()
  const o = hits('/ocsp'); const c = hits('/root.crl')
  assert.is(codeOf(await check(tok.aia!)), 'ok')
  assert.equal([hits('/ocsp') - o, hits('/root.crl') - c], [1, 0])
  assert.is(codeOf(await check(tok.aia!, {})), 'ok')
  assert.is(codeOf(await check(tok.aia!, { fetchRevocation: false, crls: [] })), 'TSA_CRL_MISSING')
  assert.is(hits('/ocsp') - o, 1, 'nothing fetched unless asked')
  // a programmer's mistake, not a verdict
  try { await check(tok.aia!, { fetchRevocation: { ocsp: () => Promise.resolve(new Uint8Array()) } as never }); assert.unreachable('accepted a fetcher without crl()') } catch (err) { assert.instance(err, TypeError) }
})

Fetch('the responder says revoked before genTime: TSA_CERT_REVOKED; revoked after: ok', async () => {
  reset()
  srv.ocsp.index = [{ cert: cert.aia!, revokedAt: hourAgo() }]
  const v = await check(tok.aia!)
  assert.is(codeOf(v), 'TSA_CERT_REVOKED')
  assert.ok(!v.ok && v.message.startsWith(`${srv.base}/ocsp: `), JSON.stringify(v))
  srv.ocsp.index = [{ cert: cert.aia!, revokedAt: new Date(Date.now() + 86400_000) }]
  assert.is(codeOf(await check(tok.aia!)), 'ok')
})

Fetch('the responder answers about another certificate, or signs by a delegate without id-kp-OCSPSigning: TSA_OCSP_INVALID naming it', async () => {
  reset()
  srv.modes['/ocsp'] = 'other'
  srv.otherAnswer = (await respond(tsa, tsa.root, cert.cdp!, [{ cert: cert.cdp! }])).der
  const other = await check(tok.aia!)
  assert.is(codeOf(other), 'TSA_OCSP_INVALID')
  assert.ok(!other.ok && other.message.includes(`${srv.base}/ocsp`) && other.message.includes('another certificate'), JSON.stringify(other))
  reset()
  srv.ocsp.opts = { signer: await tsa.issue('No EKU Delegate', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature']) }
  const noEku = await check(tok.aia!)
  assert.is(codeOf(noEku), 'TSA_OCSP_INVALID')
  assert.ok(!noEku.ok && noEku.message.includes('id-kp-OCSPSigning'), JSON.stringify(noEku))
})

Fetch('a responder answering 503 falls back to the CRL distribution point; the CRL is checked as an offline one', async () => {
  reset()
  srv.modes['/ocsp'] = '503'
  const c = hits('/root.crl')
  assert.is(codeOf(await check(tok.aia!)), 'ok')
  assert.is(hits('/root.crl') - c, 1)
})

Fetch('a CDP-only certificate: the CRL fetched from its loopback URL decides (ok, revoked, from another CA)', async () => {
  reset()
  assert.is(codeOf(await check(tok.cdp!)), 'ok')
  srv.files['root.crl'] = ctx.revokedCrl
  const revoked = await check(tok.cdp!)
  assert.is(codeOf(revoked), 'TSA_CERT_REVOKED')
  assert.ok(!revoked.ok && revoked.message.startsWith(`${srv.base}/root.crl: `), JSON.stringify(revoked))
  srv.files['root.crl'] = ctx.otherCrl
  const other = await check(tok.cdp!)
  assert.is(codeOf(other), 'TSA_CRL_INVALID')
  assert.ok(!other.ok && other.message.includes(`${srv.base}/root.crl`), JSON.stringify(other))
})

Fetch('unreachable responder and CDP: TSA_REVOCATION_UNAVAILABLE naming both URLs; silence and an oversized answer too', async () => {
  reset()
  const dead = await check(tok.dead!)
  assert.is(codeOf(dead), 'TSA_REVOCATION_UNAVAILABLE')
  assert.ok(!dead.ok && dead.field === 'signer' && /127\.0\.0\.1:\d+\/ocsp: unreachable: ECONNREFUSED/.test(dead.message) && /\/root\.crl: unreachable/.test(dead.message), JSON.stringify(dead))
  srv.modes['/root.crl'] = 'silent'
  const t0 = Date.now()
  const silent = await check(tok.cdp!, { fetchRevocation: httpRevocationFetcher({ timeoutMs: 300 }) })
  assert.is(codeOf(silent), 'TSA_REVOCATION_UNAVAILABLE')
  assert.ok(!silent.ok && silent.message.includes('no answer within 300 ms') && Date.now() - t0 < 5000, JSON.stringify(silent))
  srv.modes['/root.crl'] = 'huge'
  const huge = await check(tok.cdp!, { fetchRevocation: httpRevocationFetcher({ maxCrlBytes: 100_000 }) })
  assert.is(codeOf(huge), 'TSA_REVOCATION_UNAVAILABLE')
  assert.ok(!huge.ok && huge.message.includes('exceeds 100000'), JSON.stringify(huge))
})

Fetch('no URL to fetch from (none, or only ldap:): TSA_REVOCATION_MISSING saying so', async () => {
  reset()
  const none = await check(tok.plain!)
  assert.is(codeOf(none), 'TSA_REVOCATION_MISSING')
  assert.ok(!none.ok && none.message.includes('names no http:'), JSON.stringify(none))
  const ldap = await check(tok.ldap!)
  assert.is(codeOf(ldap), 'TSA_REVOCATION_MISSING')
  assert.ok(!ldap.ok && ldap.message.includes('ldap://ldap.example'), JSON.stringify(ldap))
})

Fetch('evidence given offline is used first: nothing fetched; one fetcher asks each URL once', async () => {
  reset()
  const o = hits('/ocsp')
  const offline = await respond(tsa, tsa.root, cert.aia!, [{ cert: cert.aia! }])
  assert.is(codeOf(await check(tok.aia!, { fetchRevocation: true, ocsp: [offline.der] })), 'ok')
  assert.is(codeOf(await check(tok.aia!, { fetchRevocation: true, crls: [ctx.crl] })), 'ok')
  assert.is(hits('/ocsp') - o, 0)
  const shared = httpRevocationFetcher()
  assert.is(codeOf(await check(tok.aia!, { fetchRevocation: shared })), 'ok')
  assert.is(codeOf(await check(tok.aia!, { fetchRevocation: shared })), 'ok')
  assert.is(hits('/ocsp') - o, 1)
})

Fetch('pcp verify --tsa-fetch (or $PCP_TSA_FETCH=1): the anchors\' status fetched from the AIA responder; revoked there, the anchors fail', async () => {
  reset()
  const o = hits('/ocsp')
  const ok = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--json'])
  assert.is(ok.status, 0, ok.stdout)
  const anchors = ok.json.anchors as { count: number, results: Array<{ ok: boolean }> }
  assert.ok(anchors.count >= 1 && anchors.results.every((a) => a.ok), ok.stdout)
  assert.is(hits('/ocsp') - o, 1, 'one request for every anchor of the run (same TSA certificate)')
  const noFetch = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--json'])
  assert.is(noFetch.status, 0)
  assert.is(hits('/ocsp') - o, 1, 'without --tsa-fetch nothing is asked')
  const viaEnv = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--json'], { PCP_TSA_FETCH: '1' })
  assert.is(viaEnv.status, 0, viaEnv.stdout)
  assert.is(hits('/ocsp') - o, 2, '$PCP_TSA_FETCH=1 fetches like --tsa-fetch')
  srv.ocsp.index = [{ cert: cert.aia!, revokedAt: hourAgo() }]
  const revoked = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--json'])
  assert.is(revoked.status, 1, revoked.stdout)
  const errors = revoked.json.errors as Array<{ code: string }>
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'TSA_CERT_REVOKED'), revoked.stdout)
})

Fetch.run()
