// tsa.md §8 step 10 with CRLs (runtime/tsa/revocation.ts): a real OpenSSL CA on loopback signs the
// CRLs (`openssl ca -gencrl`, test/support/openssl-tsa.ts), each with the revocation dates the test
// picks. The CRLs are made before the tokens, so their thisUpdate is at or before genTime; one made
// after them stands for an auditor's current CRL (the certificate has not expired: it still counts). Ends with `pcp verify --tsa-roots --tsa-crl` as a real process.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { verifyTimestampToken, type TokenCheck, type TokenVerdict } from '../runtime/tsa/verify-token.js'
import { buildTimestampRequest } from '../runtime/tsa/request.js'
import { parseTrustRoots, parseCrls } from '../runtime/tsa/trust.js'
import { readCrlFile } from '../runtime/tsa/trust-file.js'
import { startLoopbackTsa, opensslHasTs, type LoopbackTsa, type CertFiles, type CrlFile } from './support/openssl-tsa.js'
import { stampN } from './support/anchored.js'
import { ROOT, tmpDir } from './helpers.js'

const Revocation = suite('tsa-revocation')
const sha256 = (b: string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest())
const codeOfVerdict = (v: TokenVerdict): string => v.ok ? 'ok' : v.code

let tsa: LoopbackTsa
let dir: { path: string, cleanup: () => void }
const crl: Record<string, CrlFile> = {}
const ctx: { imprint: Uint8Array, token: Uint8Array, subToken: Uint8Array, sub: CertFiles, roots: Uint8Array[], exportFile: string, rootsFile: string } = {} as never

const check = (crls?: Uint8Array[], token = ctx.token, extra: Partial<TokenCheck> = {}): Promise<TokenVerdict> =>
  verifyTimestampToken(token, { imprint: ctx.imprint, trustRoots: ctx.roots, ...(crls ? { crls } : {}), ...extra })

function pcp (args: string[], env: Record<string, string> = {}): { status: number | null, json: Record<string, unknown>, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PCP_TSA_ROOTS: '', PCP_TSA_CRLS: '', ...env } })
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(r.stdout) } catch { /* text output */ }
  return { status: r.status, json, stdout: r.stdout, stderr: r.stderr }
}

// Set up in the first test, not a hook: uvu swallows errors thrown in hooks (STYLE.md).
Revocation('setup: CRLs from the root and a sub-CA, then tokens and an anchored export made after them', async () => {
  assert.ok(await opensslHasTs(), 'this openssl has no "ts" command')
  tsa = await startLoopbackTsa()
  dir = tmpDir()
  const hourAgo = new Date(Date.now() - 3600_000); const tomorrow = new Date(Date.now() + 86400_000)
  ctx.sub = await tsa.issue('Test Sub CA', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'])
  const subTsa = await tsa.issue('Sub TSA', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping'], ctx.sub)
  crl.empty = await tsa.crl(tsa.root)
  crl.revokedBefore = await tsa.crl(tsa.root, [{ cert: tsa.tsa, at: hourAgo }])
  crl.revokedAfter = await tsa.crl(tsa.root, [{ cert: tsa.tsa, at: tomorrow }])
  crl.forged = await tsa.crl(await tsa.impostor(tsa.root))
  crl.other = await tsa.crl(await tsa.newRoot('Other CA'))
  crl.subEmpty = await tsa.crl(ctx.sub)
  crl.subRevoked = await tsa.crl(tsa.root, [{ cert: ctx.sub, at: hourAgo }])
  ctx.imprint = sha256('an anchored root')
  const req = buildTimestampRequest(ctx.imprint, (n) => new Uint8Array(randomBytes(n)))
  ctx.token = await tsa.reply(req.der)
  ctx.subToken = await tsa.reply(req.der, subTsa)
  ctx.roots = parseTrustRoots(tsa.root.pem)
  const home = join(dir.path, 'home')
  await stampN(tsa, home, 6, 'crl', true)
  const agent = await Agent.open({ name: 'bot' }, { home })
  ctx.exportFile = join(dir.path, 'export.json')
  await agent.export(ctx.exportFile)
  await agent.close()
  ctx.rootsFile = join(dir.path, 'roots.pem'); writeFileSync(ctx.rootsFile, tsa.root.pem)
  // thisUpdate has whole seconds: past the second of every genTime above, this CRL is later than all.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  crl.late = await tsa.crl(tsa.root)
})
Revocation.after(async () => { await tsa?.close(); dir?.cleanup() })

Revocation('an empty CRL from the root: ok; the PEM file and its DER parse to the same CRL', async () => {
  const fromFile = await readCrlFile(crl.empty!.file)
  assert.equal(fromFile, [crl.empty!.der])
  assert.equal(parseCrls(crl.empty!.der), [crl.empty!.der])
  assert.is(codeOfVerdict(await check(fromFile)), 'ok')
  assert.is(codeOfVerdict(await check(parseCrls(crl.other!.pem + crl.empty!.pem))), 'ok') // a PEM with several CRLs
  assert.throws(() => parseCrls('no crl here', 'x.pem'), (e: Error & { code?: string }) => e.code === 'TSA_CRL_INVALID')
})

Revocation('the TSA certificate revoked before genTime: TSA_CERT_REVOKED; without crls revocation stays unchecked', async () => {
  const v = await check([crl.revokedBefore!.der])
  assert.is(codeOfVerdict(v), 'TSA_CERT_REVOKED')
  assert.ok(!v.ok && v.field === 'signer' && /revoked at .* at or before genTime/.test(v.message), JSON.stringify(v))
  assert.is(codeOfVerdict(await check()), 'ok')
})

Revocation('the revocation date decides: revoked after genTime the token stands (made while the key was good)', async () => {
  assert.is(codeOfVerdict(await check([crl.revokedAfter!.der])), 'ok')
  assert.is(codeOfVerdict(await check([crl.revokedAfter!.der, crl.revokedBefore!.der])), 'TSA_CERT_REVOKED')
})

Revocation('a CRL under the issuer\'s name signed by another key, or bytes that are no CRL: TSA_CRL_INVALID; one issued after genTime (an auditor\'s current CRL) speaks while the certificate had not expired', async () => {
  assert.is(codeOfVerdict(await check([crl.forged!.der])), 'TSA_CRL_INVALID')
  // the forged list cannot be outvoted by a good one beside it: each CRL from the issuer must hold
  assert.is(codeOfVerdict(await check([crl.empty!.der, crl.forged!.der])), 'TSA_CRL_INVALID')
  // Issued after every genTime, while the TSA certificate is still valid: it lists every revocation so far.
  assert.is(codeOfVerdict(await check([crl.late!.der])), 'ok')
  assert.is(codeOfVerdict(await check([new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])])), 'TSA_CRL_INVALID')
})

Revocation('crls given but none from the issuer: TSA_CRL_MISSING (passing CRLs means "check all")', async () => {
  const v = await check([crl.other!.der])
  assert.is(codeOfVerdict(v), 'TSA_CRL_MISSING')
  assert.ok(!v.ok && v.message.includes('Test Root CA'), JSON.stringify(v))
  assert.is(codeOfVerdict(await check([])), 'TSA_CRL_MISSING')
})

Revocation('an intermediate on the path: checked against the root\'s CRL, revoked or missing', async () => {
  const sub = { intermediates: [ctx.sub.der] }
  assert.is(codeOfVerdict(await check(undefined, ctx.subToken, sub)), 'ok')
  assert.is(codeOfVerdict(await check([crl.subEmpty!.der, crl.empty!.der], ctx.subToken, sub)), 'ok')
  const missing = await check([crl.subEmpty!.der], ctx.subToken, sub)
  assert.is(codeOfVerdict(missing), 'TSA_CRL_MISSING')
  assert.ok(!missing.ok && missing.field === 'chain', JSON.stringify(missing))
  const revoked = await check([crl.subEmpty!.der, crl.subRevoked!.der], ctx.subToken, sub)
  assert.is(codeOfVerdict(revoked), 'TSA_CERT_REVOKED')
  assert.ok(!revoked.ok && revoked.field === 'chain' && revoked.message.includes('Test Sub CA'), JSON.stringify(revoked))
})

Revocation('pcp verify --tsa-roots --tsa-crl (repeatable, or $PCP_TSA_CRLS): every anchor checked for revocation', () => {
  const ok = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-crl', crl.other!.file, '--tsa-crl', crl.empty!.file, '--json'])
  assert.is(ok.status, 0, ok.stdout + ok.stderr)
  const anchors = ok.json.anchors as { count: number, results: Array<{ ok: boolean }> }
  assert.ok(anchors.count >= 1 && anchors.results.every((a) => a.ok))
  const revoked = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-crl', crl.revokedBefore!.file, '--json'])
  assert.is(revoked.status, 1, revoked.stdout)
  const errors = revoked.json.errors as Array<{ code: string }>
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'TSA_CERT_REVOKED'), revoked.stdout)
  const viaEnv = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile], { PCP_TSA_CRLS: crl.other!.file })
  assert.is(viaEnv.status, 1)
  assert.match(viaEnv.stdout, /\[TSA_CRL_MISSING\]/)
  const unreadable = pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-crl', join(dir.path, 'none.crl'), '--json'])
  assert.is(unreadable.status, 2)
  assert.is((unreadable.json.error as { code: string }).code, 'TSA_CRL_INVALID')
  // A CRL without trust roots would check nothing: refused, not silently ignored.
  const alone = pcp(['verify', ctx.exportFile, '--tsa-crl', crl.empty!.file, '--json'])
  assert.is(alone.status, 2)
  assert.is((alone.json.error as { code: string }).code, 'ARGUMENT_INVALID')
})

Revocation.run()
