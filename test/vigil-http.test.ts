// Vigil HTTP API: auth, routes of vigil.md §7 and the fixes of gaps.md §E (#57 record through
// verification, #58 no path from a URL segment, #60 alerts without agent, #67 no token in HTML).
// Chains are real: Agents on a temp home; the chain store is the MemoryChainView TEST FIXTURE.
import { request } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseJson, stringifyJson, verifyAuditExport, Float, eventHash, type AissEvent } from '../runtime/index.js'
import { startVigilApi } from '../hub/vigil/http.js'
import { checkAuthConfig } from '../hub/http-common.js'
import { makeHub, apiFor, auth, tampered, TOKEN, type Hub } from './vigil-http-helpers.js'

const Api = suite('vigil-http')
let hub: Hub
let app: Awaited<ReturnType<typeof apiFor>>

Api.before(async () => {
  hub = await makeHub(['robot-1', 'robot-2'], 6)
  app = await apiFor(hub)
})
Api.after(async () => { await app?.close(); await hub?.close() })

function rawGet (port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: auth }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end()
  })
}

const get = async (url: string, headers: Record<string, string> = auth): Promise<{ status: number, body: any, headers: Record<string, unknown>, text: string }> => {
  const r = await app.inject({ method: 'GET', url, headers })
  let body: unknown = null
  try { body = JSON.parse(r.body) } catch {}
  return { status: r.statusCode, body, headers: r.headers, text: r.body }
}
const post = async (url: string, payload: string, headers: Record<string, string> = auth): Promise<{ status: number, body: any }> => {
  const r = await app.inject({ method: 'POST', url, payload, headers: { ...headers, 'content-type': 'application/json' } })
  return { status: r.statusCode, body: JSON.parse(r.body) }
}

Api('no token: the API refuses to start unless local-only on loopback', async () => {
  assert.throws(() => checkAuthConfig({ token: undefined, host: '127.0.0.1', publicPaths: [], tokenName: 'VIGIL_TOKEN' }), /VIGIL_TOKEN is not set/)
  await assert.not.throws(async () => { const a = await apiFor(hub, { token: undefined, localOnly: true, host: '127.0.0.1' }); await a.close() })
  let err: unknown
  try { await apiFor(hub, { token: undefined, localOnly: true, host: '0.0.0.0' }) } catch (e) { err = e }
  assert.match(String(err), /loopback/)
  err = undefined
  try { await apiFor(hub, { token: undefined }) } catch (e) { err = e }
  assert.is((err as { code?: string }).code, 'API_TOKEN_MISSING')
  // Local-only without token: the API answers without auth.
  const open = await apiFor(hub, { token: undefined, localOnly: true })
  assert.is((await open.inject({ method: 'GET', url: '/api/summary' })).statusCode, 200)
  await open.close()
})

Api('bearer auth: header only, wrong or query tokens refused; /health and the dashboard are public', async () => {
  for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }] as Array<Record<string, string>>) {
    const r = await get('/api/summary', headers)
    assert.is(r.status, 401)
    assert.is(r.body.error, 'Unauthorized')
    assert.match(String(r.headers['www-authenticate']), /^Bearer/)
  }
  assert.is((await get(`/api/summary?token=${TOKEN}`, {})).status, 401)
  assert.is((await get('/metrics', {})).status, 401)
  const health = await get('/health', {})
  assert.is(health.status, 200)
  assert.equal(Object.keys(health.body).sort(), ['status', 'timestamp', 'version'])
  // No CORS: another origin's page cannot read the API.
  assert.is((await get('/api/summary')).headers['access-control-allow-origin'], undefined)
})

Api('the dashboard files are public, carry a strict CSP and never contain the token (#67)', async () => {
  for (const path of ['/dashboard/', '/dashboard/app.js', '/dashboard/plot.js', '/dashboard/style.css', '/dashboard/verify.html']) {
    const r = await get(path, {})
    assert.is(r.status, 200, path)
    assert.not.ok(r.text.includes(TOKEN), `${path} holds the token`)
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/)
  }
  const root = await app.inject({ method: 'GET', url: '/' })
  assert.is(root.statusCode, 302)
  assert.is(root.headers.location, '/dashboard/')
  // No wildcard file route: anything else under /dashboard/ needs the token, then is a 404.
  assert.is((await get('/dashboard/../../package.json', {})).status, 401)
  assert.is((await get('/dashboard/%2e%2e/%2e%2e/package.json')).status, 404)
})

Api('summary: figures match the engine and the chain view', async () => {
  const r = await get('/api/summary')
  assert.is(r.status, 200)
  const s = hub.vigil.summary()
  assert.is(r.body.globalVrs, s.globalVrs)
  assert.is(r.body.installationState, s.installationState)
  assert.is(r.body.totals.agents, 2)
  assert.is(r.body.totals.events, 12)
  for (const a of r.body.agents) {
    const st = hub.chain.status(a.agentId)!
    assert.is(a.chain.headHash, st.headHash)
    assert.is(a.chain.eventCount, 6)
    assert.is(a.chain.verification, 'valid')
    assert.is(a.vrs, hub.vigil.vrs(a.agentId)!.vrs)
  }
  const one = await get('/api/summary?agents=robot-2')
  assert.equal(one.body.agents.map((a: { name: string }) => a.name), ['robot-2'])
  assert.is((await get('/api/summary?agents=nobody')).status, 404)
})

Api('agents are addressed by agent_id or registered name; bad references are refused, not resolved (#58)', async () => {
  const [r1] = hub.agents
  const byName = await get('/api/agent/robot-1')
  const byId = await get(`/api/agent/${r1!.agentId}`)
  assert.is(byName.status, 200)
  assert.equal(byName.body.agent, byId.body.agent)
  assert.is(byName.body.vrs.vrs, hub.vigil.vrs(r1!.agentId)!.vrs)
  assert.ok(byName.body.history.length >= 1)
  assert.is(byName.body.chain.eventCount, 6)
  for (const bad of ['..%2F..%2Fetc', 'a%00b', 'x'.repeat(65), '.hidden']) {
    const r = await get(`/api/agent/${bad}`)
    assert.is(r.status, 400, `${bad}: ${r.status} ${r.text}`)
    assert.is(r.body.error, 'AGENT_REF_INVALID', bad)
  }
  // A traversal that the router normalises never reaches an agent route at all.
  assert.is((await post('/api/agent/../delete', '{"confirmed":true}')).status, 404)
  assert.is((await get('/api/agent/..')).body.message, 'no route GET /api/')
  const unknown = await get('/api/agent/nobody')
  assert.is(unknown.status, 404)
  assert.is(unknown.body.error, 'AGENT_NOT_FOUND')
  assert.is((await get('/api/agent/robot-1?days=400')).status, 400)
})

Api('recent events: newest first, with chain index and hash, numbers kept lossless', async () => {
  const r = await app.inject({ method: 'GET', url: '/api/agent/robot-1/events?limit=3', headers: auth })
  const body = parseJson(r.body) as any
  assert.is(body.events.length, 3)
  assert.equal(body.events.map((e: { index: number }) => e.index), [5, 4, 3])
  // The event as served hashes to the hash the hub stored: no float turned into an int on the way.
  for (const e of body.events) assert.is(eventHash(e.event as AissEvent), e.hash)
  assert.is(body.events[0].hash, hub.chain.status(hub.agents[0]!.agentId)!.headHash)
})

Api('POST record: a genuine next event is verified, stored and scored (#57)', async () => {
  const agent = hub.agents[0]!
  const before = hub.vigil.vrs(agent.agentId)!.components.trust.eventCount
  hub.clock.now += 60
  const ev = await agent.stamp('observation', { temp: new Float(21), big: 2n ** 70n })
  const r = await post('/api/agent/robot-1/record', stringifyJson(ev))
  assert.is(r.status, 201)
  assert.is(r.body.status, 'recorded')
  assert.is(r.body.index, 6)
  assert.is(r.body.hash, eventHash(ev))
  assert.is(hub.chain.status(agent.agentId)!.headHash, eventHash(ev))
  assert.is(hub.vigil.vrs(agent.agentId)!.components.trust.eventCount, before + 1)
  // No alert was invented for a good event (the reference raised a trust_drift for every record).
  assert.is(hub.vigil.alerts({ agentId: agent.agentId, minSeverity: 'MEDIUM' }).length, 0)
})

Api('POST record: a tampered event is refused with its code, not stored, and raises an alert', async () => {
  const agent = hub.agents[1]!
  hub.clock.now += 60
  const ev = await agent.stamp('actuation', { valve: 'open' })
  const head = hub.chain.status(agent.agentId)!.headHash
  const bad = await post('/api/agent/robot-2/record', stringifyJson(tampered(ev, { valve: 'closed' })))
  assert.is(bad.status, 422)
  assert.is(bad.body.error, 'EVENT_REJECTED')
  assert.ok(bad.body.problems.some((p: { code: string }) => p.code === 'SIGNATURE_INVALID'))
  assert.is(hub.chain.status(agent.agentId)!.headHash, head)
  assert.is(hub.chain.status(agent.agentId)!.verification, 'anomalous')
  assert.ok(['ALERT', 'CRITICAL'].includes(bad.body.state))
  const alerts = await get('/api/agent/robot-2/alerts?severity=HIGH')
  assert.ok(alerts.body.alerts.some((a: { type: string }) => a.type === 'chain_bad_signature'), JSON.stringify(alerts.body))
  // The genuine event still links onto the stored head; a replay of it is then refused.
  assert.is((await post('/api/agent/robot-2/record', stringifyJson(ev))).status, 201)
  const replay = await post('/api/agent/robot-2/record', stringifyJson(ev))
  assert.is(replay.status, 422)
  assert.ok(replay.body.problems.some((p: { code: string }) => p.code === 'NONCE_REPLAYED' || p.code === 'FORK_DETECTED'))
  // Not JSON, not an object, wrong agent: clear 400 / 422 answers.
  assert.is((await post('/api/agent/robot-2/record', '{"x": ')).status, 400)
  assert.is((await post('/api/agent/robot-2/record', '[1,2]')).status, 400)
  const other = await hub.agents[0]!.stamp('observation', {})
  const wrong = await post('/api/agent/robot-2/record', stringifyJson(other))
  assert.is(wrong.status, 422)
  assert.ok(wrong.body.problems.some((p: { code: string }) => p.code === 'AGENT_ID_MISMATCH'))
})

Api('alerts: without agent means every agent (#60); filters validated; acknowledge', async () => {
  const all = await get('/api/alerts')
  assert.is(all.status, 200)
  assert.is(all.body.count, hub.vigil.alerts({ limit: 100 }).length)
  assert.ok(all.body.count > 0)
  const high = await get('/api/alerts?severity=HIGH')
  assert.ok(high.body.alerts.every((a: { severity: string }) => ['HIGH', 'ALERT', 'CRITICAL'].includes(a.severity)))
  const byAgent = await get('/api/alerts?agent=robot-1')
  assert.ok(byAgent.body.alerts.every((a: { agentId: string }) => a.agentId === hub.agents[0]!.agentId))
  assert.is((await get('/api/alerts?severity=BOGUS')).status, 400)
  assert.is((await get('/api/alerts?limit=0')).status, 400)
  const id = all.body.alerts[0].id
  const ack = await post(`/api/alerts/${id}/ack`, '{"by":"operator"}')
  assert.is(ack.status, 200)
  assert.is(ack.body.alert.acknowledged.by, 'operator')
  assert.ok((await get('/api/alerts?open=true')).body.alerts.every((a: { id: string }) => a.id !== id))
  assert.is((await post('/api/alerts/a999999/ack', '{"by":"x"}')).status, 404)
  assert.is((await post(`/api/alerts/${id}/ack`, '{}')).status, 400)
})

Api('export: the audit export verifies with the core verifier, floats and big ints intact', async () => {
  const r = await app.inject({ method: 'GET', url: '/api/agent/robot-1/export', headers: auth })
  assert.is(r.statusCode, 200)
  const id = hub.agents[0]!.agentId
  assert.is(r.headers['content-disposition'], `attachment; filename="${id}.audit.json"`)
  const verdict = verifyAuditExport(parseJson(r.body))
  assert.ok(verdict.usable)
  if (!verdict.usable) return
  assert.ok(verdict.report.valid, JSON.stringify(verdict.report.errors))
  assert.is(verdict.report.event_count, hub.chain.status(id)!.eventCount)
  // The agent's own store agrees with what the hub exported (the tampered event never got in).
  assert.ok((await hub.agents[0]!.verify()).valid)
  const doc = parseJson(r.body) as any
  const tamperedDoc = { ...doc, events: doc.events.map((e: AissEvent, i: number) => i === 2 ? tampered(e, { temp: 99 }) : e) }
  const bad = verifyAuditExport(tamperedDoc)
  assert.ok(bad.usable && !bad.report.valid)
})

Api('listens on a real port; a second server on the same port gets PORT_IN_USE', async () => {
  const a = await startVigilApi({ vigil: hub.vigil, chain: hub.chain, metrics: hub.metrics, token: TOKEN, port: 0 })
  try {
    const res = await fetch(`${a.url}/api/summary`, { headers: auth })
    assert.is(res.status, 200)
    assert.is(((await res.json()) as { totals: { agents: number } }).totals.agents, 2)
    // Raw paths as `curl --path-as-is` sends them (no client-side normalisation) are refused too.
    for (const path of ['/api/agent/%2e%2e/export', '/api/agent/..%2f..%2fetc/export', '/api/agent/%2E%2E']) {
      const status = await rawGet(a.port, path)
      assert.is(status, 400, path)
    }
    let err: unknown
    try { await startVigilApi({ vigil: hub.vigil, chain: hub.chain, metrics: hub.metrics, token: TOKEN, port: a.port }) } catch (e) { err = e }
    assert.is((err as { code?: string }).code, 'PORT_IN_USE')
  } finally { await a.close() }
})

Api.run()
