#!/usr/bin/env node
// Builds the Vigil dashboard for shipping: copies hub/vigil/dashboard/ and bundles the browser
// verifier (runtime/browser.ts, portable crypto, no Node built-ins) next to it as verifier.js.
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
const result = await build({ ...options, write: false, entryPoints: [join(root, 'runtime', 'browser.ts')] })
mkdirSync(out, { recursive: true })
cpSync(join(root, 'hub', 'vigil', 'dashboard'), out, { recursive: true })
const bundle = result.outputFiles[0].contents
writeFileSync(join(out, 'verifier.js'), bundle)
const sha = createHash('sha256').update(bundle).digest('hex')
console.log(`dashboard → ${out}\nverifier.js ${bundle.length} bytes, sha256 ${sha}`)
