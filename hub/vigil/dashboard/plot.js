// VRS-over-time plot: one SVG, state bands behind, the span's worst value (max) as a faint line and the
// last value as the main line, so a downsampled spike is never hidden (hub/vigil/history.ts).
const NS = 'http://www.w3.org/2000/svg'
const BANDS = [['SAFE', 0, 0.25, '#2e9e5b'], ['WATCH', 0.25, 0.5, '#c9a227'], ['ALERT', 0.5, 0.75, '#e07b24'], ['CRITICAL', 0.75, 1, '#d63a3a']]

function el (name, attrs, text) {
  const e = document.createElementNS(NS, name)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  if (text !== undefined) e.textContent = text
  return e
}

/** points: [{ t, span, vrs, max, state }], oldest first. Returns an <svg>. */
export function vrsPlot (points, { width = 640, height = 200 } = {}) {
  const pad = { l: 34, r: 8, t: 8, b: 22 }
  const w = width - pad.l - pad.r
  const h = height - pad.t - pad.b
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': 'VRS over time', 'data-points': points.length })
  const y = (v) => pad.t + h * (1 - Math.min(1, Math.max(0, v)))
  for (const [name, lo, hi, color] of BANDS) {
    svg.append(el('rect', { x: pad.l, y: y(hi), width: w, height: y(lo) - y(hi), fill: color, opacity: 0.1 }))
    svg.append(el('text', { x: 2, y: y(lo) - 2 }, name))
  }
  if (points.length === 0) {
    svg.append(el('text', { x: pad.l + w / 2 - 30, y: pad.t + h / 2 }, 'no data yet'))
    return svg
  }
  const t0 = points[0].t
  const t1 = Math.max(points[points.length - 1].t + points[points.length - 1].span, t0 + 1)
  const x = (t) => pad.l + w * (t - t0) / (t1 - t0)
  const path = (key) => points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t + p.span / 2).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')
  svg.append(el('path', { d: path('max'), fill: 'none', stroke: '#d63a3a', 'stroke-width': 1, opacity: 0.5, 'stroke-dasharray': '3 2' }))
  svg.append(el('path', { d: path('vrs'), fill: 'none', stroke: '#4a90d9', 'stroke-width': 2, 'data-testid': 'vrs-line' }))
  for (const p of points) svg.append(el('circle', { cx: x(p.t + p.span / 2), cy: y(p.vrs), r: 2.5, fill: '#4a90d9' }))
  const fmt = (t) => new Date(t * 1000).toISOString().slice(5, 16).replace('T', ' ')
  svg.append(el('text', { x: pad.l, y: height - 6 }, fmt(t0)))
  svg.append(el('text', { x: width - pad.r - 70, y: height - 6 }, fmt(t1)))
  return svg
}
