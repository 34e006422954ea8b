// The export check of both verifier pages (the dashboard's "Verify an exported chain" panel and the
// standalone verify.html): the chain by the main verifier bundle (window.PcpVerifier), then its anchors
// by the anchor bundle (anchors.js, window.PcpAnchors: pkijs, ~5× the verifier), which is loaded only
// when there is something for it to do: a chain with anchor events and trust roots to check them
// against, or a second history to compare. The verdict is what `pcp verify --json --tsa-roots R
// [--tsa-crl C] [--against B]` prints for the same files (runtime/anchor/export-anchors.ts is the code of
// both): the same errors, the same anchors object. Revocation comes from the files given (CRLs, OCSP
// responses) only: the page never fetches status (--tsa-fetch), so its verdict depends on the files
// alone. Without roots the anchors are counted, never shown as trusted time. A classic script (window.PcpExportCheck) so that verify.html also runs from file://.
(function () {
  'use strict'
  const BASE = document.currentScript ? document.currentScript.src : location.href
  let anchorsBundle = null

  function loadAnchors () {
    anchorsBundle = anchorsBundle || new Promise((resolve, reject) => {
      const s = document.createElement('script')
      s.src = new URL('anchors.js', BASE).href
      s.onload = () => window.PcpAnchors ? resolve(window.PcpAnchors) : reject(new Error('anchor bundle did not load'))
      s.onerror = () => { anchorsBundle = null; reject(new Error('anchor bundle (anchors.js) unavailable')) }
      document.head.append(s)
    })
    return anchorsBundle
  }

  const isAnchor = (e) => e !== null && typeof e === 'object' && e.payload !== null && typeof e.payload === 'object' && e.payload.event_type === 'anchor'

  /** Parses and verifies one export's chain: { doc, report } or { reason }. */
  function chainOf (v, text, name) {
    let doc
    try { doc = v.parseJson(text, name) } catch (err) { return { reason: err.message } }
    const r = v.verifyAuditExport(doc)
    return r.usable ? { doc, report: r.report } : { reason: r.reason }
  }

  /**
   * input: { name, text, roots: [{ name, text }], crls: [{ name, bytes }], ocsp?: [{ name, bytes }], against: { name, text } | null }.
   * Resolves with { usable: false, reason } | { usable: true, valid, report, errors, anchors, against? }
   * | { usable: true, trustError: { code?, message } } when the roots, CRLs or OCSP responses cannot be
   * used, or the page has no WebCrypto.
   */
  async function check (v, input) {
    const first = chainOf(v, input.text, input.name)
    if (!first.doc) return { usable: false, reason: first.reason }
    const events = first.doc.events
    const count = events.filter(isAnchor).length
    const withRoots = input.roots.length > 0
    const out = { usable: true, report: first.report, valid: first.report.valid, errors: first.report.errors.slice(), anchors: { count, verified: withRoots, results: [] } }
    const ocspIn = input.ocsp || []
    if ((input.crls.length || ocspIn.length) && !withRoots) return { ...out, trustError: { code: 'ARGUMENT_INVALID', message: `${input.crls.length ? 'CRLs' : 'OCSP responses'} need trust roots: without them no anchor is verified, so no revocation would be checked` } }
    // Nothing to check: anchors.js stays unloaded, so the roots are not parsed either (pcp verify reads
    // them first and refuses an unusable file even for a chain without anchors).
    if (!((count > 0 && withRoots) || input.against)) return out
    // pkijs checks signatures with WebCrypto, which browsers give only to secure contexts (HTTPS,
    // localhost, file://): without it every token would fail for a reason that is not the token's.
    if (!(globalThis.crypto && globalThis.crypto.subtle)) return { ...out, trustError: { message: 'this page has no WebCrypto (crypto.subtle): open it over HTTPS, from localhost, or from disk to check anchors' } }
    const A = await loadAnchors()
    let trust
    try {
      if (withRoots) {
        const crls = input.crls.flatMap((c) => A.parseCrls(c.bytes, c.name))
        const ocsp = ocspIn.map((o) => A.parseOcspResponse(o.bytes, o.name))
        trust = { trustRoots: input.roots.flatMap((r) => A.parseTrustRoots(r.text, r.name)), ...(crls.length ? { crls } : {}), ...(ocsp.length ? { ocsp } : {}) }
      }
    } catch (err) { return { ...out, trustError: { code: err.code || 'ERROR', message: err.message } } }
    const ea = await A.exportAnchors(events, events.map((e) => v.eventHash(e)), trust)
    let fork
    if (input.against) {
      const second = chainOf(v, input.against.text, input.against.name)
      if (!second.doc) return { usable: false, reason: `against ${input.against.name}: ${second.reason}` }
      const evs = second.doc.events
      fork = A.compareHistories(ea, await A.exportAnchors(evs, evs.map((e) => v.eventHash(e)), trust))
      out.against = { file: input.against.name, diverges_at: fork.divergence }
    }
    const extra = A.anchorProblems(ea, fork)
    return { ...out, valid: out.valid && extra.length === 0, errors: out.errors.concat(extra), anchors: A.anchorsJson(ea, withRoots) }
  }

  function h (tag, attrs, text) {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v)
    if (text !== undefined) e.textContent = String(text)
    return e
  }

  /** The chain verdict's <pre>; its id is the container's data-result-id (verify.html keeps #result). */
  const resultPre = (out) => h('pre', { 'data-testid': 'audit-result', id: out.dataset.resultId || 'audit-result' })

  /** The anchors line, worded like `pcp verify`'s text output. */
  function anchorSummary (a) {
    if (a.count === 0) return { cls: '', text: 'anchors: none (this chain carries no trusted time)' }
    if (!a.verified) return { cls: 'warn', text: `anchors: ${a.count}, not verified (no trust roots given): no token was checked and no TSA is trusted, so these anchors prove no time` }
    const ok = a.results.filter((r) => r.ok)
    const last = ok.length ? `, final up to event ${Math.max(...ok.map((r) => r.to))} (genTime ${ok[ok.length - 1].gen_time})` : ''
    return { cls: ok.length === a.count ? 'ok' : 'error', text: `anchors: ${ok.length} of ${a.count} verified${last}` }
  }

  /** Fills `out` (an element) with the verdict: data-testid audit-result (text), anchor-summary, anchor-results, against. */
  function render (out, r) {
    const pre = resultPre(out)
    if (!r.usable) {
      // A bundle that did not load is no verdict on the file.
      pre.className = 'error'; pre.textContent = r.failed ? `NOT CHECKED: ${r.reason}` : `NOT AN AUDIT EXPORT: ${r.reason}`
      out.replaceChildren(pre)
      return
    }
    const rep = r.report
    const lines = [r.valid ? 'VALID' : 'INVALID', `agent_id ${rep.agent_id}`, `${rep.event_count} events`, `chain_integrity_hash ${rep.chain_integrity_hash}`]
    for (const e of r.errors.slice(0, 20)) lines.push(`${e.code} (event ${e.index}): ${e.message}`)
    if (r.errors.length > 20) lines.push(`… ${r.errors.length - 20} more`)
    pre.className = r.valid ? 'ok' : 'error'
    pre.textContent = lines.join('\n')
    const nodes = [pre]
    if (r.trustError) {
      nodes.push(h('p', { class: 'error', 'data-testid': 'anchor-summary' }, `anchors: ${r.anchors.count}, not checked: ${r.trustError.code ? r.trustError.code + ': ' : ''}${r.trustError.message}`))
      out.replaceChildren(...nodes)
      return
    }
    const s = anchorSummary(r.anchors)
    nodes.push(h('p', { class: s.cls, 'data-testid': 'anchor-summary' }, s.text))
    if (r.anchors.results.length) {
      const table = h('table', { 'data-testid': 'anchor-results' })
      const head = h('tr')
      for (const t of ['Anchor event', 'Covers events', 'genTime (TSA)', 'TSA', 'Verdict']) head.append(h('th', {}, t))
      table.append(h('thead'), h('tbody'))
      table.tHead.append(head)
      for (const a of r.anchors.results) {
        const row = h('tr', { 'data-index': String(a.index), class: a.ok ? 'ok' : 'error' })
        row.append(h('td', { 'data-field': 'index' }, a.index), h('td', { 'data-field': 'covered' }, `${a.from}..${a.to}`),
          h('td', { 'data-field': 'gen_time' }, a.gen_time || '—'), h('td', { 'data-field': 'tsa' }, a.tsa || '—'),
          h('td', { 'data-field': 'verdict' }, a.ok ? 'trusted time' : a.code))
        table.tBodies[0].append(row)
      }
      nodes.push(table)
    }
    if (r.against) {
      const d = r.against.diverges_at
      nodes.push(h('p', { 'data-testid': 'against' }, d < 0 ? `against ${r.against.file}: no divergence (one history extends the other)` : `against ${r.against.file}: the histories diverge at event ${d}`))
    }
    out.replaceChildren(...nodes)
  }

  /**
   * Wires the inputs ({ file, roots, crls, ocsp, against }: file inputs, all but file optional) to `out`:
   * any change re-runs the check, and only the latest run writes. When it has, `out` carries data-done =
   * the file names it judged ("export|roots,…|crls,…|against|ocsp,…"), so a reader knows which.
   */
  function bind (els, out, getVerifier) {
    let run = 0
    const files = (el) => el ? Array.from(el.files || []) : []
    const go = async () => {
      const file = files(els.file)[0]
      const mine = ++run
      out.removeAttribute('data-done')
      if (!file) { out.replaceChildren(resultPre(out)); return }
      const roots = files(els.roots); const crls = files(els.crls); const ocsp = files(els.ocsp); const against = files(els.against)[0]
      const key = [file.name, roots.map((f) => f.name).join(','), crls.map((f) => f.name).join(','), against ? against.name : '', ocsp.map((f) => f.name).join(',')].join('|')
      const wait = resultPre(out); wait.textContent = 'verifying…'
      out.replaceChildren(wait)
      let r
      try {
        const v = await getVerifier()
        const input = {
          name: file.name, text: await file.text(),
          roots: await Promise.all(roots.map(async (f) => ({ name: f.name, text: await f.text() }))),
          crls: await Promise.all(crls.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }))),
          ocsp: await Promise.all(ocsp.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }))),
          against: against ? { name: against.name, text: await against.text() } : null
        }
        r = await check(v, input)
      } catch (err) { r = { usable: false, failed: true, reason: err.message } }
      if (mine !== run) return
      render(out, r)
      out.setAttribute('data-done', key)
    }
    for (const el of [els.file, els.roots, els.crls, els.ocsp, els.against]) if (el) el.addEventListener('change', go)
  }

  window.PcpExportCheck = { check, render, bind, loadAnchors, anchorSummary }
})()
