// Vigil dashboard: plain DOM, polls the hub's API with the token the user typed (never embedded in the
// page: gaps.md #67). Every value from the hub is written with textContent, never as HTML: agent names
// and payloads come from the wire.
import { vrsPlot } from './plot.js'

const TOKEN_KEY = 'pcp-vigil-token'
const params = new URLSearchParams(location.search)
const REFRESH_MS = Math.max(250, Number(params.get('refresh')) || 5000)
const $ = (sel) => document.querySelector(sel)
let selected = null // agent ref shown in the detail panel
let timer = null

class Unauthorized extends Error {}

async function api (path, opts = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY)
  const headers = { Accept: 'application/json', ...(opts.headers || {}) }
  if (token) headers.Authorization = `Bearer ${token}`
  const res = await fetch(path, { ...opts, headers, cache: 'no-store' })
  if (res.status === 401) throw new Unauthorized('unauthorized')
  if (opts.raw) return res
  const body = await res.json()
  if (!res.ok) throw new Error(`${body.error || res.status}: ${body.message || ''}`)
  return body
}

function h (tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
    else e.setAttribute(k, v)
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)))
  return e
}

const fmtTime = (t) => t === null || t === undefined ? '—' : new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z'
const fmtNum = (n, d = 3) => n === null || n === undefined ? '—' : Number(n).toFixed(d)
const short = (s, n = 12) => s ? (s.length > n ? s.slice(0, n) + '…' : s) : '—'

function showLogin (message) {
  $('#login').hidden = false
  $('#main').hidden = true
  $('#login-error').textContent = message || ''
  $('[data-testid=live]').textContent = 'signed out'
}

async function refresh () {
  try {
    const [summary, alerts] = await Promise.all([api('/api/summary'), api('/api/alerts?limit=100' + severityQuery())])
    $('#login').hidden = true
    if (location.hash.startsWith('#report/')) return // the report is a snapshot; no polling under it
    $('#main').hidden = false
    renderSummary(summary)
    renderAlerts(alerts.alerts, summary)
    if (selected) await renderDetail(selected)
    const live = $('[data-testid=live]')
    live.className = 'live'
    live.textContent = `live · updated ${new Date().toLocaleTimeString()}`
  } catch (err) {
    if (err instanceof Unauthorized) {
      sessionStorage.removeItem(TOKEN_KEY)
      showLogin(sessionStorage.getItem('pcp-vigil-tried') ? 'That token was refused.' : '')
      return
    }
    const live = $('[data-testid=live]')
    live.className = 'live error'
    live.textContent = `hub unreachable: ${err.message}`
  }
}

function severityQuery () {
  const s = $('#alert-severity').value
  return s ? `&severity=${encodeURIComponent(s)}` : ''
}

function renderSummary (s) {
  const state = $('[data-testid=installation-state]')
  state.textContent = s.installationState
  state.className = `value state ${s.installationState}`
  $('[data-testid=global-vrs]').textContent = fmtNum(s.globalVrs, 4)
  $('[data-testid=agent-count]').textContent = String(s.totals.agents)
  $('[data-testid=event-count]').textContent = String(s.totals.events)
  $('[data-testid=open-alerts]').textContent = String(s.totals.openAlerts)
  const body = $('[data-testid=agents-table] tbody')
  body.replaceChildren(...s.agents.map((a) => h('tr', {
    class: 'clickable' + (selected === a.agentId ? ' selected' : ''), 'data-agent': a.agentId, onclick: () => { location.hash = `#agent/${a.agentId}` }
  },
  h('td', {}, h('strong', {}, a.name), h('br'), h('span', { class: 'mono' }, short(a.agentId, 16))),
  h('td', { class: `state ${a.state || ''}`, 'data-field': 'state' }, a.state || 'unscored'),
  h('td', { 'data-field': 'vrs' }, fmtNum(a.vrs, 4)),
  h('td', {}, a.trustScore === undefined ? '—' : `${fmtNum(a.trustScore, 2)} ${a.tier}`),
  h('td', {}, a.tsiState || '—'),
  h('td', {}, a.a2cRisk === undefined ? '—' : fmtNum(a.a2cRisk, 2)),
  h('td', {}, a.chainLabel || '—'),
  h('td', { class: a.chain && a.chain.verification === 'valid' ? 'ok' : 'error', 'data-field': 'verification' }, a.chain ? a.chain.verification : '—'),
  h('td', { 'data-field': 'events' }, a.chain ? a.chain.eventCount : '—'),
  h('td', {}, fmtTime(a.chain ? a.chain.lastSeen : a.lastEventAt)),
  h('td', { 'data-field': 'open-alerts' }, a.openAlerts ?? 0))))
}

function renderAlerts (alerts, summary) {
  const names = new Map(summary.agents.map((a) => [a.agentId, a.name]))
  $('[data-testid=alerts-table] tbody').replaceChildren(...alerts.map((a) => h('tr', { 'data-alert': a.id },
    h('td', {}, fmtTime(a.at)),
    h('td', {}, names.get(a.agentId) || short(a.agentId)),
    h('td', { class: `state ${a.severity}` }, a.severity),
    h('td', {}, a.type),
    h('td', {}, a.message),
    h('td', {}, a.acknowledged ? `ack by ${a.acknowledged.by}` : h('button', { type: 'button', onclick: () => ack(a.id) }, 'Acknowledge')))))
}

async function ack (id) {
  const by = prompt('Acknowledge as (your name):')
  if (!by) return
  await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ by }) })
  await refresh()
}

async function renderDetail (ref) {
  const [d, ev] = await Promise.all([api(`/api/agent/${encodeURIComponent(ref)}`), api(`/api/agent/${encodeURIComponent(ref)}/events?limit=20`)])
  $('#detail').hidden = false
  $('#detail-name').textContent = `${d.agent.name} (${d.vrs ? d.vrs.state : 'unscored'})`
  $('#link-report').href = `#report/${d.agent.agentId}`
  $('#plot').replaceChildren(vrsPlot(d.history))
  $('#reasons').replaceChildren(...(d.vrs ? d.vrs.reasons : []).map((r) => h('li', { class: r.severity }, r.text)))
  $('#chain-status').replaceChildren(...chainRows(d.chain))
  const c = d.vrs ? d.vrs.components : null
  $('#components tbody').replaceChildren(...(c ? [
    ['Trust score', `${c.trust.score} (${c.trust.tier})`, c.trust.weight, c.trust.contribution],
    ['TSI', c.tsi.state, c.tsi.weight, c.tsi.contribution],
    ['A2C risk', c.a2c.risk, c.a2c.weight, c.a2c.contribution],
    ['Chain risk', c.chain.score, c.chain.weight, c.chain.contribution]
  ] : []).map((row) => h('tr', {}, ...row.map((v) => h('td', {}, v)))))
  $('#events').replaceChildren(...ev.events.map((e) => h('tr', {},
    h('td', {}, e.index), h('td', {}, fmtTime(e.event.timestamp)), h('td', {}, e.event.payload && e.event.payload.event_type), h('td', { class: 'mono' }, short(e.hash, 16)))))
}

function chainRows (c) {
  const rows = [['agent_id', c.agentId], ['signing id', c.currentAgentId], ['events', c.eventCount], ['head', c.headHash || '—'],
    ['verification', c.verification], ['rejected', c.rejectedCount], ['last event', fmtTime(c.lastEventAt)], ['last seen', fmtTime(c.lastSeen)]]
  if (c.lastProblem) rows.push(['last problem', `${c.lastProblem.code} at event ${c.lastProblem.index}: ${c.lastProblem.message}`])
  return rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)])
}

// The verifier: runtime/browser.ts bundled by esbuild, loaded once, as a classic script (window.PcpVerifier).
let verifier = null
function loadVerifier () {
  verifier ??= new Promise((resolve, reject) => {
    const s = document.createElement('script')
    s.src = '/dashboard/verifier.js'
    s.onload = () => window.PcpVerifier ? resolve(window.PcpVerifier) : reject(new Error('verifier bundle did not load'))
    s.onerror = () => { verifier = null; reject(new Error('verifier bundle unavailable')) }
    document.head.append(s)
  })
  return verifier
}

/**
 * Verifies the hub's export in this browser (export-check.js, with no trust roots: the hub's own
 * checks are not the auditor's): lossless parse, every chain check, and its anchors counted.
 */
async function verifyText (text) {
  return window.PcpExportCheck.check(await loadVerifier(), { name: 'export', text, roots: [], crls: [], against: null })
}

function describe (r) {
  if (!r.usable) return { ok: false, text: `NOT AN AUDIT EXPORT: ${r.reason}` }
  const rep = r.report
  const lines = [rep.valid ? 'VALID' : 'INVALID', `agent_id ${rep.agent_id}`, `${rep.event_count} events`, `chain_integrity_hash ${rep.chain_integrity_hash}`]
  for (const e of rep.errors.slice(0, 20)) lines.push(`${e.code} (event ${e.index}): ${e.message}`)
  if (rep.errors.length > 20) lines.push(`… ${rep.errors.length - 20} more`)
  // Never silent about trusted time: anchors here are unverified until checked with the auditor's roots.
  if (r.anchors.count) lines.push(`${window.PcpExportCheck.anchorSummary(r.anchors).text} (load the export with your TSA roots in "Verify an exported chain")`)
  return { ok: rep.valid, text: lines.join('\n') }
}

async function fetchExportText (ref) {
  const res = await api(`/api/agent/${encodeURIComponent(ref)}/export`, { raw: true })
  if (!res.ok) throw new Error(`export failed: HTTP ${res.status}`)
  return res.text()
}

async function verifyHubExport () {
  const out = $('#detail-verdict')
  out.className = 'verdict'
  out.textContent = 'verifying in this browser…'
  try {
    const d = describe(await verifyText(await fetchExportText(selected)))
    out.className = `verdict ${d.ok ? 'valid' : 'invalid'}`
    out.textContent = d.text.split('\n').slice(0, 4).join(' · ')
  } catch (err) { out.className = 'verdict invalid'; out.textContent = err.message }
}

async function downloadExport () {
  const res = await api(`/api/agent/${encodeURIComponent(selected)}/export`, { raw: true })
  const blob = await res.blob()
  const a = h('a', { href: URL.createObjectURL(blob), download: `${selected}.audit.json` })
  document.body.append(a); a.click(); a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

async function renderReport (ref) {
  $('#main').hidden = true
  $('header.top').hidden = true
  $('#report').hidden = false
  const [d, al] = await Promise.all([api(`/api/agent/${encodeURIComponent(ref)}?points=200`), api(`/api/agent/${encodeURIComponent(ref)}/alerts?limit=1000`)])
  $('#report-name').textContent = d.agent.name
  $('#report-generated').textContent = `Generated ${fmtTime(d.computedAt)} from the hub at ${location.host}. The chain check below ran in this browser.`
  const body = $('#report-body')
  const r = d.vrs
  const verdict = h('pre', { 'data-testid': 'report-verdict' }, 'verifying the export in this browser…')
  body.replaceChildren(
    h('h3', {}, 'Risk'),
    h('p', {}, 'VRS ', h('strong', { class: r ? r.state : '' }, r ? `${r.vrs} ${r.state}` : 'unscored')),
    h('ul', {}, ...(r ? r.reasons : []).map((x) => h('li', {}, x.text))),
    h('div', {}, vrsPlot(d.history, { width: 700, height: 180 })),
    h('h3', {}, 'Chain'), h('dl', {}, ...chainRows(d.chain)),
    h('h3', {}, 'Export verified in this browser'), verdict,
    h('h3', {}, `Alerts (${al.count})`),
    h('table', {}, h('thead', {}, h('tr', {}, ...['Time', 'Severity', 'Type', 'Message', 'Acknowledged'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...al.alerts.map((a) => h('tr', {}, h('td', {}, fmtTime(a.at)), h('td', { class: a.severity }, a.severity), h('td', {}, a.type), h('td', {}, a.message),
        h('td', {}, a.acknowledged ? `${a.acknowledged.by} ${fmtTime(a.acknowledged.at)}` : '—'))))))
  try { verdict.textContent = describe(await verifyText(await fetchExportText(ref))).text } catch (err) { verdict.textContent = err.message }
}

async function route () {
  const m = /^#(agent|report)\/([^/]+)$/.exec(location.hash)
  if (m && m[1] === 'report') {
    try { await renderReport(decodeURIComponent(m[2])) } catch (err) { if (err instanceof Unauthorized) showLogin(''); else $('#report-body').textContent = err.message }
    return
  }
  $('#report').hidden = true
  $('header.top').hidden = false
  selected = m ? decodeURIComponent(m[2]) : null
  if (!selected) $('#detail').hidden = true
  await refresh()
}

function start () {
  $('#login-form').addEventListener('submit', (e) => {
    e.preventDefault()
    sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim())
    sessionStorage.setItem('pcp-vigil-tried', '1')
    $('#token').value = ''
    route()
  })
  $('#alert-severity').addEventListener('change', refresh)
  $('#btn-export').addEventListener('click', downloadExport)
  $('#btn-verify-hub').addEventListener('click', verifyHubExport)
  $('#btn-print').addEventListener('click', () => window.print())
  // The auditor's own files: export-check.js runs the chain and (lazily, with anchors.js) its anchors.
  window.PcpExportCheck.bind({ file: $('#audit-file'), roots: $('#audit-roots'), crls: $('#audit-crls'), ocsp: $('#audit-ocsp'), against: $('#audit-against') }, $('#audit-out'), loadVerifier)
  window.addEventListener('hashchange', route)
  route()
  timer = setInterval(() => { if (!$('#main').hidden) refresh() }, REFRESH_MS)
}

start()
