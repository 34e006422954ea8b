// hub/metrics.ts (prom-client on the hub's own registry, text format 0.0.4) and the hub's /metrics route fed by real chains.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { stringifyJson } from '../runtime/index.js'
import { MetricsRegistry, HUB_METRICS } from '../hub/metrics.js'
import { makeHub, apiFor, auth, tampered } from './vigil-http-helpers.js'
import { parseExposition } from './support/prom-text.js'

const M = suite('vigil-http-metrics')

/** Exposition text → { 'name{labels}': value }, each line's grammar checked (test/support/prom-text.ts). */
const parse = (text: string): Map<string, number> => parseExposition(text).samples

M('counters and gauges render in the 0.0.4 format with escaped label values', async () => {
  const reg = new MetricsRegistry()
  const c = reg.counter('pcp_test_total', 'a test\ncounter with \\ backslash', ['reason'])
  c.inc({ reason: 'plain' })
  c.inc({ reason: 'quote " back \\ newline \n end' }, 2)
  const g = reg.gauge('pcp_test_gauge', 'g', ['agent'])
  g.set({ agent: 'a' }, 0.25)
  g.set({ agent: 'b' }, Infinity)
  const text = await reg.render()
  assert.match(text, '# HELP pcp_test_total a test\\ncounter with \\\\ backslash\n# TYPE pcp_test_total counter\n')
  assert.match(text, 'pcp_test_total{reason="quote \\" back \\\\ newline \\n end"} 2\n')
  assert.match(text, 'pcp_test_gauge{agent="b"} +Inf\n')
  const parsed = parse(text)
  assert.is(parsed.get('pcp_test_total{reason="plain"}'), 1)
  assert.is(parsed.get('pcp_test_gauge{agent="a"}'), 0.25)
  assert.is(await c.get({ reason: 'quote " back \\ newline \n end' }), 2)
})

M('programmer mistakes throw; label order does not split series; series are bounded', async () => {
  const reg = new MetricsRegistry({ maxSeries: 3 })
  assert.throws(() => reg.counter('bad name'), RangeError)
  assert.throws(() => reg.counter('x_total', '', ['__reserved']), RangeError)
  const c = reg.counter('x_total', 'x', ['a', 'b'])
  assert.is(reg.counter('x_total'), c)
  assert.throws(() => reg.gauge('x_total'), TypeError)
  assert.throws(() => c.inc({ nope: 1 }), RangeError)
  assert.throws(() => c.inc({}, -1), RangeError)
  c.inc({ a: 1, b: 2 }); c.inc({ b: 2, a: 1 })
  assert.is(await c.get({ a: 1, b: 2 }), 2)
  for (let i = 0; i < 10; i++) c.inc({ a: `v${i}` })
  assert.is(c.size, 3)
  assert.is(reg.dropped, 8)
  assert.match(await reg.render(), 'pcp_metrics_dropped_series_total 8\n')
})

M('/metrics: ingested, rejected by reason, VRS per agent and alert counts match the hub', async () => {
  const hub = await makeHub(['m-1', 'm-2'], 4)
  const app = await apiFor(hub)
  try {
    const agent = hub.agents[0]!
    const ev = await agent.stamp('observation', { x: 1 })
    const r = await app.inject({ method: 'POST', url: '/api/agent/m-1/record', payload: stringifyJson(tampered(ev, { x: 2 })), headers: { ...auth, 'content-type': 'application/json' } })
    assert.is(r.statusCode, 422)
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth })
    assert.is(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), 'text/plain; version=0.0.4')
    const m = parse(res.body)
    for (const a of hub.agents) {
      assert.is(m.get(`${HUB_METRICS.eventsIngested.name}{agent="${a.agentId}"}`), 4)
      assert.is(m.get(`pcp_vrs{agent="${a.agentId}"}`), hub.vigil.vrs(a.agentId)!.vrs)
    }
    assert.is(m.get('pcp_events_rejected_total{reason="SIGNATURE_INVALID"}'), 1)
    const raised = hub.vigil.alerts()
    const bySeverity = new Map<string, number>()
    for (const a of raised) bySeverity.set(a.severity, (bySeverity.get(a.severity) ?? 0) + 1)
    assert.ok(bySeverity.size > 0)
    for (const [sev, n] of bySeverity) {
      assert.is(m.get(`pcp_alerts_total{severity="${sev}"}`), n)
      assert.is(m.get(`pcp_alerts_open{severity="${sev}"}`), n)
    }
    assert.is(m.get(`pcp_agent_info{agent="${agent.agentId}",name="m-1",state="${hub.vigil.vrs(agent.agentId)!.state}"}`), 1)
  } finally { await app.close(); await hub.close() }
})

M.run()
