// The esbuild bundles are built and run, not just built (fastify's bundler test).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { tmpDir, ROOT, readFixture } from './helpers.js'
// @ts-expect-error: a plain .mjs build helper without types
import { buildBundles, CORE_BUDGET_BYTES, VERIFIER_BUDGET_BYTES, ANCHORS_BUDGET_BYTES } from '../scripts/bundles.mjs'

const Build = suite('build')
// Outside the repo: the core bundle carries its store and finds the LevelDB addon in prebuilds/ beside it.
const out = tmpDir()
type Sized = { file: string, bytes: number }
let sizes: { core: Sized, browser: Sized, anchors: Sized }

Build('bundles build within budget; the browser ones have no Node built-ins', async () => {
  sizes = await buildBundles(ROOT, out.path)
  assert.ok(sizes.core.bytes < CORE_BUDGET_BYTES, `core ${sizes.core.bytes} bytes`)
  assert.ok(sizes.browser.bytes < VERIFIER_BUDGET_BYTES, `browser verifier ${sizes.browser.bytes} bytes`)
  assert.ok(sizes.anchors.bytes < ANCHORS_BUDGET_BYTES, `browser anchors ${sizes.anchors.bytes} bytes`)
  console.log(`  core ${(sizes.core.bytes / 1024).toFixed(1)} KB, browser verifier ${(sizes.browser.bytes / 1024).toFixed(1)} KB, anchors ${(sizes.anchors.bytes / 1024).toFixed(1)} KB`)
  for (const f of [sizes.browser.file, sizes.anchors.file]) {
    const text = readFileSync(f, 'utf8')
    assert.not.match(text, /from\s*["']node:/)
    assert.not.match(text, /require\(["'](fs|crypto|path)["']\)/)
  }
})

Build('the anchor bundle runs on its own: a forged token is TSA_TOKEN_MALFORMED, an export without anchors needs no check', async () => {
  const anchors = await import(pathToFileURL(sizes.anchors.file).href)
  const vectors = JSON.parse(readFileSync(join(ROOT, '..', 'shared', 'spec', 'tsa_vectors.json'), 'utf8'))
  const roots = anchors.parseTrustRoots(vectors.tsa_root_ca_pem)
  const forged = await anchors.verifyTimestampToken(new Uint8Array([0x30, 0x00]), { imprint: new Uint8Array(32), trustRoots: roots })
  assert.is(forged.code, 'TSA_TOKEN_MALFORMED')
  const none = await anchors.exportAnchors([{ payload: { event_type: 'tick' }, timestamp: 1 }], ['00'.repeat(32)], { trustRoots: roots })
  assert.equal(anchors.anchorsJson(none, true), { count: 0, verified: true, results: [] })
})

Build('ML-DSA is not in the core bundle, which refuses AISS-2 events it cannot check; the browser bundle verifies them', async () => {
  const coreText = readFileSync(sizes.core.file, 'utf8')
  // q = 8380417, the ML-DSA modulus: present wherever @noble/post-quantum's ML-DSA is.
  assert.not.ok(coreText.includes('8380417'), 'ML-DSA code in the core bundle')
  assert.ok(readFileSync(sizes.browser.file, 'utf8').includes('8380417'))
  const aiss2 = await import('../runtime/aiss2-entry.js')
  const id = aiss2.Identity.fromSeed(new Uint8Array(32).fill(1), { now: 1, pqSeed: new Uint8Array(32).fill(2) })
  const up = aiss2.stampEvent(id, aiss2.profileUpgradePayload(id.publicKeyPq!, aiss2.ALL_AISS2), { previousHash: id.genesisHash(), timestamp: 5, profile: 'AISS-2.0' })
  const ev = aiss2.stampEvent(id, { event_type: 'actuator_command' }, { previousHash: up.hash, timestamp: 6, profile: 'AISS-2.0' })
  const events = JSON.parse(JSON.stringify([up.event, ev.event]))
  const core = await import(pathToFileURL(sizes.core.file).href)
  const browser = await import(pathToFileURL(sizes.browser.file).href)
  const c = core.verifyChain(events, id.document())
  assert.not.ok(c.valid)
  assert.equal([...new Set(c.errors.map((e: { code: string }) => e.code))], ['PQ_UNAVAILABLE'])
  assert.equal(browser.verifyChain(events, id.document()).errors, [])
  events[1].signatures.post_quantum.signature = events[0].signatures.post_quantum.signature
  assert.equal(browser.verifyChain(events, id.document()).errors.map((e: { code: string }) => e.code), ['PROFILE_MISMATCH'])
})

Build('the Node bundle stamps into a real store and verifies', async () => {
  const core = await import(pathToFileURL(sizes.core.file).href)
  const home = tmpDir()
  try {
    const agent = await core.Agent.open({ name: 'bundled' }, { home: home.path })
    for (let i = 0; i < 5; i++) await agent.stamp('tick', { i })
    assert.ok((await agent.verify()).valid)
    await agent.close()
  } finally { home.cleanup() }
})

Build("the browser bundle verifies the reference's export and ours, and signs like node:crypto", async () => {
  const browser = await import(pathToFileURL(sizes.browser.file).href)
  const core = await import(pathToFileURL(sizes.core.file).href)
  assert.is(browser.crypto().name, '@noble/ed25519')
  const ref = browser.verifyAuditExport(browser.parseJson(readFixture('fixtures/reference-export.json')))
  assert.ok(ref.usable && ref.report.valid)
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i)
  const a = browser.Identity.fromSeed(Uint8Array.from(seed), { now: 1 })
  const b = core.Identity.fromSeed(Uint8Array.from(seed), { now: 1 })
  const ea = browser.stampEvent(a, { x: new browser.Float(1) }, { previousHash: null, timestamp: 5, nonce: 'n' })
  const eb = core.stampEvent(b, { x: new core.Float(1) }, { previousHash: null, timestamp: 5, nonce: 'n' })
  assert.is(ea.event.signature, eb.event.signature)
  const exp = core.buildAuditExport(b.document(), [eb.event])
  const check = browser.verifyAuditExport(browser.parseJson(JSON.stringify(exp).replace('"x":1', '"x":1.0')))
  assert.ok(check.usable && check.report.valid, JSON.stringify(check))
  // One timestamp rule in the bundle too (issue 13 #9): an integral float timestamp verifies.
  const fl = browser.verifyAuditExport(browser.parseJson(JSON.stringify(exp).replace(/"timestamp":(\d+)/, '"timestamp":$1.0')))
  assert.ok(fl.usable, JSON.stringify(fl))
  // The spelling is signed (5.0 is not 5, so the signature and the export hash fail), but it is a timestamp.
  assert.equal(fl.report.errors.map((e: { code: string }) => e.code).sort(), ['EXPORT_HASH_MISMATCH', 'SIGNATURE_INVALID'])
})

Build.after(() => out.cleanup())
Build.run()
