// The pcp CLI as a user runs it: real child processes on a temp PCP_HOME, exit codes and --json output.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpDir, ROOT } from './helpers.js'

const Cli = suite('cli')
const tmp = tmpDir()
const pcp = (args: string[], env: Record<string, string> = {}): { code: number, out: string, err: string } => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCP_HOME: tmp.path, ...env } })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}

Cli('identity create/list/info, stamp, export, verify: the round trip', () => {
  let r = pcp(['identity', 'create', 'robot', '--json'])
  assert.is(r.code, 0, r.err)
  const created = JSON.parse(r.out)
  assert.is(created.name, 'robot')
  assert.is(pcp(['stamp', 'robot', 'boot', '--payload', '{"fw":"1.0","temp":21.0}']).code, 0)
  assert.is(pcp(['stamp', 'robot', 'move', '--payload', '{"x":1}']).code, 0)
  r = pcp(['identity', 'list', '--json'])
  assert.equal(JSON.parse(r.out).map((a: { name: string }) => a.name), ['robot'])
  r = pcp(['identity', 'info', 'robot', '--json'])
  assert.is(JSON.parse(r.out).agent_id, created.agent_id)
  const file = join(tmp.path, 'robot.json')
  assert.is(pcp(['export', 'robot', '-o', file]).code, 0)
  // The float survives to the file as the reference writes it.
  assert.match(readFileSync(file, 'utf8'), '"temp": 21.0')
  r = pcp(['verify', file, '--json'])
  assert.is(r.code, 0)
  const v = JSON.parse(r.out)
  assert.equal(Object.keys(v), ['valid', 'event_count', 'agent_id', 'chain_integrity_hash', 'errors'])
  assert.equal([v.valid, v.event_count, v.agent_id], [true, 2, created.agent_id])
})

Cli('verify: invalid chain exits 1 naming the first event at fault; unusable files exit 2', () => {
  const file = join(tmp.path, 'robot.json')
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  doc.events[1].payload.x = 2
  const bad = join(tmp.path, 'bad.json'); writeFileSync(bad, JSON.stringify(doc, null, 2).replace('"temp": 21', '"temp": 21.0'))
  let r = pcp(['verify', bad, '--json'])
  assert.is(r.code, 1)
  const v = JSON.parse(r.out)
  assert.is(v.valid, false)
  assert.is(v.errors[0].index, 1)
  assert.is(v.errors[0].code, 'SIGNATURE_INVALID')
  r = pcp(['verify', bad])
  assert.is(r.code, 1)
  assert.match(r.out, 'event 1')
  for (const [content, why] of [[null, 'cannot read'], ['{not json', 'not JSON'], ['{"a":1}', 'not an audit export']] as const) {
    const f = join(tmp.path, 'x.json')
    if (content !== null) writeFileSync(f, content)
    r = pcp(['verify', content === null ? join(tmp.path, 'missing.json') : f])
    assert.is(r.code, 2)
    assert.match(r.err, why)
    assert.is(r.err.trim().split('\n').length, 1, 'one-line reason')
  }
})

Cli("verify accepts the reference's export", () => {
  const r = pcp(['verify', join(ROOT, 'test/fixtures/reference-export.json')])
  assert.is(r.code, 0, r.out + r.err)
})

Cli('memory stats/search, history, rotate, secure', () => {
  let r = pcp(['memory', 'stats', '--json'])
  assert.is(JSON.parse(r.out).events, 2)
  r = pcp(['memory', 'search', '--type', 'move', '--json'])
  assert.equal(JSON.parse(r.out).results.map((x: { event: { payload: { x: number } } }) => x.event.payload.x), [1])
  r = pcp(['identity', 'rotate', 'robot', '--json'])
  assert.is(r.code, 0, r.err)
  const rot = JSON.parse(r.out)
  assert.is.not(rot.new_agent_id, rot.previous_agent_id)
  assert.is(pcp(['stamp', 'robot', 'after']).code, 0)
  r = pcp(['history', 'robot', '--json'])
  assert.equal(JSON.parse(r.out).map((e: { payload: { event_type: string } }) => e.payload.event_type), ['after'])
  r = pcp(['history', 'robot', '--follow-rotation', '--json'])
  assert.equal(JSON.parse(r.out).map((e: { payload: { event_type: string } }) => e.payload.event_type), ['boot', 'move', 'key_rotation', 'after'])
  const file = join(tmp.path, 'rotated.json')
  assert.is(pcp(['export', 'robot', '-o', file]).code, 0)
  assert.is(pcp(['verify', file]).code, 0)
  r = pcp(['identity', 'secure', 'robot'], { PCP_PASSPHRASE: 'pw' })
  assert.is(r.code, 0, r.err)
  assert.is(JSON.parse(pcp(['identity', 'list', '--json']).out)[0].encrypted, true)
  r = pcp(['stamp', 'robot', 'x'], { PCP_PASSPHRASE: 'wrong' })
  assert.is(r.code, 2)
  assert.match(r.err, 'KEY_PASSPHRASE_WRONG')
})

Cli('bad input: clear one-line errors, exit 2, --help everywhere', () => {
  let r = pcp(['identity', 'create', '../escape'])
  assert.is(r.code, 2); assert.match(r.err, 'AGENT_NAME_INVALID')
  r = pcp(['stamp', 'robot', 'x', '--payload', '[1]'])
  assert.is(r.code, 2); assert.match(r.err, '--payload must be a JSON object')
  r = pcp(['memory', 'search', '--limit', 'ten'])
  assert.is(r.code, 2); assert.match(r.err, '--limit')
  r = pcp(['export', 'ghost', '-o', join(tmp.path, 'g.json')])
  assert.is(r.code, 2)
  for (const cmd of [[], ['identity'], ['identity', 'create'], ['verify'], ['memory', 'search'], ['export'], ['history'], ['stamp']]) {
    r = pcp([...cmd, '--help'])
    assert.is(r.code, 0, cmd.join(' '))
    assert.match(r.out, 'Usage: pcp')
  }
})

Cli.after(() => tmp.cleanup())
Cli.run()
