// The verifier pages' export check (hub/vigil/dashboard/export-check.js with the real verifier.js and
// anchors.js bundles) in Debian's Chromium, against `pcp verify --json` run as a child process on the same
// files: the CLI is the reference, the page must show its verdict, its errors (codes, indices, messages)
// and its per-anchor results (range, genTime, TSA, code). The TSA material is real OpenSSL (a throwaway CA
// and `openssl ts -reply` on loopback). Cases: a mixed AISS-1/AISS-2 chain with good anchors and trusted
// roots; the same without roots (counted, never "trusted time"); a token for another imprint; an
// untrusted root; a signed attribute altered; the forged "MAA="; a downgrade (ML-DSA signature stripped);
// a CRL revoking the TSA; OCSP responses (good, revoked); two histories diverging before an anchored point. The anchor bundle is loaded
// only once a chain has anchors and roots; roots or CRLs the CLI refuses are refused with its code;
// verify.html opened from disk does the same.
// Without Chromium or `openssl ts` the test is SKIPPED and says why.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { execFileSync, spawnSync } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startVigilApi } from '../hub/vigil/http.js'
import { makeHub, TOKEN } from './vigil-http-helpers.js'
import { makeAnchorExports, type AnchorExports } from './support/anchor-exports.js'
import { anchorPayload } from '../runtime/anchor/payload.js'
import { startLoopbackTsa, opensslHasTs } from './support/openssl-tsa.js'
import { ROOT, tmpDir } from './helpers.js'

const CHROMIUM = process.env.PCP_CHROMIUM ?? '/usr/bin/chromium'
const S = suite('vigil-export-check')
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set PCP_CHROMIUM)` : !(await opensslHasTs()) ? 'openssl has no ts command' : null
if (skip) console.log(`SKIPPED the browser anchor test: ${skip}`)
const test = skip ? S.skip : S

interface Inputs { file: string, roots?: string, crls?: string, ocsp?: string, against?: string }
interface CliJson {
  valid: boolean, agent_id: string, event_count: number, chain_integrity_hash: string
  errors: Array<{ code: string, index: number, message: string }>
  anchors?: { count: number, verified: boolean, results: Array<{ index: number, from: number, to: number, ok: boolean, code?: string, gen_time?: string, tsa?: string }> }
  against?: { diverges_at: number }
  /** Unusable input (exit 2): the trust roots or CRLs could not be used. */
  error?: { code: string, message: string }
}

function pcpVerify (i: Inputs): CliJson {
  const args = ['verify', i.file, '--json', ...(i.roots ? ['--tsa-roots', i.roots] : []), ...(i.crls ? ['--tsa-crl', i.crls] : []), ...(i.ocsp ? ['--tsa-ocsp', i.ocsp] : []), ...(i.against ? ['--against', i.against] : [])]
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PCP_TSA_ROOTS: '', PCP_TSA_CRLS: '', PCP_TSA_OCSP: '', PCP_TSA_FETCH: '' } })
  assert.ok(r.status === 0 || r.status === 1 || r.status === 2, `pcp ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
  return JSON.parse(r.stdout) as CliJson
}

interface PageVerdict { text: string, summary: string | null, summaryClass: string | null, rows: Array<Record<string, string>>, against: string | null }
type Page = import('playwright-core').Page

/** Sets the page's inputs (the export last), waits until it has judged exactly these files, reads the verdict. */
async function pageVerdict (page: Page, ids: { file: string, roots: string, crls: string, ocsp: string, against: string, out: string }, i: Inputs): Promise<PageVerdict> {
  await page.setInputFiles(ids.file, [])
  await page.setInputFiles(ids.roots, i.roots ? [i.roots] : [])
  await page.setInputFiles(ids.crls, i.crls ? [i.crls] : [])
  await page.setInputFiles(ids.ocsp, i.ocsp ? [i.ocsp] : [])
  await page.setInputFiles(ids.against, i.against ? [i.against] : [])
  await page.setInputFiles(ids.file, i.file)
  const key = [basename(i.file), i.roots ? basename(i.roots) : '', i.crls ? basename(i.crls) : '', i.against ? basename(i.against) : '', i.ocsp ? basename(i.ocsp) : ''].join('|')
  await page.waitForSelector(`${ids.out}[data-done="${key}"]`, { timeout: 30_000 })
  // The callback runs in the page (DOM types are not in this project's tsconfig).
  return page.$eval(ids.out, (out: any) => {
    const s = out.querySelector('[data-testid=anchor-summary]')
    const a = out.querySelector('[data-testid=against]')
    return {
      text: out.querySelector('[data-testid=audit-result]').textContent ?? '',
      summary: s ? s.textContent : null,
      summaryClass: s ? s.className : null,
      rows: Array.from(out.querySelectorAll('[data-testid=anchor-results] tbody tr'), (tr: any) => Object.fromEntries(Array.from(tr.querySelectorAll('td'), (td: any) => [td.dataset.field, td.textContent ?? '']))),
      against: a ? a.textContent : null
    }
  })
}

/** The page says what the CLI says: verdict, errors line by line, each anchor's result, the divergence. */
function assertSame (name: string, p: PageVerdict, c: CliJson): void {
  const lines = p.text.split('\n')
  assert.equal(lines.slice(0, 4), [c.valid ? 'VALID' : 'INVALID', `agent_id ${c.agent_id}`, `${c.event_count} events`, `chain_integrity_hash ${c.chain_integrity_hash}`], name)
  assert.equal(lines.slice(4), c.errors.map((e) => `${e.code} (event ${e.index}): ${e.message}`), `${name}: errors`)
  if (c.anchors?.verified) {
    assert.equal(p.rows, c.anchors.results.map((r) => ({ index: String(r.index), covered: `${r.from}..${r.to}`, gen_time: r.gen_time ?? '—', tsa: r.tsa ?? '—', verdict: r.ok ? 'trusted time' : r.code! })), `${name}: anchors`)
    const ok = c.anchors.results.filter((r) => r.ok).length
    if (c.anchors.count > 0) assert.match(p.summary ?? '', new RegExp(`^anchors: ${ok} of ${c.anchors.count} verified`), `${name}: summary`)
  }
  if (c.against) {
    const d = c.against.diverges_at
    assert.match(p.against ?? '', d < 0 ? /no divergence/ : new RegExp(`the histories diverge at event ${d}$`), `${name}: against`)
  }
}

const codes = (c: CliJson): string[] => c.errors.map((e) => e.code)

test('the dashboard and verify.html give pcp verify\'s verdicts on anchored AISS-1/AISS-2 exports, loading anchors.js only when needed', async () => {
  const { chromium } = await import('playwright-core')
  const tsa = await startLoopbackTsa()
  const dir = tmpDir('pcp-export-check-')
  const hub = await makeHub(['arm-1'], 1)
  const server = await startVigilApi({ vigil: hub.vigil, chain: hub.chain, metrics: hub.metrics, token: TOKEN, port: 0, now: () => hub.clock.now })
  const profile = tmpDir('pcp-chromium-')
  const ctx = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 1000 },
    // vigil.test resolves to loopback: the same hub under a name that is not a secure context.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--host-resolver-rules=MAP vigil.test 127.0.0.1']
  })
  const problems: string[] = []
  try {
    const x: AnchorExports = await makeAnchorExports(tsa, dir.path)
    const versions = new Set((JSON.parse(readFileSync(x.good, 'utf8')) as { events: Array<{ version: string }> }).events.map((e) => e.version))
    assert.equal([...versions].sort(), ['AISS-1.0', 'AISS-2.0'], 'the chain mixes both profiles')

    // The reference verdicts, each checked to be the case it claims to be.
    const cases: Array<{ name: string, in: Inputs, check: (c: CliJson) => void }> = [
      { name: 'mixed chain, good anchors, trusted roots', in: { file: x.good, roots: x.roots }, check: (c) => { assert.ok(c.valid); assert.ok(c.anchors!.count >= 2); assert.ok(c.anchors!.results.every((r) => r.ok)) } },
      { name: 'a token for another imprint', in: { file: x.wrongImprint, roots: x.roots }, check: (c) => assert.equal(codes(c), ['TSA_IMPRINT_MISMATCH']) },
      { name: 'an untrusted root', in: { file: x.good, roots: x.otherRoot }, check: (c) => { assert.ok(c.errors.length >= 2); assert.ok(codes(c).every((k) => k === 'TSA_CHAIN_UNTRUSTED')) } },
      { name: 'a signed attribute altered', in: { file: x.tamperedAttrs, roots: x.roots }, check: (c) => assert.equal(codes(c), ['TSA_SIGNATURE_INVALID']) },
      { name: 'the forged MAA= token', in: { file: x.forged, roots: x.roots }, check: (c) => assert.equal(codes(c), ['TSA_TOKEN_MALFORMED']) },
      { name: 'a downgrade: an AISS-2.0 event without its ML-DSA signature', in: { file: x.downgrade, roots: x.roots }, check: (c) => assert.ok(codes(c).includes('PROFILE_MISMATCH'), codes(c).join()) },
      { name: 'a CRL revoking the TSA before genTime', in: { file: x.good, roots: x.roots, crls: x.revokedCrl }, check: (c) => { assert.ok(c.errors.length >= 2); assert.ok(codes(c).every((k) => k === 'TSA_CERT_REVOKED')) } },
      { name: 'an OCSP response: the TSA good at genTime', in: { file: x.good, roots: x.roots, ocsp: x.ocspGood }, check: (c) => { assert.ok(c.valid, codes(c).join()); assert.ok(c.anchors!.results.every((r) => r.ok)) } },
      { name: 'an OCSP response: the TSA revoked before genTime', in: { file: x.good, roots: x.roots, ocsp: x.ocspRevoked }, check: (c) => { assert.ok(c.errors.length >= 2); assert.ok(codes(c).every((k) => k === 'TSA_CERT_REVOKED')) } },
      { name: 'two histories diverging before an anchored point', in: { file: x.early, roots: x.roots, against: x.good }, check: (c) => { assert.is(c.against!.diverges_at, 3); assert.equal(codes(c), ['FORK_AFTER_FINALIZATION']) } }
    ]
    const cli = cases.map((k) => { const c = pcpVerify(k.in); k.check(c); return c })
    const noRoots = pcpVerify({ file: x.good })
    assert.ok(noRoots.valid)
    // Without --tsa-roots the CLI checks no anchor, and says how many it left unchecked (as the page does, below).
    assert.equal(noRoots.anchors, { count: cli[0]!.anchors!.count, verified: false, results: [] })

    const page = await ctx.newPage()
    const requested: string[] = []
    page.on('request', (r) => requested.push(r.url()))
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) problems.push(`console: ${m.text()}`) })
    await page.goto(`${server.url}/dashboard/?refresh=300`)
    await page.waitForSelector('#login:not([hidden])')
    await page.fill('#token', TOKEN)
    await page.click('#login-form button')
    await page.waitForSelector('[data-testid=agents-table] tbody tr')
    const dash = { file: '#audit-file', roots: '#audit-roots', crls: '#audit-crls', ocsp: '#audit-ocsp', against: '#audit-against', out: '#audit-out' }
    const anchorsLoaded = async (): Promise<boolean> => requested.some((u) => u.endsWith('/anchors.js')) || await page.evaluate(() => 'PcpAnchors' in globalThis)

    // No anchors, or anchors but no roots: nothing for the anchor bundle to do, so it is not fetched.
    const plain = await pageVerdict(page, dash, { file: x.plain, roots: x.roots })
    assertSame('plain chain', plain, pcpVerify({ file: x.plain, roots: x.roots }))
    assert.match(plain.summary ?? '', /^anchors: none/)
    const unrooted = await pageVerdict(page, dash, { file: x.good })
    assertSame('anchored chain without roots', unrooted, noRoots)
    assert.is(unrooted.summary, `anchors: ${cli[0]!.anchors!.count}, not verified (no trust roots given): no token was checked and no TSA is trusted, so these anchors prove no time`)
    assert.is(unrooted.summaryClass, 'warn')
    assert.equal(unrooted.rows, [])
    assert.not.ok(await anchorsLoaded(), 'anchors.js loaded for a check that needs no anchor verification')

    for (const [k, c] of cases.entries()) {
      assertSame(c.name, await pageVerdict(page, dash, c.in), cli[k]!)
      if (k === 0) {
        assert.ok(await anchorsLoaded())
        mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true })
        await page.locator('#audit').screenshot({ path: join(ROOT, 'test-artifacts', 'vigil-export-anchors.png') })
      }
    }

    // Trust input the CLI refuses (exit 2) is refused by the page with the same code, and no anchor is judged.
    writeFileSync(join(dir.path, 'not-a-root.pem'), 'no certificate here\n')
    for (const [name, i] of [['an unusable roots file', { file: x.good, roots: join(dir.path, 'not-a-root.pem') }], ['a CRL without roots', { file: x.good, crls: x.revokedCrl }], ['an OCSP response without roots', { file: x.good, ocsp: x.ocspGood }]] as const) {
      const ref = pcpVerify(i)
      assert.ok(ref.error, `${name}: the CLI refuses it`)
      const p = await pageVerdict(page, dash, i)
      assert.ok(p.summary!.startsWith(`anchors: ${cli[0]!.anchors!.count}, not checked: ${ref.error!.code}: `), `${name}: ${p.summary}`)
      assert.is(p.summaryClass, 'error')
      assert.equal(p.rows, [])
    }

    // The hub's own export, checked on the agent's printable report: its anchors are counted and said to
    // be unverified (the page has no roots of the auditor's there), never passed over in silence.
    const arm = hub.agents[0]!
    await hub.stampAndIngest(arm, 'anchor', anchorPayload({ from: 0, to: 0, toHash: '0'.repeat(64), root: '0'.repeat(64), token: new Uint8Array([0x30, 0x00]), nonce: '1', url: 'http://tsa.invalid/', genTime: '' }))
    await page.goto(`${server.url}/dashboard/#report/${arm.agentId}`)
    await page.waitForFunction(() => /^(VALID|INVALID|NOT)/.test((globalThis as any).document.querySelector('[data-testid=report-verdict]')?.textContent ?? ''))
    assert.match(await page.textContent('[data-testid=report-verdict]') ?? '', /^VALID\n[\s\S]*\nanchors: 1, not verified \(no trust roots given\)/)

    // verify.html from a built folder, opened from disk: anchors.js beside it, WebCrypto in a file:// page.
    const site = join(dir.path, 'site')
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-dashboard.mjs'), site], { stdio: 'pipe' })
    await page.goto(`file://${join(site, 'verify.html')}`)
    const offline = { file: '#file', roots: '#roots', crls: '#crls', ocsp: '#ocsp', against: '#against', out: '#out' }
    for (const k of [0, 4, 5]) assertSame(`verify.html: ${cases[k]!.name}`, await pageVerdict(page, offline, cases[k]!.in), cli[k]!)
    // A dashboard served over plain HTTP to another host has no WebCrypto: it says so and judges no anchor.
    await page.goto(`${server.url.replace('127.0.0.1', 'vigil.test')}/dashboard/?refresh=300`)
    assert.is(await page.evaluate(() => (globalThis as any).isSecureContext), false)
    await page.waitForSelector('#login:not([hidden])')
    await page.fill('#token', TOKEN)
    await page.click('#login-form button')
    await page.waitForSelector('[data-testid=agents-table] tbody tr')
    const insecure = await pageVerdict(page, dash, cases[0]!.in)
    assert.ok(insecure.text.startsWith('VALID\n'), insecure.text)
    assert.match(insecure.summary ?? '', /^anchors: \d+, not checked: this page has no WebCrypto/)
    assert.is(insecure.summaryClass, 'error')
    assert.equal(problems, [])
  } finally {
    await ctx.close()
    await server.close()
    await hub.close()
    await tsa.close()
    profile.cleanup()
    dir.cleanup()
  }
})

S.run()
