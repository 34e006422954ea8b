// The three esbuild bundles, shared by `npm run build` and test/build.test.ts:
//   pcp-core.node.mjs     the protocol core + device store for Node (native LevelDB stays external)
//   pcp-verify.browser.mjs  the verifier with portable crypto, no Node built-ins (the dashboard loads it)
//   pcp-anchors.browser.mjs  trusted time for the browser (runtime/tsa/browser.ts: RFC 3161 tokens, anchors,
//                           finality); the verifier pages load it only for a chain with anchors
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BANNER, nativePlugin, NATIVE_EXTERNAL, copyPrebuilds } from './vendor.mjs'

// The core now carries the whole device store (classic-level, abstract-level: ~50 KB) so that it runs
// from a folder with no node_modules; 137 KB before that, without the store. 200 KB until issue 13 added
// what a device cannot do without: store write-failure recovery and the reserve file (~4 KB), streaming
// verification of exports (5 KB) and the import of reference histories (5 KB), 208 KB in all (213 KB with the relaxed-store hole repair). Measured
// (esbuild metafile, minified): abstract-level 35 KB, cbor-x 31 KB, @noble/* 18 KB, A2A 31 KB, store and
// agent 14 KB. The budget exists to make growth a decision: raise it only with such a line.
// 232 KB with AISS-2 (issue 21): main was at 219.4 KB; the core gained 4.6 KB of AISS-2 plumbing it cannot
// do without to stamp, store and refuse AISS-2 events (the event format, PQKY v2 key files, the Agent's
// upgrade and two-key rotation, the rule slot). ML-DSA itself (24 KB) and the AISS-2 chain rules (9 KB)
// stay out: they are in pcp-edge/aiss2 (runtime/aiss2-install.ts), and test/build.test.ts checks that.
// 236 KB (issue 17, 21 landings of 2026-12-03): 233.1 KB after the 'interval' durability mode, the read-only
// inspection socket a running device serves, the store split and the anchor meta slot — device features.
// 240 KB (2026-12-04): 236.5 KB after issue 19's split of the agent and the store into modules (+1.6 KB of
// module seams, measured), the unlocked-key open (issue 17 #5) and the inspection socket's search (#6).
export const CORE_BUDGET_BYTES = 240 * 1024

// The browser verifier: 86.0 KB on 2026-12-04 (esbuild metafile, minified): @noble/hashes 15 KB,
// ML-DSA-65 (@noble/post-quantum) 13 KB, @noble/ed25519 7 KB, lossless-json 6 KB, @scure/base 5 KB, the
// chain rules (verify, chain-step, profile, rotation, AISS-2 event) ~20 KB. Every page that checks an
// export loads it, so trusted time (pkijs) stays out: test/tsa-bundle.test.ts checks that too.
export const VERIFIER_BUDGET_BYTES = 92 * 1024
// The anchor bundle: 418.0 KB on 2026-12-04: pkijs 295 KB, asn1js 57 KB, bytestreamjs 16 KB and
// @peculiar/utils 13 KB (pkijs's own dependencies), runtime/tsa 15 KB (token, path, ESS, CRL checks),
// @noble/hashes 12 KB (SHA-256 for the Merkle tree, SHA-1 for ESSCertID), runtime/anchor + merkle 7 KB.
// Loaded only for a chain with anchors and roots to check them against. pkijs is the bulk and cannot be
// split by feature (its schema classes reference each other); the headroom is for revocation work.
// 430.2 KB with OCSP and fetched revocation (issue 21, measured): runtime/tsa +9.2 KB (ocsp.ts 4.3,
// revocation-check.ts 2.5, revocation-fetch.ts 2.1), pkijs's OCSP classes +2.2 KB.
export const ANCHORS_BUDGET_BYTES = 440 * 1024

/** The core for Node, with everything bundled but the native addon: classic-level's prebuilt .node files
 *  go in prebuilds/ beside it (scripts/vendor.mjs), so its folder runs with no node_modules at all. */
export async function buildCoreBundle (root, outfile) {
  await build({
    ...COMMON,
    entryPoints: [join(root, 'runtime/index.ts')],
    outfile,
    platform: 'node',
    external: NATIVE_EXTERNAL,
    plugins: [nativePlugin],
    banner: { js: BANNER }
  })
}

const COMMON = { bundle: true, minify: true, format: 'esm', target: 'es2022', logLevel: 'silent', legalComments: 'none', metafile: true }

/** `prebuilds`: which classic-level prebuild directories to place beside the core bundle (default: this machine's). */
export async function buildBundles (root, outDir, { prebuilds = [hostPrebuild()] } = {}) {
  const common = COMMON
  const core = join(outDir, 'pcp-core.node.mjs')
  const browser = join(outDir, 'pcp-verify.browser.mjs')
  const anchors = join(outDir, 'pcp-anchors.browser.mjs')
  await buildCoreBundle(root, core)
  copyPrebuilds(root, outDir, prebuilds)
  for (const [entry, outfile] of [['runtime/browser.ts', browser], ['runtime/tsa/browser.ts', anchors]]) {
    const result = await build({ ...common, entryPoints: [join(root, entry)], outfile, platform: 'browser' })
    const nodeInputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:') || /^(fs|path|crypto|os)$/.test(f))
    if (nodeInputs.length) throw new Error(`browser bundle ${entry} pulls Node built-ins: ${nodeInputs.join(', ')}`)
  }
  const size = (f) => { const b = readFileSync(f); return { file: f, bytes: b.length, gzip: gzipSync(b).length } }
  return { core: size(core), browser: size(browser), anchors: size(anchors) }
}

export function hostPrebuild () {
  return process.platform === 'darwin' ? 'darwin-x64+arm64' : `${process.platform}-${process.arch}`
}
