// Every pcp command with bad input, as a child process: exit 2 and one line on stderr naming the file,
// field or value, never a stack frame; read-only commands create nothing; --json errors are
// {"error":{"code","message"}}; printed events verify.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpDir, ROOT } from './helpers.js'
import { parseJson, verifyChain, readIdentityDocument, type AissEvent } from '../runtime/index.js'

const E = suite('cli-errors')
const tmp = tmpDir()
const home = join(tmp.path, 'home')
const pcp = (args: string[], opts: { input?: string } = {}): { code: number, out: string, err: string } => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), ...args], { cwd: tmp.path, encoding: 'utf8', env: { ...process.env, PCP_HOME: home, PCP_DEBUG: '' }, timeout: 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}
const frame = /^\s+at .+[(:]\d+/m

E('setup: one identity', () => {
  assert.is(pcp(['identity', 'create', 'robot']).code, 0)
})

E('every command with bad input: exit 2, one line naming what is wrong, no stack frame', () => {
  const missing = join(tmp.path, 'missing')
  const notJson = join(tmp.path, 'not.json'); writeFileSync(notJson, '{nope')
  const cases: Array<[string[], RegExp]> = [
    [['stamp', 'robot', ''], /event type is empty/],
    [['stamp', 'robot', 'x'.repeat(129)], /129 characters; the limit is 128/],
    [['stamp', 'typo', 'boot'], /no agent "typo".*--create/],
    [['stamp', 'robot', 'boot', '--payload', '{"event_type":"other"}'], /"event_type" key/],
    [['stamp', 'robot', 'boot', '--payload', '[1]'], /--payload must be a JSON object/],
    [['stamp', 'robot', 'boot', '--payload', `@${missing}.json`], /cannot read .*missing\.json/],
    [['stamp', 'robot', 'boot', '--payload', `@${notJson}`], /not\.json/],
    [['export', 'robot', '-o', join(missing, 'dir', 'x.json')], /directory .*missing\/dir does not exist/],
    [['export', 'ghost', '-o', join(tmp.path, 'g.json')], /no agent "ghost"/],
    [['history', 'foo'], /no agent "foo"/],
    [['identity', 'info', 'nosuch'], /no agent "nosuch"/],
    [['identity', 'rotate', 'nosuch'], /no agent "nosuch"/],
    [['identity', 'create', '../escape'], /AGENT_NAME_INVALID/],
    [['memory', 'search', '--limit', 'ten'], /--limit/],
    [['verify', missing], /missing: cannot read/],
    [['verify', notJson], /not JSON/],
    [['session-verify', missing], /missing/],
    [['ros2', 'hash', missing], /missing/],
    [['hub', 'start', '--policy', 'nosuch', '--port', '0', '--no-api', '--data', join(tmp.path, 'hub1')], /--policy nosuch: not a profile \(anssi_strict, nist_balanced, ai_act_high_risk\)/],
    [['hub', 'start', '--port', '99999'], /port expected 0\.\.65535/],
    [['hub', 'approve', 'not-an-id', '--data', join(tmp.path, 'hub2')], /"not-an-id" is not an agent_id/],
    [['hub', 'revoke', 'not-an-id', '--data', join(tmp.path, 'hub2')], /"not-an-id" is not an agent_id/],
    [['hub', 'status', '--data', join(tmp.path, 'typo')], /no hub data in .*typo/],
    [['sync', 'run', '--url', 'http://127.0.0.1:1', '--until-synced', '--timeout', '1'], /mqtt:\/\/host:port or mqtts:\/\/host:port, got "http:/],
    [['sync', 'run', '--url', 'mqtt://127.0.0.1:1', '--ca', `${missing}.pem`], /--ca .*missing\.pem: cannot read/],
    [['sync', 'run', '--url', 'mqtt://127.0.0.1:1', '--cert', notJson, '--key', notJson], /not TLS: use mqtts:/],
    [['sync', 'status'], /no sync agent has run/],
    [['vigil', 'status', '--url', 'ftp://x'], /./],
    [['trustgate', 'pending', '--url', 'ftp://x'], /./],
    [['nosuchcommand'], /unknown command/]
  ]
  for (const [args, why] of cases) {
    const r = pcp(args)
    const label = `pcp ${args.join(' ')}`
    assert.is(r.code, 2, `${label}: exit ${r.code}\n${r.err}`)
    assert.not.match(r.err, frame, `${label} printed a stack frame:\n${r.err}`)
    assert.match(r.err, why, `${label}: ${r.err}`)
    const lines = r.err.split('\n').filter((l) => l.trim() && !/^(Usage|Options|Commands|  |\(add --help)/.test(l))
    assert.is(lines.length, 1, `${label}: one line, got:\n${r.err}`)
  }
})

E('read-only commands and refused ones create nothing', () => {
  assert.equal(readdirSync(join(home, 'agents')), ['robot'])
  for (const d of ['typo', 'hub1', 'hub2']) assert.not.ok(existsSync(join(tmp.path, d)), `${d} was created`)
})

E('--json errors are {"error":{"code","message"}}, verify included', () => {
  for (const args of [['verify', join(tmp.path, 'missing'), '--json'], ['history', 'foo', '--json'], ['stamp', 'robot', '', '--json']]) {
    const r = pcp(args)
    assert.is(r.code, 2)
    const doc = JSON.parse(r.out) as { error: { code: string, message: string } }
    assert.equal(Object.keys(doc), ['error'])
    assert.equal(Object.keys(doc.error), ['code', 'message'])
  }
})

E('--payload from a file and from stdin; printed events are lossless and verify', async () => {
  const file = join(tmp.path, 'p.json')
  writeFileSync(file, '{"temp": 25.0, "big": 12345678901234567890}')
  let r = pcp(['stamp', 'robot', 'reading', '--payload', `@${file}`, '--json'])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, '"temp": 25.0')
  assert.match(r.out, '"big": 12345678901234567890')
  r = pcp(['stamp', 'robot', 'reading', '--payload', '-', '--json'], { input: '{"temp": 1.0}' })
  assert.is(r.code, 0, r.err)
  assert.match(r.out, '"temp": 1.0')
  r = pcp(['stamp', 'new-one', 'boot', '--create'])
  assert.is(r.code, 0, r.err)
  const identity = await readIdentityDocument(home, 'robot')
  for (const args of [['history', 'robot', '--json'], ['memory', 'search', '--agent', 'robot', '--json']]) {
    r = pcp(args)
    assert.is(r.code, 0, r.err)
    const doc = parseJson(r.out) as unknown
    const events = (Array.isArray(doc) ? doc : (doc as { results: Array<{ event: AissEvent }> }).results.map((x) => x.event)) as AissEvent[]
    assert.is(events.length, 2)
    const report = verifyChain(events, identity)
    assert.ok(report.valid, `${args.join(' ')}: ${JSON.stringify(report.errors)}`)
  }
})

E.after(() => tmp.cleanup())
E.run()
