// evaluate(): reference rule order and reasons, fail-closed where the reference failed open, purity.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { evaluate, evaluateAndRecord, nextEscalation, decisionCanonical } from '../policy/evaluate.js'
import { parsePolicy } from '../policy/load.js'
import { loadProfile } from '../hub/trustgate/profiles.js'
import { toolVerdict, domainAllowedBy } from '../policy/rules.js'
import { benchEvaluate } from '../bench/policy.js'
import type { EscalationState, EvaluationContext, JsonObject } from '../policy/types.js'

const Evaluate = suite('trustgate evaluate')
const nist = loadProfile('nist_balanced')
const anssi = loadProfile('anssi_strict')
const ctx = (over: Partial<EvaluationContext> = {}): EvaluationContext => ({
  agent_id: 'bot', role: 'operator', action: 'read_db', payload: { q: 'select 1' }, vrs: 0.1, tsi_state: 'STABLE', timestamp: 1_700_000_000, ...over
})

Evaluate('nist_balanced reproduces the reference demonstrations (trustgate.md §3)', () => {
  const cases: Array<[Partial<EvaluationContext>, string, string]> = [
    [{}, 'ALLOW', 'All policy checks passed'],
    [{ vrs: 0.7 }, 'REQUIRE_HUMAN', 'VRS 0.700 >= human threshold 0.6 [ANSSI R9 / AI Act Art.14 — human oversight required]'],
    [{ vrs: 0.9 }, 'BLOCK', 'VRS 0.900 >= block threshold 0.85 [ANSSI R9 / NIST MANAGE 1.3]'],
    [{ tsi_state: 'WATCH' }, 'ALLOW_WITH_LOG', 'TSI state WATCH — action allowed with enhanced logging [NIST MEASURE 2.5]'],
    [{ tsi_state: 'UNSTABLE' }, 'REQUIRE_HUMAN', 'TSI state UNSTABLE — agent Trust Score shows significant drift [NIST MEASURE 2.5]'],
    [{ tsi_state: 'CRITICAL' }, 'BLOCK', 'TSI state CRITICAL — agent shows critical temporal drift [NIST MEASURE 2.5 / AI Act Art.9]'],
    [{ action: 'shell' }, 'BLOCK', "Action 'shell' not permitted for role 'operator' [ANSSI R26/R30 — least privilege / NIST GOVERN 1.2]"],
    [{ role: 'ghost' }, 'BLOCK', "Action 'read_db' not permitted for role 'ghost' [ANSSI R26/R30 — least privilege / NIST GOVERN 1.2]"],
    [{ payload: { sql: 'DROP TABLE x' } }, 'BLOCK', "Dangerous pattern matched: 'DROP\\s+TABLE' [ANSSI R25 / NIST MAP 5.1]"],
    [{ target_domain: 'evil.com' }, 'ALLOW', 'All policy checks passed']
  ]
  for (const [over, outcome, reason] of cases) {
    const d = evaluate(ctx(over), nist)
    assert.is(d.outcome, outcome, JSON.stringify(over))
    assert.is(d.reason, reason)
    assert.is(d.policy_hash, nist.hash)
    assert.is(d.policy_version, 'nist_balanced@1.0')
  }
  const human = evaluate(ctx({ vrs: 0.7 }), nist)
  assert.is(human.timeout_at, 1_700_000_000 + 300)
  assert.is(human.rule, 'vrs_require_human')
})

Evaluate('the gate blocks what it must block (gaps.md #43: the reference allowed shell + rm -rf)', () => {
  // The reference's bridge omitted a2c_score/trust_score, crashed, and allowed. Here they are optional.
  const d = evaluate({ agent_id: 'robot', role: 'operator', action: 'shell', payload: { cmd: 'rm -rf /' }, vrs: 0, tsi_state: 'STABLE', timestamp: 1 }, anssi)
  assert.is(d.outcome, 'BLOCK')
  assert.is(d.rule, 'dangerous_pattern') // step 2 precedes the role check, as in the reference
  assert.is(evaluate(ctx({ action: 'shell', payload: {} }), anssi).rule, 'role_violation')
  // An unusable context is blocked, never allowed.
  for (const bad of [{ vrs: NaN }, { vrs: 2 }, { tsi_state: 'FINE' }, { role: '' }, { payload: null as never }, { timestamp: -1 }, { payload: { s: '\ud800' } }]) {
    const b = evaluate(ctx(bad as Partial<EvaluationContext>), nist)
    assert.is(b.outcome, 'BLOCK', JSON.stringify(bad))
    assert.is(b.rule, 'invalid_context')
  }
  assert.is(evaluate(null as never, nist).outcome, 'BLOCK')
  // Dangerous content anywhere in the payload: nested, in keys, or hidden behind a JSON escape.
  const sneaky: JsonObject[] = [
    { a: { b: [1, { c: 'please DROP   TABLE users' }] } },
    { 'rm -rf /': true },
    { cmd: 'rm\t-rf /' }, // the JSON text reads rm\t-rf; the decoded string has the tab
    { nested: { deeper: [[['GRANT ALL on db']]] } }
  ]
  for (const payload of sneaky) assert.is(evaluate(ctx({ payload }), anssi).rule, 'dangerous_pattern', JSON.stringify(payload))
  assert.is(evaluate(ctx({ tsi_state: 'ALERT' }), nist).outcome, 'REQUIRE_HUMAN')
})

Evaluate('blocked_tools "*" blocks all but the explicitly allowed; the most specific entry wins (gaps.md #49)', () => {
  const p = parsePolicy([
    'roles:',
    '  kiosk: {allowed_tools: [read_db], blocked_tools: ["*"]}',
    '  ops: {allowed_tools: ["read_*", "*"], blocked_tools: [shell, "read_secret*"]}',
    '  both: {allowed_tools: [x], blocked_tools: [x]}'
  ].join('\n'))
  const role = (r: string, a: string): string => evaluate(ctx({ role: r, action: a }), p).outcome
  assert.is(role('kiosk', 'read_db'), 'ALLOW')
  assert.is(role('kiosk', 'write_db'), 'BLOCK')
  assert.is(role('ops', 'anything'), 'ALLOW')
  assert.is(role('ops', 'shell'), 'BLOCK')
  assert.is(role('ops', 'read_db'), 'ALLOW')
  assert.is(role('ops', 'read_secrets'), 'BLOCK')
  assert.is(role('both', 'x'), 'BLOCK')
  assert.equal(toolVerdict({ allowed_tools: ['read_*'], blocked_tools: ['*'] }, 'read_x'), { allowed: true, entry: 'read_*' })
  assert.equal(toolVerdict({ allowed_tools: ['*'], blocked_tools: ['*'] }, 'y'), { allowed: false, entry: '*' })
  assert.equal(toolVerdict({ allowed_tools: [], blocked_tools: [] }, 'y'), { allowed: false, entry: null })
})

Evaluate('network rule: allowed domains, subdomain wildcards, only when block_external', () => {
  const p = parsePolicy('roles: {operator: {allowed_tools: ["*"]}}\nnetwork:\n  block_external: true\n  allowed_domains: [api.example.com, "*.corp.test"]\n')
  assert.is(evaluate(ctx({ target_domain: 'API.example.com.' }), p).outcome, 'ALLOW')
  assert.is(evaluate(ctx({ target_domain: 'a.b.corp.test' }), p).outcome, 'ALLOW')
  assert.is(evaluate(ctx({ target_domain: 'corp.test' }), p).rule, 'network')
  assert.is(evaluate(ctx({ target_domain: 'evil.com' }), p).reason, "Domain 'evil.com' not in allowed_domains whitelist [ANSSI R28 — Zero Trust network / NIST GOVERN 4.1]")
  assert.is(evaluate(ctx(), p).outcome, 'ALLOW', 'no target_domain, no network rule (as the reference)')
  assert.is(domainAllowedBy(['*.x.org'], 'evilx.org'), null)
})

Evaluate('deterministic: same input, byte-identical decision; no clock, no hidden state', () => {
  const c = ctx({ vrs: 0.65, payload: { b: [1, 2.5, 'x'], a: { z: null, y: true } } })
  const first = decisionCanonical(evaluate(c, nist))
  for (let i = 0; i < 50; i++) assert.is(decisionCanonical(evaluate(structuredClone(c), nist)), first)
  // Key order of the payload does not matter; the decision id derives from the request.
  const reordered = ctx({ vrs: 0.65, payload: { a: { y: true, z: null }, b: [1, 2.5, 'x'] } })
  assert.is(decisionCanonical(evaluate(reordered, nist)), first)
  assert.is(evaluate(ctx({ request_id: 'req-7' }), nist).decision_id, 'req-7')
  assert.is.not(evaluate(ctx({ timestamp: 5 }), nist).decision_id, evaluate(ctx({ timestamp: 6 }), nist).decision_id)
  // The same context under another policy is another decision.
  assert.is.not(evaluate(c, anssi).decision_id, evaluate(c, nist).decision_id)
})

Evaluate('escalation state is passed in and returned, never mutated (gaps.md #50)', () => {
  const p = parsePolicy('roles: {operator: {allowed_tools: ["*"], blocked_tools: [shell]}}\nescalation: {auto_restrict_after: 3}\n')
  let state: EscalationState = {}
  const frozen: EscalationState[] = []
  for (let i = 0; i < 3; i++) {
    frozen.push(state)
    const r = evaluateAndRecord(ctx({ action: 'shell', timestamp: 1000 + i }), p, state)
    assert.is(r.decision.outcome, 'BLOCK')
    state = r.escalation
  }
  assert.equal(frozen[0], {}, 'inputs are untouched')
  assert.equal(state, { bot: [1000, 1001, 1002] })
  const restricted = evaluate(ctx({ timestamp: 1010 }), p, state)
  assert.is(restricted.outcome, 'RESTRICTED')
  assert.is(restricted.reason, 'Escalation threshold reached: 3 alerts in last hour (threshold=3) [ANSSI R27 — progressive restriction]')
  assert.is(evaluate(ctx({ timestamp: 1010 }), p).outcome, 'ALLOW', 'without the state, no memory')
  assert.is(evaluate(ctx({ timestamp: 1000 + 3600 }), p, state).outcome, 'ALLOW', 'an hour later the first alert has aged out')
  assert.is(evaluate(ctx({ agent_id: 'other', timestamp: 1010 }), p, state).outcome, 'ALLOW', 'per agent')
  assert.equal(nextEscalation(state, evaluate(ctx({ timestamp: 9000 }), p, state)), {}, 'old entries are pruned')
})

Evaluate('a hostile payload or pattern cannot hang the gate: bounded, fail-closed, still deterministic', () => {
  const p = parsePolicy("roles: {operator: {allowed_tools: ['*']}}\ndangerous_patterns: ['(a+)+$', '(\\w+\\s?)+!$', '(a|aa)*c']\n")
  const hostile = { blob: 'a'.repeat(60_000), more: ['a '.repeat(1000) + '?'] }
  const t0 = performance.now()
  const d = evaluate(ctx({ payload: hostile }), p)
  const ms = performance.now() - t0
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`)
  // (a+)+$ matches a run of a's at the end of the blob string: found in linear time.
  assert.is(d.rule, 'dangerous_pattern')
  // Over the size limit: blocked without scanning.
  const big = evaluate(ctx({ payload: { blob: 'x'.repeat(70_000) } }), p)
  assert.equal([big.outcome, big.rule, big.rule_detail], ['BLOCK', 'scan_limit', 'max_payload_chars'])
  // A tiny step budget makes the scan give up: blocked, and identically so every time.
  const tight = parsePolicy("roles: {operator: {allowed_tools: ['*']}}\nlimits: {max_scan_steps: 10000}\ndangerous_patterns: ['(x+)+y']\n")
  const t = evaluate(ctx({ payload: { s: 'x'.repeat(20_000) } }), tight)
  assert.equal([t.outcome, t.rule, t.rule_detail], ['BLOCK', 'scan_limit', 'max_scan_steps'])
  assert.is(decisionCanonical(evaluate(ctx({ payload: { s: 'x'.repeat(20_000) } }), tight)), decisionCanonical(t))
  assert.is(evaluate(ctx({ payload: { s: 'x'.repeat(100) } }), tight).outcome, 'ALLOW')
})

Evaluate('benchEvaluate reports latency percentiles', () => {
  const r = benchEvaluate(300)
  assert.ok(r.p50Us > 0 && r.p99Us >= r.p50Us && r.perSec > 0, JSON.stringify(r))
})

Evaluate.run()
