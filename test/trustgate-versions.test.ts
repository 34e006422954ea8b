// Policy version store: content-addressed, append-only activations, diff, tamper detection. Real files.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PolicyVersionStore } from '../hub/trustgate/versions.js'
import { profilePath } from '../hub/trustgate/profiles.js'
import { PcpError } from '../runtime/errors.js'

const Versions = suite('trustgate versions')
const nistBytes = readFileSync(profilePath('nist_balanced'))
const anssiBytes = readFileSync(profilePath('anssi_strict'))

function withStore (fn: (store: PolicyVersionStore, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-tg-versions-'))
  try { fn(PolicyVersionStore.open(dir), dir) } finally { rmSync(dir, { recursive: true, force: true }) }
}

Versions('add is content-addressed and idempotent; invalid policies never enter', () => withStore((store, dir) => {
  const a = store.add(nistBytes)
  assert.ok(a.created)
  assert.is(a.id, a.policy.hash)
  assert.equal(readFileSync(join(dir, 'versions', `${a.id}.policy`)), nistBytes, 'stored byte for byte')
  assert.is(store.add(nistBytes).created, false)
  // A CRLF copy is different bytes, hence a different version (gaps.md #52: one hash per byte string).
  const crlf = store.add(nistBytes.toString('utf8').replaceAll('\n', '\r\n'))
  assert.is.not(crlf.id, a.id)
  assert.throws(() => store.add('thresholds: {vrs_block: 7}\n'), (e: PcpError) => e.code === 'POLICY_INVALID')
  assert.is(store.versions().length, 2)
  assert.is(store.resolve(a.id.slice(0, 12)), a.id)
  assert.throws(() => store.get('deadbeefdeadbeef'), (e: PcpError) => e.code === 'POLICY_VERSION_NOT_FOUND')
}))

Versions('activation history is append-only with principal, comment and time; active() and activeAt()', () => withStore((store, dir) => {
  assert.is(store.active(), null)
  const nist = store.add(nistBytes).id
  const anssi = store.add(anssiBytes).id
  const r1 = store.activate(nist, { principal: 'alice', comment: 'initial', at: 100 })
  const r2 = store.activate(anssi.slice(0, 10), { principal: 'bob', comment: 'audit finding 12', at: 200 })
  const r3 = store.activate(nist, { principal: 'alice', at: 300 })
  assert.equal([r1.seq, r2.seq, r3.seq], [1, 2, 3])
  assert.is(r1.prev, '')
  assert.is(r2.policy_version, 'anssi_strict@1.0')
  assert.equal(store.history().map((r) => [r.version, r.principal, r.comment, r.at]), [[nist, 'alice', 'initial', 100], [anssi, 'bob', 'audit finding 12', 200], [nist, 'alice', '', 300]])
  assert.is(store.active()!.policy.hash, nist)
  assert.is(store.activeAt(250)!.record.principal, 'bob')
  assert.is(store.activeAt(50), null)
  // A reopened store sees the same history.
  assert.equal(PolicyVersionStore.open(dir).history(), store.history())
  assert.equal(store.checkIntegrity(), { ok: true, problems: [] })
  assert.throws(() => store.activate(nist, { principal: '', at: 1 }), TypeError)
}))

Versions('diff lists field-level changes between two versions', () => withStore((store) => {
  const a = store.add(nistBytes).id
  const b = store.add(nistBytes.toString('utf8').replace('vrs_block: 0.85', 'vrs_block: 0.9').replace('allowed_tools: ["*"]', 'allowed_tools: [read_db]').replace('on_timeout: ESCALATE', 'on_timeout: BLOCK')).id
  assert.equal(store.diff(a, b), [
    { path: 'notification.on_timeout', before: 'ESCALATE', after: 'BLOCK' },
    { path: 'roles.trusted.allowed_tools', before: ['*'], after: ['read_db'] },
    { path: 'thresholds.vrs_block', before: 0.85, after: 0.9 }
  ])
  assert.equal(store.diff(a, a), [])
  assert.ok(store.diff(a, store.add(anssiBytes).id).some((c) => c.path === 'name'))
}))

Versions('tampering with a stored version or the log is named by checkIntegrity and refused on load', () => withStore((store, dir) => {
  const nist = store.add(nistBytes).id
  const anssi = store.add(anssiBytes).id
  store.activate(nist, { principal: 'alice', at: 1 })
  store.activate(anssi, { principal: 'bob', at: 2 })
  // Quietly loosen the stored nist policy: same name, block threshold raised.
  const file = join(dir, 'versions', `${nist}.policy`)
  writeFileSync(file, readFileSync(file, 'utf8').replace('vrs_block: 0.85', 'vrs_block: 0.99'))
  const report = store.checkIntegrity()
  assert.is(report.ok, false)
  assert.equal(report.problems.map((p) => [p.kind, p.version]), [['version_tampered', nist]])
  assert.throws(() => store.get(nist), (e: PcpError) => e.code === 'POLICY_INTEGRITY')
  assert.throws(() => store.activate(nist, { principal: 'eve', at: 3 }), (e: PcpError) => e.code === 'POLICY_INTEGRITY')
  assert.is(store.active()!.policy.hash, anssi, 'the untouched active version still loads')
  // Edit a line of the activation log: the next line's link breaks.
  const log = join(dir, 'activations.jsonl')
  writeFileSync(log, readFileSync(log, 'utf8').replace('"principal":"alice"', '"principal":"mallory"'))
  const kinds = store.checkIntegrity().problems.map((p) => [p.kind, p.line ?? p.version])
  assert.equal(kinds, [['version_tampered', nist], ['log_link_broken', 2]])
  // Garbage in the log, and a log naming a version nobody stored.
  appendFileSync(log, '{"not":"a record"}\n')
  assert.ok(store.checkIntegrity().problems.some((p) => p.kind === 'log_malformed' && p.line === 3))
  assert.throws(() => store.history(), (e: PcpError) => e.code === 'POLICY_STORE_CORRUPTED')
  rmSync(join(dir, 'versions', `${anssi}.policy`))
  assert.ok(store.checkIntegrity().problems.some((p) => p.kind === 'log_missing_version' && p.version === anssi))
}))

Versions('a torn last line (crash mid-append) is ignored, then cut off by the next activation', () => withStore((store, dir) => {
  const nist = store.add(nistBytes).id
  store.activate(nist, { principal: 'alice', at: 1 })
  const log = join(dir, 'activations.jsonl')
  appendFileSync(log, '{"seq":2,"vers')
  assert.is(store.history().length, 1)
  const r = store.activate(nist, { principal: 'bob', at: 2 })
  assert.is(r.seq, 2)
  assert.equal(store.checkIntegrity(), { ok: true, problems: [] })
  assert.is(readFileSync(log, 'utf8').split('\n').length, 3)
  assert.equal(readdirSync(join(dir, 'versions')).filter((f) => f.endsWith('.tmp')), [], 'no temp files left')
}))

Versions.run()
