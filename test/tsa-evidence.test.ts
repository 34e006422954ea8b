// `pcp verify --tsa-fetch --tsa-save-evidence DIR` (cli/tsa-evidence.ts): what a fetching run used is
// written to DIR, and the same verification offline from DIR (`--tsa-crl DIR --tsa-ocsp DIR`), with the
// loopback responder stopped, gives the same verdicts. The export holds anchors by two TSA certificates
// of the loopback CA: one naming an OCSP responder (its status comes from `openssl ocsp`), one naming
// only a CRL distribution point (an `openssl ca -gencrl` CRL), so both kinds of evidence are saved.
// The CLI runs as a child process, spawned asynchronously: the server lives in this one.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { startLoopbackTsa, opensslHasTs, type LoopbackTsa, type CertFiles } from './support/openssl-tsa.js'
import { startRevocationServer, type RevocationServer } from './support/openssl-ocsp.js'
import { stampN } from './support/anchored.js'
import { ROOT, tmpDir } from './helpers.js'

const Evidence = suite('tsa-evidence')
const TSA_EXT = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping']

let tsa: LoopbackTsa
let srv: RevocationServer
let dir: { path: string, cleanup: () => void }
const cert: Record<string, CertFiles> = {}
const ctx: { rootsFile: string, exportFile: string, good: string, revoked: string, crl: Uint8Array, revokedCrl: Uint8Array, online: Record<'good' | 'revoked', Result[]>, tsaOf: string[], readmeDir: string, reproducible: boolean } = { online: {} } as never

interface Result { index: number, ok: boolean, code?: string }
interface Run { status: number | null, json: Record<string, unknown>, stdout: string, stderr: string }
function pcp (args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, PCP_TSA_ROOTS: '', PCP_TSA_CRLS: '', PCP_TSA_OCSP: '', PCP_TSA_FETCH: '', ...env } })
    let stdout = ''; let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('close', (status) => {
      let json: Record<string, unknown> = {}
      try { json = JSON.parse(stdout) } catch { /* text output */ }
      resolve({ status, json, stdout, stderr })
    })
  })
}
const results = (r: Run): Result[] => (r.json.anchors as { results: Result[] }).results.map(({ index, ok, code }) => ({ index, ok, ...(code ? { code } : {}) }))
// README "Keeping the evidence": its two command lines, run by sh as written, in a directory holding
// export.json and tsa-roots.pem, with `pcp` on PATH.
const readmeLines = (): string[] => {
  const block = /\*\*Keeping the evidence\.\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))![1]!
  return block.split('\n').filter((l) => l.startsWith('pcp '))
}
function sh (line: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: ctx.readmeDir, env: { ...process.env, PATH: `${join(ctx.readmeDir, 'bin')}:${process.env.PATH}`, PCP_TSA_ROOTS: '', PCP_TSA_CRLS: '', PCP_TSA_OCSP: '', PCP_TSA_FETCH: '' } })
    let stdout = ''; let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('close', (status) => resolve({ status, json: {}, stdout, stderr }))
  })
}
const files = (r: Run): string[] => (r.json.evidence as { files: string[] }).files

Evidence('setup: an export anchored by an OCSP-naming and a CRL-only TSA certificate, its status behind a loopback server', async () => {
  assert.ok(await opensslHasTs(), 'this openssl has no "ts" command')
  tsa = await startLoopbackTsa()
  srv = await startRevocationServer(tsa)
  dir = tmpDir()
  cert.aia = await tsa.issue('AIA TSA', [...TSA_EXT, `authorityInfoAccess=OCSP;URI:${srv.base}/ocsp`, `crlDistributionPoints=URI:${srv.base}/root.crl`])
  cert.cdp = await tsa.issue('CDP TSA', [...TSA_EXT, `crlDistributionPoints=URI:${srv.base}/root.crl`])
  ctx.crl = (await tsa.crl(tsa.root)).der
  ctx.revokedCrl = (await tsa.crl(tsa.root, [{ cert: cert.cdp, at: new Date(Date.now() - 3600_000) }])).der
  ctx.rootsFile = join(dir.path, 'roots.pem'); writeFileSync(ctx.rootsFile, tsa.root.pem)
  const home = join(dir.path, 'home')
  tsa.signer = cert.aia
  await stampN(tsa, home, 5, 'ocsp', true)
  tsa.signer = cert.cdp
  await stampN(tsa, home, 5, 'crl', true)
  const agent = await Agent.open({ name: 'bot' }, { home })
  ctx.exportFile = join(dir.path, 'export.json')
  await agent.export(ctx.exportFile)
  await agent.close()
  ctx.good = join(dir.path, 'evidence-good'); ctx.revoked = join(dir.path, 'evidence-revoked')
})
Evidence.after(async () => { await srv?.close(); await tsa?.close(); dir?.cleanup() })

Evidence('--tsa-save-evidence without --tsa-fetch, or without --tsa-roots: refused, ARGUMENT_INVALID naming the option', async () => {
  const noFetch = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-save-evidence', ctx.good, '--json'])
  assert.is(noFetch.status, 2, noFetch.stdout)
  const e = noFetch.json.error as { code: string, message: string }
  assert.is(e.code, 'ARGUMENT_INVALID')
  assert.match(e.message, /--tsa-save-evidence needs --tsa-fetch/)
  const noRoots = await pcp(['verify', ctx.exportFile, '--tsa-fetch', '--tsa-save-evidence', ctx.good, '--json'])
  assert.is(noRoots.status, 2)
  assert.is((noRoots.json.error as { code: string }).code, 'ARGUMENT_INVALID')
  assert.throws(() => readdirSync(ctx.good), 'nothing written when refused')
})

Evidence('fetch and save: every anchor ok, one OCSP response and one CRL saved as DER under names saying what they are; --json lists them', async () => {
  srv.ocsp = { issuer: tsa.root, index: [{ cert: cert.aia! }, { cert: cert.cdp! }], opts: {} }
  srv.files['root.crl'] = ctx.crl
  const o = srv.hits['/ocsp'] ?? 0; const c = srv.hits['/root.crl'] ?? 0
  const r = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--tsa-save-evidence', ctx.good, '--json'])
  assert.is(r.status, 0, r.stdout + r.stderr)
  const res = results(r)
  ctx.tsaOf = (r.json.anchors as { results: Array<{ tsa: string }> }).results.map((a) => a.tsa)
  assert.equal([...new Set(ctx.tsaOf)].sort(), ['CN=AIA TSA', 'CN=CDP TSA'], r.stdout)
  assert.ok(res.every((a) => a.ok), r.stdout)
  ctx.online.good = res
  ctx.reproducible = (r.json.evidence as { reproducible: boolean }).reproducible
  // the AIA certificate's status came from its responder, the CDP one's from the CRL: each asked once
  assert.equal([(srv.hits['/ocsp'] ?? 0) - o, (srv.hits['/root.crl'] ?? 0) - c], [1, 1])
  const saved = files(r)
  assert.equal(readdirSync(ctx.good).sort(), saved, 'exactly the listed files, no temp file left')
  assert.is(saved.length, 2, JSON.stringify(saved))
  const serial = new X509Certificate(cert.aia!.pem).serialNumber.toLowerCase()
  assert.match(saved.find((f) => f.endsWith('.ocsp'))!, new RegExp(`^${serial}-\\d{8}T\\d{6}Z\\.ocsp$`))
  assert.match(saved.find((f) => f.endsWith('.crl'))!, /^[0-9a-f]{16}-\d{8}T\d{6}Z\.crl$/)
  assert.equal(new Uint8Array(readFileSync(join(ctx.good, saved.find((f) => f.endsWith('.crl'))!))), ctx.crl, 'the CRL as served, DER')
  assert.equal((r.json.evidence as { dir: string }).dir, ctx.good)
  // the text form says where, and how to use it offline
  const text = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--tsa-save-evidence', ctx.good])
  assert.is(text.status, 0, text.stdout + text.stderr)
  assert.match(text.stdout, /revocation evidence: 2 file\(s\) in .* \(offline: --tsa-crl .* --tsa-ocsp .*\)/)
  // A second run fetches afresh: the responder signs a new answer (saved beside the first), the CRL is the same bytes (not written twice).
  const after = readdirSync(ctx.good).sort()
  assert.equal(after.filter((f) => f.endsWith('.crl')), saved.filter((f) => f.endsWith('.crl')))
  assert.is(after.filter((f) => f.endsWith('.ocsp')).length, 2, JSON.stringify(after))
})

Evidence('the responder says revoked: the anchors are refused, and the answers that said so are saved', async () => {
  srv.ocsp = { issuer: tsa.root, index: [{ cert: cert.aia!, revokedAt: new Date(Date.now() - 3600_000) }], opts: {} }
  srv.files['root.crl'] = ctx.revokedCrl
  const r = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--tsa-save-evidence', ctx.revoked, '--json'])
  assert.is(r.status, 1, r.stdout + r.stderr)
  assert.ok(results(r).length >= 2 && results(r).every((a) => a.code === 'TSA_CERT_REVOKED'), r.stdout)
  assert.is(files(r).length, 2, r.stdout)
  ctx.online.revoked = results(r)
})

Evidence('README\'s evidence workflow, first line: fetch and save into export.evidence', async () => {
  srv.ocsp = { issuer: tsa.root, index: [{ cert: cert.aia! }, { cert: cert.cdp! }], opts: {} }
  srv.files['root.crl'] = ctx.crl
  ctx.readmeDir = join(dir.path, 'readme'); mkdirSync(join(ctx.readmeDir, 'bin'), { recursive: true })
  copyFileSync(ctx.exportFile, join(ctx.readmeDir, 'export.json')); copyFileSync(ctx.rootsFile, join(ctx.readmeDir, 'tsa-roots.pem'))
  writeFileSync(join(ctx.readmeDir, 'bin', 'pcp'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/pcp.js')}" "$@"\n`); chmodSync(join(ctx.readmeDir, 'bin', 'pcp'), 0o755)
  const lines = readmeLines()
  assert.is(lines.length, 2, 'README shows the fetching line and the offline line')
  const r = await sh(lines[0]!)
  assert.is(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /revocation evidence: 2 file\(s\) in export\.evidence/)
  assert.is(readdirSync(join(ctx.readmeDir, 'export.evidence')).length, 2)
})

Evidence('a saved stale CRL would judge an OCSP-covered anchor otherwise offline: the run says so (reproducible: false, on stderr too)', async () => {
  // CRL-only anchors first, then, past the CRL's nextUpdate, OCSP-covered ones: fetched, the CRL speaks
  // only for the first; offline it must hold up for every certificate of the root, the later ones included.
  const home = join(dir.path, 'home-stale')
  tsa.signer = cert.cdp!; await stampN(tsa, home, 5, 'crl', true)
  const cdpDone = new Date()
  await new Promise((resolve) => setTimeout(resolve, 2500))
  tsa.signer = cert.aia!; await stampN(tsa, home, 5, 'ocsp', true)
  tsa.signer = tsa.tsa
  const agent = await Agent.open({ name: 'bot' }, { home }); const file = join(dir.path, 'stale.json')
  await agent.export(file); await agent.close()
  const t = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z')
  const cnf = join(dir.path, 'stale.cnf'); const out = join(dir.path, 'stale.crl.pem')
  writeFileSync(join(dir.path, 'stale.index'), ''); writeFileSync(join(dir.path, 'stale.crlnumber'), '01\n')
  writeFileSync(cnf, `[ca]\ndefault_ca = c\n[c]\ndatabase = ${join(dir.path, 'stale.index')}\ncrlnumber = ${join(dir.path, 'stale.crlnumber')}\ndefault_md = sha256\n`)
  execFileSync('openssl', ['ca', '-gencrl', '-config', cnf, '-cert', tsa.root.cert, '-keyfile', tsa.root.key, '-out', out, '-crl_lastupdate', t(new Date(cdpDone.getTime() - 600_000)), '-crl_nextupdate', t(new Date(cdpDone.getTime() + 1000))], { stdio: 'pipe' })
  srv.ocsp = { issuer: tsa.root, index: [{ cert: cert.aia! }, { cert: cert.cdp! }], opts: {} }
  srv.files['root.crl'] = new Uint8Array(Buffer.from(readFileSync(out, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'))
  const saveDir = join(dir.path, 'evidence-stale')
  const r = await pcp(['verify', file, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--tsa-save-evidence', saveDir, '--json'])
  assert.is(r.status, 0, r.stdout + r.stderr)
  assert.ok(results(r).every((a) => a.ok), 'fetched, every anchor holds')
  const ev = r.json.evidence as { reproducible: boolean, differs: Array<{ index: number, fetched: string, offline: string }> }
  assert.is(ev.reproducible, false, r.stdout)
  const aia = (r.json.anchors as { results: Array<{ index: number, tsa: string }> }).results.filter((a) => a.tsa === 'CN=AIA TSA').map((a) => a.index)
  assert.equal(ev.differs, aia.map((index) => ({ index, fetched: 'ok', offline: 'TSA_CRL_INVALID' })))
  assert.match(r.stderr, /warning: offline from .* would be judged otherwise: event \d+ ok → TSA_CRL_INVALID/)
  const offline = await pcp(['verify', file, '--tsa-roots', ctx.rootsFile, '--tsa-crl', saveDir, '--tsa-ocsp', saveDir, '--json'])
  assert.equal(results(offline).filter((a) => !a.ok).map((a) => a.index), aia, 'the warning told the truth')
  // the good run of the shared export said reproducible
  assert.is(ctx.reproducible, true)
})

Evidence('with the server stopped: verified offline from the saved files, the same verdicts (good stays good, revoked stays revoked)', async () => {
  await srv.close()
  const dead = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-fetch', '--json'])
  assert.ok(results(dead).every((a) => a.code === 'TSA_REVOCATION_UNAVAILABLE'), `the network is gone: ${dead.stdout}`)
  // a directory stands for its *.crl / *.ocsp files
  const good = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-crl', ctx.good, '--tsa-ocsp', ctx.good, '--json'])
  assert.is(good.status, 0, good.stdout + good.stderr)
  assert.equal(results(good), ctx.online.good)
  // the files named one by one, as a shell glob gives them
  const byName = readdirSync(ctx.revoked).flatMap((f) => [f.endsWith('.crl') ? '--tsa-crl' : '--tsa-ocsp', join(ctx.revoked, f)])
  const revoked = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, ...byName, '--json'])
  assert.is(revoked.status, 1, revoked.stdout + revoked.stderr)
  assert.equal(results(revoked), ctx.online.revoked)
  // each saved file is needed: without the CRL the CRL-only certificate's anchor is uncovered
  const noCrl = await pcp(['verify', ctx.exportFile, '--tsa-roots', ctx.rootsFile, '--tsa-ocsp', ctx.good, '--json'])
  assert.equal(results(noCrl).map((a) => a.code ?? 'ok'), ctx.tsaOf.map((t) => t === 'CN=AIA TSA' ? 'ok' : 'TSA_REVOCATION_MISSING'), noCrl.stdout)
  // README's second line, as written
  const offline = await sh(readmeLines()[1]!)
  assert.is(offline.status, 0, offline.stdout + offline.stderr)
  assert.match(offline.stdout, new RegExp(`anchors: ${ctx.tsaOf.length} of ${ctx.tsaOf.length} verified`))
})

Evidence.run()
