// `pcp ros2 …` commands, run in a child process as a user would (registered on a bare commander
// program, as cli/main.ts does).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { messageHash } from '../ros2/msg-hash.js'
import { merkleRoot } from '../ros2/merkle.js'
import { ROOT, tmpDir } from './helpers.js'

const C = suite('ros2 CLI (pcp ros2 hash | prove | verify-inclusion)')
const MAIN = "import { Command } from 'commander'; import { registerRos2Commands } from './cli/ros2.ts'; " +
  "const p = new Command('pcp').exitOverride((e) => process.exit(e.exitCode === 1 ? 2 : e.exitCode)); registerRos2Commands(p); await p.parseAsync(process.argv.slice(1), { from: 'user' })"

function pcp (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

C('hash: JSON and `ros2 topic echo` YAML of the same message give the msg_hash the robot stamped', () => {
  const tmp = tmpDir()
  try {
    const live = { header: { stamp: { sec: 1795311447, nanosec: 256154500 }, frame_id: 'laser' }, ranges: new Float32Array([0.5, Infinity, 1.25]), angle_min: -1.0 }
    const json = join(tmp.path, 'scan.json')
    writeFileSync(json, '{"header":{"stamp":{"sec":1795311447,"nanosec":256154500},"frame_id":"laser"},"ranges":[0.5,{"$float":"Infinity"},1.25],"angle_min":-1.0}')
    const yaml = join(tmp.path, 'scan.yaml')
    writeFileSync(yaml, 'header:\n  stamp:\n    sec: 1795311447\n    nanosec: 256154500\n  frame_id: laser\nranges:\n- 0.5\n- .inf\n- 1.25\nangle_min: -1.0\n---\n')
    const expected = messageHash(live)
    const a = pcp('ros2', 'hash', json)
    assert.is(a.status, 0, a.stderr)
    assert.is(a.stdout.trim(), expected)
    const b = pcp('ros2', 'hash', yaml)
    assert.is(b.status, 0, b.stderr)
    assert.is(b.stdout.trim(), expected)
    const c = pcp('ros2', 'hash', json, '--json', '--canonical')
    const out = JSON.parse(c.stdout)
    assert.is(out.recipe, 'pcp-ros2-msg-v1')
    assert.is(out.messages[0].msg_hash, expected)
    assert.is(createHash('sha256').update(out.messages[0].canonical).digest('hex'), expected)
  } finally { tmp.cleanup() }
})

C('hash: --many, multi-document YAML, --raw bytes', () => {
  const tmp = tmpDir()
  try {
    const many = join(tmp.path, 'many.json'); writeFileSync(many, '[{"data":"a"},{"data":"b"}]')
    assert.equal(pcp('ros2', 'hash', many, '--many').stdout.trim().split('\n'), [messageHash({ data: 'a' }), messageHash({ data: 'b' })])
    const docs = join(tmp.path, 'echo.yml'); writeFileSync(docs, 'data: a\n---\ndata: b\n---\n')
    assert.equal(pcp('ros2', 'hash', docs).stdout.trim().split('\n'), [messageHash({ data: 'a' }), messageHash({ data: 'b' })])
    const raw = join(tmp.path, 'msg.cdr'); writeFileSync(raw, Buffer.from([0, 1, 0, 0, 3, 0, 0, 0, 104, 105, 0]))
    assert.is(pcp('ros2', 'hash', raw, '--raw').stdout.trim(), createHash('sha256').update(Buffer.from([0, 1, 0, 0, 3, 0, 0, 0, 104, 105, 0])).digest('hex'))
  } finally { tmp.cleanup() }
})

C('hash: unusable input exits 2 with one line', () => {
  const tmp = tmpDir()
  try {
    const bad = join(tmp.path, 'bad.json'); writeFileSync(bad, '{"data": ')
    for (const args of [['ros2', 'hash', bad], ['ros2', 'hash', join(tmp.path, 'missing.json')], ['ros2', 'hash', bad, '--format', 'xml']]) {
      const r = pcp(...args)
      assert.is(r.status, 2, args.join(' ') + ': ' + r.stderr)
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, /^pcp ros2: /)
    }
    const arr = join(tmp.path, 'arr.json'); writeFileSync(arr, '[1, 2]')
    assert.is(pcp('ros2', 'hash', arr).status, 2)
  } finally { tmp.cleanup() }
})

C('prove then verify-inclusion: exit 0 when included, 1 when not', () => {
  const tmp = tmpDir()
  try {
    const hashes = Array.from({ length: 11 }, (_, i) => messageHash({ seq: i }))
    const file = join(tmp.path, 'window.txt'); writeFileSync(file, hashes.join('\n') + '\n')
    const proved = pcp('ros2', 'prove', '--hashes', file, '--index', '7')
    assert.is(proved.status, 0, proved.stderr)
    const doc = JSON.parse(proved.stdout)
    assert.is(doc.merkle_root, merkleRoot(hashes))
    const proofFile = join(tmp.path, 'proof.json'); writeFileSync(proofFile, proved.stdout)
    const ok = pcp('ros2', 'verify-inclusion', '--msg-hash', hashes[7]!, '--root', doc.merkle_root, '--proof', proofFile, '--count', '11')
    assert.is(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /included: message 7 of 11/)
    const no = pcp('ros2', 'verify-inclusion', '--msg-hash', hashes[6]!, '--root', doc.merkle_root, '--proof', proofFile, '--json')
    assert.is(no.status, 1)
    assert.equal(JSON.parse(no.stdout), { included: false, index: 7, size: 11 })
    assert.is(pcp('ros2', 'prove', '--hashes', file, '--index', '11').status, 2)
  } finally { tmp.cleanup() }
})

C('every command has --help', () => {
  for (const c of ['hash', 'prove', 'verify-inclusion']) {
    const r = pcp('ros2', c, '--help')
    assert.is(r.status, 0)
    assert.match(r.stdout, /Usage: pcp ros2/)
  }
})

C.run()
