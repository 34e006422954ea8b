// TrustGate's HTTP API over real HTTP on 127.0.0.1 (port 0), with the real service, principal store,
// version store and the hub's own Agent as the journal. Time is an injected clock the tests move.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditExport, parseJson, Float, type Agent } from '../runtime/index.js'
import type { TrustGateService } from '../hub/trustgate/service.js'
import type { PrincipalStore } from '../hub/trustgate/principal-store.js'
import { tmpDir } from './helpers.js'
import { startTrustGateApi } from './trustgate-helpers.js'

const TOKEN = 'tg-test-token-0123456789'
const POLICY = `
name: http-test
version: "1"
thresholds: { vrs_require_human: 0.6, vrs_block: 0.95 }
roles:
  operator: { allowed_tools: [read_db, write_db], blocked_tools: [shell] }
  vigil: { allowed_tools: [vigil_threshold_exceeded], blocked_tools: [] }
notification: { timeout_seconds: 60, on_timeout: ESCALATE, require_justification: true }
dangerous_patterns: ['DROP\\s+TABLE']
`

interface Ctx {
  service: TrustGateService
  hub: Agent
  port: number
  dir: string
  clock: { ms: number }
  admin: string
  l1: string
  l2: string
  call: (method: string, path: string, body?: unknown, principal?: string, token?: string | null) => Promise<{ status: number, body: any }>
  close: () => Promise<void>
}

async function start (dir?: string): Promise<Ctx> {
  const tmp = dir === undefined ? tmpDir('pcp-tg-http-') : { path: dir, cleanup: () => {} }
  const clock = { ms: 1_800_000_000_000 }
  const api = await startTrustGateApi({ home: tmp.path, dir: join(tmp.path, 'tg'), token: TOKEN, clock: () => clock.ms, initialPolicy: POLICY })
  const { hub, service } = api
  const principals = service.principals as PrincipalStore // this service runs on the file store: its answers are synchronous
  const mk = (name: string, clearance: 'L1' | 'L2' | 'L3'): string => {
    const existing = principals.list().find((p) => p.name === name)
    return existing ? principals.rotateToken(existing.id) : principals.create({ name, clearance, createdBy: 'test', now: service.now() }).token
  }
  const call = async (method: string, path: string, body?: unknown, principal?: string, token: string | null = TOKEN): Promise<{ status: number, body: any }> => {
    const headers: Record<string, string> = {}
    if (token !== null) headers.authorization = `Bearer ${token}`
    if (principal !== undefined) headers['x-trustgate-principal'] = principal
    if (body !== undefined) headers['content-type'] = 'application/json'
    const r = await fetch(`${api.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await r.text()
    return { status: r.status, body: text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text }
  }
  return {
    service, hub, port: api.port, dir: tmp.path, clock, admin: mk('root', 'L3'), l1: mk('junior', 'L1'), l2: mk('senior', 'L2'), call,
    async close () { await api.close(); if (dir === undefined) tmp.cleanup() }
  }
}

const Http = suite('trustgate-http')

Http('bearer auth: header only, constant token; /health is public', async () => {
  const c = await start()
  try {
    assert.is((await c.call('GET', '/api/status', undefined, undefined, null)).status, 401)
    assert.is((await c.call('GET', '/api/status', undefined, undefined, 'wrong-token-0123456789')).status, 401)
    const r = await fetch(`http://127.0.0.1:${c.port}/api/status?token=${TOKEN}`)
    assert.is(r.status, 401, 'a token in the URL is not accepted (gaps.md #55)')
    const health = await c.call('GET', '/health', undefined, undefined, null)
    assert.equal([health.status, health.body.policy], [200, 'http-test@1'])
    const status = await c.call('GET', '/api/status')
    assert.equal([status.status, status.body.policy, status.body.principals], [200, 'http-test@1', 3])
    const policy = await c.call('GET', '/api/policy')
    assert.equal([policy.body.version_id, policy.body.roles, policy.body.notification.on_timeout], ['http-test@1', ['operator', 'vigil'], 'ESCALATE'])
  } finally { await c.close() }
})

Http('evaluate → REQUIRE_HUMAN pending; approval needs a principal with clearance; everything is journaled', async () => {
  const c = await start()
  try {
    const allow = await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'read_db', payload: { t: 1 } })
    assert.equal([allow.status, allow.body.outcome, allow.body.allowed, allow.body.state], [200, 'ALLOW', true, 'DECIDED'])
    const block = await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'write_db', payload: { q: 'drop table users' } })
    assert.equal([block.body.outcome, block.body.rule], ['BLOCK', 'dangerous_pattern'])
    assert.is((await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'read_db', vrs: '0.9' })).status, 400, 'no type coercion')
    const human = await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'write_db', vrs: 0.8, payload: {} })
    assert.equal([human.body.outcome, human.body.state, human.body.allowed, human.body.required_clearance], ['REQUIRE_HUMAN', 'PENDING', false, 'L2'])
    const id = human.body.decision_id as string
    const pending = await c.call('GET', '/api/decisions')
    assert.equal(pending.body.decisions.map((d: { decision_id: string }) => d.decision_id), [id])

    // The API token alone may ask but not answer (gaps.md #44).
    const anon = await c.call('POST', `/api/decisions/${id}/approve`, { justification: 'x' })
    assert.equal([anon.status, anon.body.code], [401, 'PRINCIPAL_AUTH_REQUIRED'])
    const bad = await c.call('POST', `/api/decisions/${id}/approve`, { justification: 'x' }, 'tgp_PRINCIPAL-000000000000_' + 'A'.repeat(43))
    assert.equal([bad.status, bad.body.code], [401, 'PRINCIPAL_AUTH_FAILED'])
    const low = await c.call('POST', `/api/decisions/${id}/approve`, { justification: 'x' }, c.l1)
    assert.equal([low.status, low.body.code], [403, 'PRINCIPAL_NOT_ALLOWED'])
    const noWhy = await c.call('POST', `/api/decisions/${id}/approve`, {}, c.l2)
    assert.equal([noWhy.status, noWhy.body.code], [400, 'JUSTIFICATION_REQUIRED'])
    const ok = await c.call('POST', `/api/decisions/${id}/approve`, { justification: 'verified by phone' }, c.l2)
    assert.equal([ok.status, ok.body.state, ok.body.final_outcome, ok.body.allowed], [200, 'APPROVED', 'ALLOW', true])
    assert.match(ok.body.resolution.principal_id, /^PRINCIPAL-/)
    const again = await c.call('POST', `/api/decisions/${id}/reject`, { reason: 'late' }, c.admin)
    assert.equal([again.status, again.body.code], [409, 'DECISION_RESOLVED'])
    const one = await c.call('GET', `/api/decisions/${id}`)
    assert.equal([one.body.state, one.body.resolution.justification], ['APPROVED', 'verified by phone'])
    assert.is((await c.call('GET', '/api/decisions/dec-nope')).status, 404)

    const audit = await c.call('GET', '/api/audit?agent_id=bot&limit=10')
    assert.is(audit.body.chain_valid, true)
    // Newest first; filtered to entries about this agent (approvals name the decision, not the agent).
    assert.equal(audit.body.entries.map((e: { type: string }) => e.type).reverse(), ['trustgate.decision', 'trustgate.decision', 'trustgate.decision', 'trustgate.pending'])
    const all = await c.call('GET', '/api/audit?limit=100')
    const types = all.body.entries.map((e: { type: string }) => e.type)
    for (const t of ['trustgate.policy_activated', 'trustgate.pending', 'trustgate.approved']) assert.ok(types.includes(t), t)
    // The export is an AISS audit export of the hub chain: `pcp verify` logic accepts it, even when the
    // chain holds a float like 25.0 and a big integer (their text is what the signatures cover).
    await c.hub.stamp('note', { temp: new Float(25), ros_time: 1800000000000000000n })
    const exp = await fetch(`http://127.0.0.1:${c.port}/api/audit/export`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const report = verifyAuditExport(parseJson(await exp.text()))
    assert.ok(report.usable && report.report.valid && report.report.agent_id === c.hub.agentId)
  } finally { await c.close() }
})

Http('on_timeout: ESCALATE raises the clearance, then blocks past L3 (gaps.md #47)', async () => {
  const c = await start()
  try {
    const human = await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'read_db', vrs: 0.7 })
    const id = human.body.decision_id
    assert.is(human.body.required_clearance, 'L1')
    c.clock.ms += 61_000
    let d = await c.call('GET', '/api/decisions')
    assert.equal([d.body.decisions[0].required_clearance, d.body.decisions[0].escalations], ['L2', 1])
    assert.is((await c.call('POST', `/api/decisions/${id}/approve`, { justification: 'j' }, c.l1)).status, 403)
    c.clock.ms += 61_000; await c.service.expire()
    c.clock.ms += 61_000; await c.service.expire()
    d = await c.call('GET', '/api/decisions')
    assert.is(d.body.total, 0)
    const one = await c.call('GET', `/api/decisions/${id}`)
    assert.equal([one.body.state, one.body.final_outcome], ['TIMED_OUT', 'BLOCK'])
    assert.equal((await c.call('POST', `/api/decisions/${id}/approve`, { justification: 'j' }, c.admin)).body.code, 'DECISION_TIMED_OUT')
  } finally { await c.close() }
})

Http('POST /api/policy versions and activates (admin principal only), never overwrites; simulate records nothing', async () => {
  const c = await start()
  try {
    const next = POLICY.replace('version: "1"', 'version: "2"').replace('[read_db, write_db]', '[read_db]')
    assert.is((await c.call('POST', '/api/policy', { yaml: next })).status, 401)
    assert.is((await c.call('POST', '/api/policy', { yaml: next }, c.l2)).status, 403)
    const invalid = await c.call('POST', '/api/policy', { yaml: 'name: x\nroles: { operator: { allowed_tool: [a] } }\n' }, c.admin)
    assert.equal([invalid.status, invalid.body.code], [400, 'POLICY_INVALID'])
    assert.ok(invalid.body.problems.length >= 1)
    const before = c.service.policy!.hash
    const events = (await c.hub.history()).length
    const sim = await c.call('POST', '/api/policy/simulate', { agent_id: 'bot', action: 'write_db', yaml: next })
    assert.equal([sim.status, sim.body.decision.rule], [200, 'role_violation'])
    assert.is((await c.hub.history()).length, events, 'simulation is not journaled')
    const act = await c.call('POST', '/api/policy', { yaml: next, comment: 'read-only ops' }, c.admin)
    assert.equal([act.status, act.body.version_id, act.body.activation.comment], [201, 'http-test@2', 'read-only ops'])
    assert.match(act.body.activation.principal, /^PRINCIPAL-/)
    const versions = await c.call('GET', '/api/policy/versions')
    assert.equal(versions.body.versions.length, 2)
    assert.is(versions.body.active, act.body.version)
    const oldText = await c.call('GET', `/api/policy/versions/${before}`)
    assert.is(oldText.body, POLICY, 'the previous version is kept byte for byte')
    const diff = await c.call('GET', `/api/policy/diff?a=${before.slice(0, 12)}&b=${act.body.version.slice(0, 12)}`)
    assert.ok(diff.body.changes.some((ch: { path: string }) => ch.path === 'roles.operator.allowed_tools'))
    assert.is((await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'write_db' })).body.rule, 'role_violation')
    assert.ok(readdirSync(join(c.dir, 'tg', 'versions')).length === 2)
  } finally { await c.close() }
})

Http('principals: tokens hashed at rest, creation needs an admin, deactivation locks out', async () => {
  const c = await start()
  try {
    const file = readFileSync(join(c.dir, 'tg', 'principals.json'), 'utf8')
    for (const t of [c.admin, c.l1, c.l2]) assert.not.ok(file.includes(t.split('_').pop()!), 'no token secret in the store')
    assert.is((await c.call('POST', '/api/principals', { name: 'mallory', clearance: 'L3' })).status, 401)
    assert.is((await c.call('POST', '/api/principals', { name: 'mallory', clearance: 'L3' }, c.l2)).status, 403)
    const made = await c.call('POST', '/api/principals', { name: 'carol', clearance: 'L2' }, c.admin)
    assert.equal([made.status, made.body.clearance], [201, 'L2'])
    const me = await c.call('GET', '/api/principals/me', undefined, made.body.token)
    assert.is(me.body.name, 'carol')
    const list = await c.call('GET', '/api/principals')
    assert.is(list.body.total, 4)
    assert.not.ok(JSON.stringify(list.body).includes('token_hash'))
    assert.is((await c.call('POST', `/api/principals/${made.body.id}/deactivate`, undefined, c.admin)).status, 200)
    const human = await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'read_db', vrs: 0.7 })
    const r = await c.call('POST', `/api/decisions/${human.body.decision_id}/approve`, { justification: 'j' }, made.body.token)
    assert.equal([r.status, r.body.code], [403, 'PRINCIPAL_INACTIVE'])
  } finally { await c.close() }
})

Http('Vigil intake feeds later evaluations; a hub restart restores the pending queue from its own chain', async () => {
  const tmp = tmpDir('pcp-tg-http-restart-')
  try {
    let c = await start(tmp.path)
    const v = await c.call('POST', '/api/vigil/agent-state', { agent_id: 'bot', vrs: 0.2, tsi_state: 'STABLE', trust_score: 0.8 })
    assert.equal([v.status, v.body.outcome], [200, 'MONITOR'])
    const hot = await c.call('POST', '/api/vigil/agent-state', { agent_id: 'bot', vrs: 0.7, tsi_state: 'STABLE', role: 'vigil' })
    assert.equal([hot.body.outcome, hot.body.action], ['REQUIRE_HUMAN', 'vigil_threshold_exceeded'])
    const asked = await c.call('POST', '/api/evaluate', { agent_id: 'bot', action: 'read_db' })
    assert.equal([asked.body.outcome, asked.body.vrs], ['REQUIRE_HUMAN', 0.7])
    assert.is((await c.call('GET', '/api/agents')).body.total, 1)
    await c.close()
    c = await start(tmp.path)
    const pending = await c.call('GET', '/api/decisions')
    assert.is(pending.body.total, 2)
    const ok = await c.call('POST', `/api/decisions/${asked.body.decision_id}/approve`, { justification: 'after restart' }, c.l2)
    assert.equal([ok.status, ok.body.state], [200, 'APPROVED'])
    assert.is((await c.hub.verify()).valid, true)
    await c.close()
  } finally { tmp.cleanup() }
})

Http.run()
