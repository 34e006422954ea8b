#!/usr/bin/env node
// npm run build: compile to dist/ (JS + .d.ts for the exports map), then the two bundles, then sizes.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, rmSync, existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBundles, CORE_BUDGET_BYTES } from './bundles.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
// Files loaded from disk at run time travel with the compiled modules.
const profiles = join(root, 'hub/trustgate/profiles')
if (existsSync(profiles)) cpSync(profiles, join(root, 'dist/hub/trustgate/profiles'), { recursive: true })
// The dashboard's static files plus its bundled in-browser verifier.
execFileSync(process.execPath, [join(root, 'scripts/build-dashboard.mjs'), join(root, 'dist/hub/vigil/dashboard')], { stdio: 'inherit' })
mkdirSync(join(root, 'dist/bundle'), { recursive: true })
const sizes = await buildBundles(root, join(root, 'dist/bundle'))
const kb = (n) => (n / 1024).toFixed(1) + ' KB'
console.log(`core bundle     ${kb(sizes.core.bytes)} minified, ${kb(sizes.core.gzip)} gzip   (budget ${kb(CORE_BUDGET_BYTES)})  dist/bundle/pcp-core.node.mjs`)
console.log(`browser verifier ${kb(sizes.browser.bytes)} minified, ${kb(sizes.browser.gzip)} gzip   dist/bundle/pcp-verify.browser.mjs`)
if (sizes.core.bytes > CORE_BUDGET_BYTES) { console.error('core bundle is over its budget'); process.exitCode = 1 }
