#!/usr/bin/env node
// Builds the Vigil dashboard for shipping: copies hub/vigil/dashboard/ and bundles the browser
// verifier (runtime/browser.ts, portable crypto, no Node built-ins) next to it as verifier.js, and the
// anchor checker (runtime/tsa/browser.ts, pkijs + WebCrypto) as anchors.js, which the pages load only
// for a chain with anchors.
//   node scripts/build-dashboard.mjs [outDir]     (default: dist/hub/vigil/dashboard)
// The output folder also works offline: open verify.html from disk to check an audit export without
// trusting any hub. The esbuild options are hub/vigil/verifier-build.json, shared with
// hub/vigil/verifier-bundle.ts (a test checks both builds agree).
import { build } from 'esbuild'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(fileURLToPath(import.meta.url), '..', '..')
const out = resolve(process.argv[2] ?? join(root, 'dist', 'hub', 'vigil', 'dashboard'))

const options = JSON.parse(readFileSync(join(root, 'hub', 'vigil', 'verifier-build.json'), 'utf8'))
const bundles = [
  { file: 'verifier.js', entry: join(root, 'runtime', 'browser.ts'), extra: {} },
  { file: 'anchors.js', entry: join(root, 'runtime', 'tsa', 'browser.ts'), extra: { globalName: 'PcpAnchors' } } // ANCHORS_GLOBAL
]
mkdirSync(out, { recursive: true })
cpSync(join(root, 'hub', 'vigil', 'dashboard'), out, { recursive: true })
for (const b of bundles) {
  const result = await build({ ...options, ...b.extra, write: false, entryPoints: [b.entry] })
  const bytes = result.outputFiles[0].contents
  writeFileSync(join(out, b.file), bytes)
  const sha = createHash('sha256').update(bytes).digest('hex')
  console.log(`${b.file} ${bytes.length} bytes, sha256 ${sha}`)
}
console.log(`dashboard → ${out}`)
