// `pcp verify --tsa-roots/--against` as a real process: anchors verified in an audit export, and
// FORK_AFTER_FINALIZATION for two histories of one key that diverge before an anchored point (a copy of
// the device's home continued differently), with the anchored index and genTime; a divergence after
// every anchor is reported as a divergence only. The TSA is OpenSSL on loopback (test/support/openssl-tsa.ts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { stampN } from './support/anchored.js'
import { startLoopbackTsa, type LoopbackTsa } from './support/openssl-tsa.js'
import { ROOT, tmpDir } from './helpers.js'

const Cli = suite('tsa-cli')
let tsa: LoopbackTsa
let dir: { path: string, cleanup: () => void }
const files: Record<string, string> = {}

function pcp (...args: string[]): { status: number | null, json: Record<string, unknown>, stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PCP_TSA_ROOTS: '' } })
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(r.stdout) } catch { /* text output */ }
  return { status: r.status, json, stdout: r.stdout }
}


async function exportOf (home: string, file: string): Promise<string> {
  const agent = await Agent.open({ name: 'bot' }, { home })
  await agent.export(file)
  await agent.close()
  return file
}

Cli('setup: one device, and two copies of its home continued differently', async () => {
  tsa = await startLoopbackTsa()
  dir = tmpDir()
  files.roots = join(dir.path, 'roots.pem'); writeFileSync(files.roots, tsa.root.pem)
  const a = join(dir.path, 'a'); const early = join(dir.path, 'early'); const late = join(dir.path, 'late')
  await stampN(tsa, a, 3, 'common', false)
  cpSync(a, early, { recursive: true }) // diverges at event 3, before the first anchor's point
  await stampN(tsa, a, 9, 'a', true) // anchors: events 0..4 (cut at 5 stored), then the rest
  cpSync(a, late, { recursive: true }) // diverges after every anchor
  await stampN(tsa, early, 6, 'early', false)
  await stampN(tsa, late, 2, 'late', false)
  await stampN(tsa, a, 2, 'a2', false)
  files.a = await exportOf(a, join(dir.path, 'a.json'))
  files.early = await exportOf(early, join(dir.path, 'early.json'))
  files.late = await exportOf(late, join(dir.path, 'late.json'))
})

Cli('anchors in an export verify with --tsa-roots; without roots they are counted, not trusted', () => {
  const r = pcp('verify', files.a!, '--tsa-roots', files.roots!, '--json')
  assert.is(r.status, 0, r.stdout)
  const anchors = r.json.anchors as { count: number, verified: boolean, results: Array<{ ok: boolean, gen_time?: string, from: number, to: number }> }
  assert.ok(anchors.count >= 2)
  assert.ok(anchors.verified)
  assert.ok(anchors.results.every((a) => a.ok && typeof a.gen_time === 'string'))
  assert.is(anchors.results[0]!.from, 0)
  const text = pcp('verify', files.a!, '--tsa-roots', files.roots!)
  assert.match(text.stdout, /anchors: \d+ of \d+ verified, final up to event \d+ \(genTime /)
  // Without roots (and no --against) the anchors are counted in the same pass and said to be unchecked;
  // before, the output said nothing about them.
  const bare = pcp('verify', files.a!, '--json')
  assert.is(bare.status, 0, bare.stdout)
  assert.equal(bare.json.anchors, { count: anchors.count, verified: false, results: [] })
  assert.match(pcp('verify', files.a!).stdout, new RegExp(`anchors: ${anchors.count}, not verified \\(no --tsa-roots\\)`))
  const other = join(dir.path, 'other.pem')
  writeFileSync(other, spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir.path, 'o.key'), '-subj', '/CN=Other', '-days', '1'], { encoding: 'utf8' }).stdout)
  const untrusted = pcp('verify', files.a!, '--tsa-roots', other, '--json')
  assert.is(untrusted.status, 1)
  assert.ok((untrusted.json.errors as Array<{ code: string }>).every((e) => e.code === 'TSA_CHAIN_UNTRUSTED'))
})

Cli('two histories diverging before an anchored point: FORK_AFTER_FINALIZATION with the anchored index and genTime', () => {
  const r = pcp('verify', files.early!, '--against', files.a!, '--tsa-roots', files.roots!, '--json')
  assert.is(r.status, 1, r.stdout)
  assert.equal(r.json.against, { file: files.a, diverges_at: 3 })
  // --help describes the --json output a user parses: every key printed here is named there.
  const help = pcp('verify', '--help').stdout.replace(/\s+/g, ' ')
  for (const k of [...Object.keys(r.json), ...Object.keys(r.json.anchors as object), ...Object.keys(r.json.against as object)]) assert.ok(help.includes(`"${k}"`), `pcp verify --help names "${k}" of --json`)
  const faf = (r.json.errors as Array<Record<string, unknown>>).filter((e) => e.code === 'FORK_AFTER_FINALIZATION')
  assert.is(faf.length, 1)
  assert.is(faf[0]!.index, 3)
  assert.is(faf[0]!.held_by, 'second')
  assert.ok((faf[0]!.anchored_to as number) >= 3)
  assert.ok(!Number.isNaN(Date.parse(faf[0]!.gen_time as string)))
  assert.match(pcp('verify', files.early!, '--against', files.a!, '--tsa-roots', files.roots!).stdout, /\[FORK_AFTER_FINALIZATION\] the histories diverge at event 3/)
})

Cli('a divergence after every anchor, or anchors nobody verified, is no finalization', () => {
  const late = pcp('verify', files.late!, '--against', files.a!, '--tsa-roots', files.roots!, '--json')
  const d = (late.json.against as { diverges_at: number }).diverges_at
  assert.ok(d > 3)
  assert.is((late.json.errors as unknown[]).length, 0, JSON.stringify(late.json.errors))
  assert.is(late.status, 0)
  const noRoots = pcp('verify', files.early!, '--against', files.a!, '--json')
  assert.is(noRoots.status, 0)
  assert.is((noRoots.json.against as { diverges_at: number }).diverges_at, 3)
})

Cli('an --against file that cannot be read is FILE_UNREADABLE naming it, like the export itself', () => {
  const missing = join(dir.path, 'missing.json')
  const r = pcp('verify', files.a!, '--against', missing, '--json')
  assert.is(r.status, 2)
  assert.equal(r.json.error, { code: 'FILE_UNREADABLE', message: `${files.a}: --against ${missing}: cannot read (ENOENT)` })
})

Cli('teardown', async () => { await tsa.close(); dir.cleanup() })

Cli.run()
