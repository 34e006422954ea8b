// Policy loading: the shipped profiles, validation that names field and line, hashing of raw bytes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { parsePolicy, loadPolicy, policyHash } from '../policy/load.js'
import { loadProfile, PROFILE_NAMES } from '../hub/trustgate/profiles.js'
import type { PolicyProblem } from '../policy/schema.js'
import { PcpError } from '../runtime/errors.js'
import { TrustGateErrorCodes } from '../hub/trustgate/errors.js'

const Policy = suite('trustgate policy')

function problemsOf (text: string): PolicyProblem[] {
  try { parsePolicy(text, 'p.yaml') } catch (err) {
    assert.instance(err, PcpError)
    assert.is((err as PcpError).code, 'POLICY_INVALID')
    return (err as PcpError & { problems: PolicyProblem[] }).problems
  }
  assert.unreachable('policy should have been refused')
  return []
}

Policy('the three shipped profiles load with the spec values (trustgate.md §11)', () => {
  const want = {
    anssi_strict: { rh: 0.4, b: 0.7, esc: 3, ext: true, pat: 14, to: 180, on: 'REJECT', just: true },
    nist_balanced: { rh: 0.6, b: 0.85, esc: 8, ext: false, pat: 6, to: 300, on: 'ESCALATE', just: false },
    ai_act_high_risk: { rh: 0.5, b: 0.8, esc: 5, ext: true, pat: 16, to: 240, on: 'BLOCK', just: true }
  }
  for (const name of PROFILE_NAMES) {
    const p = loadProfile(name)
    const w = want[name]
    assert.is(p.policy.name, name)
    assert.is(p.versionId, `${name}@1.0`)
    assert.equal([p.policy.thresholds.vrs_require_human, p.policy.thresholds.vrs_block], [w.rh, w.b])
    assert.is(p.policy.escalation.auto_restrict_after, w.esc)
    assert.is(p.policy.network.block_external, w.ext)
    assert.is(p.patterns.length, w.pat)
    assert.is(p.policy.notification.timeout_seconds, w.to)
    assert.is(p.policy.notification.on_timeout, w.on)
    assert.is(p.policy.notification.require_justification, w.just)
    assert.equal(Object.keys(p.policy.roles), ['read_only', 'operator', 'trusted'])
    for (const role of Object.values(p.policy.roles)) assert.ok(role.blocked_tools.includes('shell'), `${name}: shell blocked`)
    assert.equal(p.warnings, [])
  }
})

Policy('every problem is reported at once, sorted, each with its path and line', () => {
  const text = [
    'name: broken', //                               1
    'thresholds:', //                                2
    '  vrs_block: 1.5', //                           3
    '  vrs_require_human: "high"', //                4
    '  tsi_critical_action: EXPLODE', //             5
    'roles:', //                                     6
    '  operator:', //                                7
    '    allowed_tool: [read_db]', //                8
    '    blocked_tools: [shell, ""]', //             9
    'network: {block_external: maybe}', //           10
    'notification:', //                              11
    '  timeout_seconds: 0', //                       12
    '  on_timeout: IGNORE', //                       13
    'dangerous_patterns:', //                        14
    "  - '(a)\\1'", //                               15
    "  - 'ok'", //                                   16
    "  - 'b(?=c)'", //                               17
    'colour: blue' //                                18
  ].join('\n')
  const got = problemsOf(text).map((p) => [p.line, p.path])
  assert.equal(got, [
    [3, 'thresholds.vrs_block'], [4, 'thresholds.vrs_require_human'], [5, 'thresholds.tsi_critical_action'],
    [8, 'roles.operator.allowed_tool'], [9, 'roles.operator.blocked_tools[1]'], [10, 'network.block_external'],
    [12, 'notification.timeout_seconds'], [13, 'notification.on_timeout'], [15, 'dangerous_patterns[0]'],
    [17, 'dangerous_patterns[2]'], [18, 'colour']
  ])
  try { parsePolicy(text, 'p.yaml') } catch (err) {
    const msg = (err as Error).message
    assert.match(msg, /11 problems/)
    assert.match(msg, /p\.yaml:15:\d+ dangerous_patterns\[0\]: pattern "\(a\)\\1" refused: backreferences/)
    assert.is((err as PcpError).field, 'thresholds.vrs_block')
  }
})

Policy('threshold order, YAML syntax, duplicate keys and aliases are refused with their line', () => {
  assert.equal(problemsOf('thresholds:\n  vrs_require_human: 0.9\n  vrs_block: 0.5\n').map((p) => [p.line, p.path]), [[2, 'thresholds.vrs_require_human']])
  const bad = problemsOf('name: x\nroles: [a\n')
  assert.is(bad[0]!.path, '(yaml)')
  // gaps.md #48: the reference's repo policy.yaml had three `roles:` keys and silently kept the last.
  const dup = problemsOf('roles:\n  a: {}\nroles:\n  b: {}\n')
  assert.is(dup[0]!.line, 3)
  assert.match(dup[0]!.message, /unique/)
  const alias = problemsOf('x: &a [1]\ndangerous_patterns: *a\n')
  assert.ok(alias.some((p) => /aliases/.test(p.message) && p.line === 2))
  assert.equal(problemsOf('[1, 2]\n').map((p) => p.message), ['expected a mapping'])
  // Load-time bounds on hostile pattern lists: length, count, total automaton size.
  assert.match(problemsOf(`dangerous_patterns: ['${'a'.repeat(2000)}']\n`)[0]!.message, /longer than 1024/)
  assert.match(problemsOf(`dangerous_patterns: [${Array(300).fill('x').join(', ')}]\n`)[0]!.message, /at most 256/)
  const heavy = problemsOf(`dangerous_patterns: [${Array(17).fill("'[a-z]{1000}x{1000}y{1000}'").join(', ')}]\n`)
  assert.equal(heavy.map((p) => p.path), ['dangerous_patterns[16]'])
  assert.match(heavy[0]!.message, /together exceed/)
})

Policy('reference-compatible reading: YAML 1.1 booleans, numeric versions, ignored keys, defaults', () => {
  const p = parsePolicy('version: 1.0\nname: legacy\nnetwork:\n  block_external: no\nlogging:\n  retention_days: 730\nnotification:\n  approval_log_mandatory: true\n')
  assert.is(p.policy.version, '1.0')
  assert.is(p.versionId, 'legacy@1.0')
  assert.is(p.policy.network.block_external, false)
  assert.is(p.policy.thresholds.vrs_block, 0.85)
  assert.is(p.policy.notification.on_timeout, 'REJECT')
  assert.equal(p.policy.roles, {})
  // gaps.md #48: a version that already carries the name is not doubled.
  assert.is(parsePolicy('name: nist_balanced\nversion: "nist_balanced@1.0"\n').versionId, 'nist_balanced@1.0')
  assert.ok(Object.isFrozen(p.policy.thresholds), 'a loaded policy is immutable')
})

Policy('blocked_tools "*" with allowed tools loads with a warning about the semantics', () => {
  const p = parsePolicy('roles:\n  kiosk:\n    allowed_tools: [read_db]\n    blocked_tools: ["*"]\n')
  assert.is(p.warnings.length, 1)
  assert.match(p.warnings[0]!, /roles\.kiosk.*except.*line 2/)
})

Policy('the hash covers the raw bytes: BOM and CRLF give distinct, stable hashes (gaps.md #52)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-tg-policy-'))
  try {
    const lf = 'name: a\nversion: "1"\n'
    const crlf = lf.replaceAll('\n', '\r\n')
    const files = { lf: join(dir, 'lf.yaml'), crlf: join(dir, 'crlf.yml'), json: join(dir, 'p.json') }
    writeFileSync(files.lf, lf); writeFileSync(files.crlf, crlf); writeFileSync(files.json, '{"name": "a", "version": "1"}')
    const a = loadPolicy(files.lf); const b = loadPolicy(files.crlf); const j = loadPolicy(files.json)
    assert.is(a.hash, createHash('sha256').update(lf).digest('hex'))
    assert.is(b.hash, createHash('sha256').update(crlf).digest('hex'))
    assert.is.not(a.hash, b.hash)
    assert.equal(a.policy, b.policy)
    assert.equal(j.policy, a.policy)
    assert.is(parsePolicy(new TextEncoder().encode(crlf)).hash, b.hash)
    assert.is(policyHash(new TextEncoder().encode(lf)), a.hash)
    assert.is(loadPolicy(files.lf, { expectedHash: a.hash }).hash, a.hash)
    assert.throws(() => loadPolicy(files.lf, { expectedHash: b.hash }), (e: PcpError) => e.code === 'POLICY_INTEGRITY' && e.actual === a.hash)
    writeFileSync(join(dir, 'p.txt'), lf)
    assert.throws(() => loadPolicy(join(dir, 'p.txt')), (e: PcpError) => e.code === 'POLICY_LOAD_FAILED')
    assert.throws(() => loadPolicy(join(dir, 'missing.yaml')), (e: PcpError) => e.code === 'POLICY_LOAD_FAILED')
    assert.throws(() => parsePolicy(new Uint8Array([0x6e, 0x3a, 0xff])), (e: PcpError) => e.code === 'POLICY_LOAD_FAILED' && /UTF-8/.test(e.message))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Policy('error codes are a stable contract', () => {
  assert.equal(Object.values(TrustGateErrorCodes), [
    'POLICY_LOAD_FAILED', 'POLICY_INVALID', 'POLICY_INTEGRITY', 'POLICY_VERSION_NOT_FOUND', 'POLICY_STORE_CORRUPTED',
    'DECISION_NOT_FOUND', 'DECISION_EXISTS', 'DECISION_RESOLVED', 'DECISION_TIMED_OUT', 'PRINCIPAL_UNKNOWN',
    'PRINCIPAL_INACTIVE', 'PRINCIPAL_NOT_ALLOWED', 'JUSTIFICATION_REQUIRED'
  ])
  for (const [k, v] of Object.entries(TrustGateErrorCodes)) assert.is(k, v)
})

Policy.run()
