// The Vigil dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
// against a hub fed with real stamped events: figures shown = API figures, a tamper shows up as an
// alert, the in-browser verifier accepts the hub's export and rejects a tampered file, and a
// screenshot lands in test-artifacts/. Without chromium the browser test is SKIPPED and says why.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseJson, stringifyJson, type AissEvent } from '../runtime/index.js'
import { startVigilApi } from '../hub/vigil/http.js'
import { buildVerifierBundle, buildAnchorsBundle } from '../hub/vigil/verifier-bundle.js'
import { makeHub, auth, tampered, TOKEN } from './vigil-http-helpers.js'
import { ROOT, tmpDir } from './helpers.js'

const CHROMIUM = process.env.PCP_CHROMIUM ?? '/usr/bin/chromium'
const ARTIFACTS = join(ROOT, 'test-artifacts')
const D = suite('vigil-dashboard')

D('the verifier bundle builds for the browser (no Node built-ins) and matches scripts/build-dashboard.mjs', async () => {
  const text = await buildVerifierBundle()
  assert.ok(text.includes('PcpVerifier'))
  assert.not.match(text, /require\(["']|from ?["']node:/)
  const out = tmpDir('pcp-dash-build-')
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-dashboard.mjs'), out.path], { stdio: 'pipe' })
    assert.is(readFileSync(join(out.path, 'verifier.js'), 'utf8'), text)
    for (const f of ['index.html', 'app.js', 'plot.js', 'style.css', 'verify.html', 'verify.js', 'export-check.js']) assert.ok(existsSync(join(out.path, f)), f)
    // The anchor checker is its own classic script (window.PcpAnchors), the same bytes from both builds.
    const anchors = readFileSync(join(out.path, 'anchors.js'), 'utf8')
    assert.is(anchors, await buildAnchorsBundle())
    assert.ok(anchors.includes('PcpAnchors'))
    assert.not.match(anchors, /require\(["']|from ?["']node:/)
  } finally { out.cleanup() }
})

/** Polls an element's text until it matches (the page updates on its own timer). */
async function waitText (page: { textContent: (sel: string) => Promise<string | null> }, sel: string, re: RegExp, timeout = 8000): Promise<string> {
  const end = Date.now() + timeout
  for (;;) {
    const text = await page.textContent(sel) ?? ''
    if (re.test(text)) return text
    if (Date.now() > end) throw new Error(`${sel}: ${JSON.stringify(text)} never matched ${re}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const browserTest = existsSync(CHROMIUM) ? D : D.skip
if (!existsSync(CHROMIUM)) console.log(`SKIPPED the headless browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set PCP_CHROMIUM)`)

browserTest('headless Chromium: figures match the API, a tamper raises a visible alert, exports verify in the browser', async () => {
  const { chromium } = await import('playwright-core')
  const hub = await makeHub(['arm-1', 'arm-2', 'cart-3'], 8)
  const server = await startVigilApi({ vigil: hub.vigil, chain: hub.chain, metrics: hub.metrics, token: TOKEN, port: 0, now: () => hub.clock.now })
  const profile = tmpDir('pcp-chromium-')
  const files = tmpDir('pcp-dash-files-')
  const ctx = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  const problems: string[] = []
  try {
    const page = await ctx.newPage()
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    // A 401 before sign-in is expected; any other console error (a CSP violation, a script error) is not.
    page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) problems.push(`console: ${m.text()}`) })
    const api = async (path: string): Promise<any> => (await fetch(server.url + path, { headers: auth })).json()

    await page.goto(`${server.url}/dashboard/?refresh=300`)
    await page.waitForSelector('#login:not([hidden])')
    await page.fill('#token', TOKEN)
    await page.click('#login-form button')
    await page.waitForSelector('[data-testid=agents-table] tbody tr:nth-child(3)')
    assert.not.ok((await page.content()).includes(TOKEN), 'the token is in the DOM')

    // Header and table figures = the API's.
    const s = await api('/api/summary')
    assert.is(await page.textContent('[data-testid=installation-state]'), s.installationState)
    assert.is(await page.textContent('[data-testid=global-vrs]'), s.globalVrs.toFixed(4))
    assert.is(await page.textContent('[data-testid=agent-count]'), '3')
    assert.is(await page.textContent('[data-testid=event-count]'), String(s.totals.events))
    for (const a of s.agents) {
      const row = `[data-testid=agents-table] tr[data-agent="${a.agentId}"]`
      assert.is(await page.textContent(`${row} [data-field=vrs]`), a.vrs.toFixed(4))
      assert.is(await page.textContent(`${row} [data-field=state]`), a.state)
      assert.is(await page.textContent(`${row} [data-field=events]`), '8')
      assert.is(await page.textContent(`${row} [data-field=verification]`), 'valid')
    }

    // Agent detail: plot, chain status and recent events.
    const arm2 = hub.agents[1]!
    await page.click(`[data-testid=agents-table] tr[data-agent="${arm2.agentId}"]`)
    await page.waitForSelector('[data-testid=vrs-plot] svg [data-testid=vrs-line]', { state: 'attached' })
    const detail = await api(`/api/agent/${arm2.agentId}`)
    assert.is(Number(await page.getAttribute('[data-testid=vrs-plot] svg', 'data-points')), detail.history.length)
    assert.is(await page.textContent('[data-testid=chain-status] dd[data-field=head]'), detail.chain.headHash)
    assert.is(await page.locator('[data-testid=events-table] tbody tr').count(), 8)

    // The hub's export, verified by the bundle in the page.
    await page.click('#btn-verify-hub')
    await waitText(page, '[data-testid=detail-verdict]', /^(VALID|INVALID|export failed)/)
    assert.match(await page.textContent('[data-testid=detail-verdict]') ?? '', /^VALID · agent_id /)

    // Tamper: a broker alters an event of arm-2 in flight. The hub refuses it and the page shows it.
    const ev = await arm2.stamp('actuation', { gripper: 'open' })
    const r = await fetch(`${server.url}/api/agent/arm-2/record`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: stringifyJson(tampered(ev, { gripper: 'closed' })) })
    assert.is(r.status, 422)
    await page.waitForSelector('[data-testid=alerts-table] tbody tr >> text=chain_bad_signature', { timeout: 5000 })
    const row2 = `[data-testid=agents-table] tr[data-agent="${arm2.agentId}"]`
    await waitText(page, `${row2} [data-field=verification]`, /^anomalous$/)
    const after = await api('/api/summary')
    const a2 = after.agents.find((a: { agentId: string }) => a.agentId === arm2.agentId)
    assert.ok(['ALERT', 'CRITICAL'].includes(a2.state))
    await waitText(page, `${row2} [data-field=state]`, new RegExp(`^${a2.state}$`))
    assert.is(await page.textContent('[data-testid=open-alerts]'), String(after.totals.openAlerts))

    // An auditor loads files: the hub's genuine export verifies, a doctored copy does not.
    const exportText = await (await fetch(`${server.url}/api/agent/arm-1/export`, { headers: auth })).text()
    const doc = parseJson(exportText) as any
    writeFileSync(join(files.path, 'good.audit.json'), exportText)
    const bad = { ...doc, events: doc.events.map((e: AissEvent, i: number) => i === 2 ? tampered(e, { temp: 99.5 }) : e) }
    writeFileSync(join(files.path, 'bad.audit.json'), stringifyJson(bad, 2))
    await page.setInputFiles('[data-testid=audit-file]', join(files.path, 'good.audit.json'))
    await waitText(page, '[data-testid=audit-result]', /^(VALID|INVALID|NOT)/)
    assert.match(await page.textContent('[data-testid=audit-result]') ?? '', /^VALID\nagent_id \S+\n8 events/)
    await page.setInputFiles('[data-testid=audit-file]', join(files.path, 'bad.audit.json'))
    await waitText(page, '[data-testid=audit-result]', /^INVALID/)
    assert.match(await page.textContent('[data-testid=audit-result]') ?? '', /SIGNATURE_INVALID \(event 2\)/)

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'vigil-dashboard.png'), fullPage: true })

    // The printable report of the tampered agent, with its export checked in the browser.
    await page.goto(`${server.url}/dashboard/#report/${arm2.agentId}`)
    await waitText(page, '[data-testid=report-verdict]', /^(VALID|INVALID)/)
    assert.match(await page.textContent('[data-testid=report-verdict]') ?? '', /^VALID\n/)
    assert.match(await page.textContent('[data-testid=report]') ?? '', /chain_bad_signature/)
    await page.screenshot({ path: join(ARTIFACTS, 'vigil-report.png'), fullPage: true })

    // Offline: the built folder's verify.html, opened from disk, needs no hub at all.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-dashboard.mjs'), join(files.path, 'site')], { stdio: 'pipe' })
    await page.goto(`file://${join(files.path, 'site', 'verify.html')}`)
    await page.setInputFiles('#file', join(files.path, 'good.audit.json'))
    await waitText(page, '#result', /^(VALID|INVALID|NOT)/)
    assert.match(await page.textContent('#result') ?? '', /^VALID\n/)
    await page.setInputFiles('#file', join(files.path, 'bad.audit.json'))
    await waitText(page, '#result', /^INVALID/)
    assert.equal(problems, [])
  } finally {
    await ctx.close()
    await server.close()
    await hub.close()
    profile.cleanup()
    files.cleanup()
  }
})

D.run()
