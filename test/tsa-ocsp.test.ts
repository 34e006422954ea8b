// tsa.md §8 step 10 by OCSP, offline (runtime/tsa/ocsp.ts, revocation-check.ts): every response is made
// by `openssl ocsp` acting as responder for a request it built (test/support/openssl-ocsp.ts), signed by
// the issuing CA, a delegate it certified, or a stranger, with the revocation dates the test picks.
// The responses are made before the tokens (thisUpdate at or before genTime); one made after them
// stands for an auditor's current answer. Ends with `pcp verify --tsa-ocsp` as a real process.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { verifyTimestampToken, certificate, type TokenCheck, type TokenVerdict } from '../runtime/tsa/verify-token.js'
import { buildTimestampRequest } from '../runtime/tsa/request.js'
import { parseTrustRoots, parseOcspResponse } from '../runtime/tsa/trust.js'
import { readOcspFile } from '../runtime/tsa/trust-file.js'
import { ocspResponse, ocspEvidence } from '../runtime/tsa/ocsp.js'
import { startLoopbackTsa, opensslHasTs, type LoopbackTsa, type CertFiles } from './support/openssl-tsa.js'
import { respond } from './support/openssl-ocsp.js'
import { stampN } from './support/anchored.js'
import { ROOT, tmpDir } from './helpers.js'

const Ocsp = suite('tsa-ocsp')
const sha256 = (b: string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest())
const codeOf = (v: TokenVerdict): string => v.ok ? 'ok' : v.code

let tsa: LoopbackTsa
let dir: { path: string, cleanup: () => void }
const r: Record<string, { file: string, der: Uint8Array }> = {}
const ctx: { imprint: Uint8Array, token: Uint8Array, subToken: Uint8Array, sub: CertFiles, subTsa: CertFiles, roots: Uint8Array[], exportFile: string, rootsFile: string, emptyCrl: Uint8Array } = {} as never

const check = (ocsp: Uint8Array[] | undefined, extra: Partial<TokenCheck> = {}, token = ctx.token): Promise<TokenVerdict> =>
  verifyTimestampToken(token, { imprint: ctx.imprint, trustRoots: ctx.roots, ...(ocsp ? { ocsp } : {}), ...extra })

function pcp (args: string[], env: Record<string, string> = {}): { status: number | null, json: Record<string, unknown>, stdout: string, stderr: string } {
  const p = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PCP_TSA_ROOTS: '', PCP_TSA_CRLS: '', PCP_TSA_OCSP: '', PCP_TSA_FETCH: '', ...env } })
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(p.stdout) } catch { /* text output */ }
  return { status: p.status, json, stdout: p.stdout, stderr: p.stderr }
}

Ocsp('setup: responses by the root, a delegate, strangers; then tokens and an anchored export made after them', async () => {
  assert.ok(await opensslHasTs(), 'this openssl has no "ts" command')
  tsa = await startLoopbackTsa()
  dir = tmpDir()
  const hourAgo = new Date(Date.now() - 3600_000); const tomorrow = new Date(Date.now() + 86400_000)
  const root = tsa.root; const me = tsa.tsa
  const delegate = await tsa.issue('OCSP Delegate', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=OCSPSigning'])
  const noEku = await tsa.issue('No EKU Delegate', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'])
  const otherRoot = await tsa.newRoot('Other CA')
  const strangerDelegate = await tsa.issue('Stranger Delegate', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=OCSPSigning'], otherRoot)
  ctx.sub = await tsa.issue('Test Sub CA', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'])
  ctx.subTsa = await tsa.issue('Sub TSA', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping'], ctx.sub)
  r.good = await respond(tsa, root, me, [{ cert: me }])
  r.goodNoCerts = await respond(tsa, root, me, [{ cert: me }], { noCerts: true })
  r.delegated = await respond(tsa, root, me, [{ cert: me }], { signer: delegate })
  r.revokedBefore = await respond(tsa, root, me, [{ cert: me, revokedAt: hourAgo }])
  r.revokedAfter = await respond(tsa, root, me, [{ cert: me, revokedAt: tomorrow }])
  r.unknown = await respond(tsa, root, me, [])
  r.stranger = await respond(tsa, root, me, [{ cert: me }], { signer: otherRoot })
  r.strangerDelegate = await respond(tsa, root, me, [{ cert: me }], { signer: strangerDelegate })
  r.noEku = await respond(tsa, root, me, [{ cert: me }], { signer: noEku })
  // the issuer's name on another key, its certificate left out: only the signature can tell
  r.impostor = await respond(tsa, root, me, [{ cert: me }], { signer: await tsa.impostor(root), noCerts: true })
  r.otherCert = await respond(tsa, root, delegate, [{ cert: delegate }])
  r.subTsa = await respond(tsa, ctx.sub, ctx.subTsa, [{ cert: ctx.subTsa }])
  r.subRevoked = await respond(tsa, root, ctx.sub, [{ cert: ctx.sub, revokedAt: hourAgo }])
  ctx.emptyCrl = (await tsa.crl(root)).der
  ctx.imprint = sha256('an anchored root')
  const req = buildTimestampRequest(ctx.imprint, (n) => new Uint8Array(randomBytes(n)))
  ctx.token = await tsa.reply(req.der)
  ctx.subToken = await tsa.reply(req.der, ctx.subTsa)
  ctx.roots = parseTrustRoots(root.pem)
  const home = join(dir.path, 'home')
  await stampN(tsa, home, 6, 'ocsp', true)
  const agent = await Agent.open({ name: 'bot' }, { home })
  ctx.exportFile = join(dir.path, 'export.json')
  await agent.export(ctx.exportFile)
  await agent.close()
  ctx.rootsFile = join(dir.path, 'roots.pem'); writeFileSync(ctx.rootsFile, root.pem)
  // thisUpdate has whole seconds: past the second of every genTime above, this answer is later than all.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  r.late = await respond(tsa, root, me, [{ cert: me }])
})
Ocsp.after(async () => { await tsa?.close(); dir?.cleanup() })

Ocsp('good from the issuer (its certificate in the response or not) or from a delegate with id-kp-OCSPSigning: ok; the file reads to the same bytes', async () => {
  assert.equal(await readOcspFile(r.good!.file), r.good!.der)
  assert.is(codeOf(await check([r.good!.der])), 'ok')
  assert.is(codeOf(await check([r.goodNoCerts!.der])), 'ok')
  assert.is(codeOf(await check([r.delegated!.der])), 'ok')
  // without any revocation source the same token is fine too: revocation stays unchecked
  assert.is(codeOf(await check(undefined)), 'ok')
})

Ocsp('revoked before genTime: TSA_CERT_REVOKED; revoked after genTime: the token stands', async () => {
  const v = await check([r.revokedBefore!.der])
  assert.is(codeOf(v), 'TSA_CERT_REVOKED')
  assert.ok(!v.ok && v.field === 'signer' && /revoked at .* at or before genTime .* \(OCSP\)/.test(v.message), JSON.stringify(v))
  assert.is(codeOf(await check([r.revokedAfter!.der])), 'ok')
  // a good answer beside it does not outvote it
  assert.is(codeOf(await check([r.good!.der, r.revokedBefore!.der])), 'TSA_CERT_REVOKED')
})

Ocsp('signed by an unrelated key (under its own name or the issuer\'s), by another CA\'s delegate, or by a delegate without id-kp-OCSPSigning: TSA_OCSP_INVALID', async () => {
  for (const k of ['stranger', 'strangerDelegate', 'noEku', 'impostor']) {
    const v = await check([r[k]!.der])
    assert.is(codeOf(v), 'TSA_OCSP_INVALID', k)
    // not outvoted by a good answer beside it either
    assert.is(codeOf(await check([r.good!.der, r[k]!.der])), 'TSA_OCSP_INVALID', k)
  }
  const noEku = await check([r.noEku!.der])
  assert.ok(!noEku.ok && noEku.message.includes('id-kp-OCSPSigning'), JSON.stringify(noEku))
  const impostor = await check([r.impostor!.der])
  assert.ok(!impostor.ok && /signature that does not verify/.test(impostor.message), JSON.stringify(impostor))
  const stranger = await check([r.strangerDelegate!.der])
  assert.ok(!stranger.ok && /did not certify/.test(stranger.message), JSON.stringify(stranger))
})

Ocsp('status unknown: TSA_OCSP_UNKNOWN; a response whose CertID names another certificate covers nothing: TSA_REVOCATION_MISSING, unless a CRL covers it', async () => {
  assert.is(codeOf(await check([r.unknown!.der])), 'TSA_OCSP_UNKNOWN')
  const other = await check([r.otherCert!.der])
  assert.is(codeOf(other), 'TSA_REVOCATION_MISSING')
  assert.ok(!other.ok && other.field === 'signer' && other.message.includes('Test TSA'), JSON.stringify(other))
  assert.is(codeOf(await check([], {})), 'TSA_REVOCATION_MISSING')
  // either kind of evidence counts
  assert.is(codeOf(await check([r.otherCert!.der], { crls: [ctx.emptyCrl] })), 'ok')
  // the CRL-only contract is unchanged: no CRL from the issuer is TSA_CRL_MISSING
  assert.is(codeOf(await check(undefined, { crls: [] })), 'TSA_CRL_MISSING')
})

Ocsp('an answer made after genTime (an auditor\'s current one) speaks while the certificate has not expired', async () => {
  assert.is(codeOf(await check([r.late!.der])), 'ok')
})

Ocsp('judged at a genTime past its nextUpdate (30 days, -ndays 30), an answer made before it no longer speaks: TSA_OCSP_INVALID', async () => {
  const root = certificate(tsa.root.der); const me = certificate(tsa.tsa.der)
  const basic = ocspResponse(r.good!.der)
  const single = basic.tbsResponseData.responses[0]!
  assert.is(await ocspEvidence(me, root, [basic], new Date(single.thisUpdate.getTime() + 29 * 86400_000), 'signer'), 'good')
  const stale = await ocspEvidence(me, root, [basic], new Date(single.nextUpdate!.getTime() + 1000), 'signer')
  assert.ok(typeof stale === 'object' && stale.code === 'TSA_OCSP_INVALID' && /nextUpdate .* had passed/.test(stale.message), JSON.stringify(stale))
})

Ocsp('bytes that are no OCSP response, or a response that is not successful: TSA_OCSP_INVALID', async () => {
  assert.throws(() => parseOcspResponse(new Uint8Array([1, 2, 3]), 'x.der'), (e: Error & { code?: string }) => e.code === 'TSA_OCSP_INVALID' && e.message.includes('x.der'))
  // OCSPResponse { responseStatus tryLater (3) }: a responder's refusal carries no status
  const tryLater = new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03])
  assert.throws(() => parseOcspResponse(tryLater), (e: Error & { code?: string }) => e.code === 'TSA_OCSP_INVALID' && /tryLater/.test(e.message))
  assert.is(codeOf(await check([tryLater])), 'TSA_OCSP_INVALID')
})

Ocsp('an intermediate on the path: OCSP for the TSA certificate, and the sub-CA needs its own (a CRL or an OCSP response)', async () => {
  const sub = { intermediates: [ctx.sub.der] }
  const missing = await check([r.subTsa!.der], sub, ctx.subToken)
  assert.is(codeOf(missing), 'TSA_REVOCATION_MISSING')
  assert.ok(!missing.ok && missing.field === 'chain' && missing.message.includes('Test Sub CA'), JSON.stringify(missing))
  assert.is(codeOf(await check([r.subTsa!.der], { ...sub, crls: [ctx.emptyCrl] }, ctx.subToken)), 'ok')
  const revoked = await check([r.subTsa!.der, r.subRevoked!.der], sub, ctx.subToken)
  assert.is(codeOf(revoked), 'TSA_CERT_REVOKED')
  assert.ok(!revoked.ok && revoked.field === 'chain', JSON.stringify(revoked))
})

Ocsp('pcp verify --tsa-roots --tsa-ocsp (repeatable, or $PCP_TSA_OCSP): every anchor checked by OCSP', () => {
  const ok = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-ocsp', r.otherCert!.file, '--tsa-ocsp', r.good!.file, '--json'])
  assert.is(ok.status, 0, ok.stdout + ok.stderr)
  const anchors = ok.json.anchors as { count: number, results: Array<{ ok: boolean }> }
  assert.ok(anchors.count >= 1 && anchors.results.every((a) => a.ok), ok.stdout)
  const revoked = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-ocsp', r.revokedBefore!.file, '--json'])
  assert.is(revoked.status, 1, revoked.stdout)
  const errors = revoked.json.errors as Array<{ code: string }>
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'TSA_CERT_REVOKED'), revoked.stdout)
  const viaEnv = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile], { PCP_TSA_OCSP: [r.otherCert!.file, r.revokedBefore!.file].join(delimiter) })
  assert.is(viaEnv.status, 1)
  assert.match(viaEnv.stdout, /\[TSA_CERT_REVOKED\]/)
  const missing = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-ocsp', r.otherCert!.file])
  assert.is(missing.status, 1)
  assert.match(missing.stdout, /\[TSA_REVOCATION_MISSING\]/)
  const unreadable = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-ocsp', join(dir.path, 'none.der'), '--json'])
  assert.is(unreadable.status, 2)
  assert.is((unreadable.json.error as { code: string }).code, 'TSA_OCSP_INVALID')
  for (const flag of [['--tsa-ocsp', r.good!.file], ['--tsa-fetch']]) {
    const alone = pcp(['verify', ctx.exportFile, ...flag, '--json'])
    assert.is(alone.status, 2, flag[0])
    assert.is((alone.json.error as { code: string }).code, 'ARGUMENT_INVALID')
  }
})

Ocsp.run()
