#!/usr/bin/env node
// npm run build [-- --target linux-arm64 ...]: compile to dist/ (JS + .d.ts for the exports map), bundle
// the native-addon dependencies into dist/vendor/ (scripts/vendor.mjs says why), build the two bundles,
// and one deploy folder per target: dist/deploy/<target>/ runs with plain `node`, no npm, no node_modules.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, rmSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, dirname, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildBundles, CORE_BUDGET_BYTES, VERIFIER_BUDGET_BYTES, ANCHORS_BUDGET_BYTES } from './bundles.mjs'
import { buildVendor, DEPLOY_TARGETS } from './vendor.mjs'
import { buildDeploy } from './deploy.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({ options: { target: { type: 'string', multiple: true } } })
const targets = values.target ?? Object.keys(DEPLOY_TARGETS)
for (const t of targets) {
  if (!DEPLOY_TARGETS[t]) { console.error(`build: --target ${t} is not one of ${Object.keys(DEPLOY_TARGETS).join(', ')}`); process.exit(2) }
}
const dist = join(root, 'dist')
rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
// Files loaded from disk at run time travel with the compiled modules.
const profiles = join(root, 'hub/trustgate/profiles')
if (existsSync(profiles)) cpSync(profiles, join(dist, 'hub/trustgate/profiles'), { recursive: true })
// The dashboard's static files plus its bundled in-browser verifier.
execFileSync(process.execPath, [join(root, 'scripts/build-dashboard.mjs'), join(dist, 'hub/vigil/dashboard')], { stdio: 'inherit' })

await buildVendor(root, join(dist, 'vendor'))
// The store's declarations name level's type too. A consumer has no `level` to resolve it (vendored, not a
// dependency), and with skipLibCheck off tsc then fails on `import 'pcp-edge'`: they point at this
// declaration of the vendored handle instead. Only the store's internals name it; a consumer never calls it.
writeFileSync(join(dist, 'vendor', 'level.d.ts'), `/** The LevelDB handle of the bundled level@10 (dist/vendor/level.js); its full API is level's. */
export declare class Level<K = string, V = string> {
  constructor (location: string, options?: Record<string, unknown>)
  readonly location: string
  readonly status: 'opening' | 'open' | 'closing' | 'closed'
  open (): Promise<void>
  close (): Promise<void>
  get (key: K): Promise<V | undefined>
}
`)
const VENDORED = ['level', 'cbor-x']
for (const file of walk(dist)) {
  if (!(file.endsWith('.js') || file.endsWith('.d.ts')) || file.startsWith(join(dist, 'vendor') + sep)) continue
  const text = readFileSync(file, 'utf8')
  const out = text.replace(/from '(level|cbor-x)';/g, (_m, name) => {
    const rel = relative(dirname(file), join(dist, 'vendor', `${name}.js`)).split(sep).join('/')
    return `from '${rel.startsWith('.') ? rel : './' + rel}';`
  })
  if (out !== text) writeFileSync(file, out)
}
// A missed specifier would make consumers need the package; fail the build instead.
for (const file of walk(dist)) {
  if ((file.endsWith('.js') || file.endsWith('.d.ts')) && !file.startsWith(join(dist, 'vendor') + sep) && new RegExp(`from '(${VENDORED.join('|')})'`).test(readFileSync(file, 'utf8'))) throw new Error(`${file} still imports a vendored package`)
}

mkdirSync(join(dist, 'bundle'), { recursive: true })
const sizes = await buildBundles(root, join(dist, 'bundle'), { prebuilds: [] })
for (const t of targets) {
  const { bytes } = await buildDeploy(t)
  console.log(`deploy folder   ${(bytes / 1024).toFixed(0)} KB  dist/deploy/${t}/`)
}
const kb = (n) => (n / 1024).toFixed(1) + ' KB'
console.log(`core bundle     ${kb(sizes.core.bytes)} minified, ${kb(sizes.core.gzip)} gzip   (budget ${kb(CORE_BUDGET_BYTES)})  dist/bundle/pcp-core.node.mjs`)
console.log(`browser verifier ${kb(sizes.browser.bytes)} minified, ${kb(sizes.browser.gzip)} gzip   (budget ${kb(VERIFIER_BUDGET_BYTES)})  dist/bundle/pcp-verify.browser.mjs`)
console.log(`browser anchors ${kb(sizes.anchors.bytes)} minified, ${kb(sizes.anchors.gzip)} gzip   (budget ${kb(ANCHORS_BUDGET_BYTES)})  dist/bundle/pcp-anchors.browser.mjs`)
if (sizes.core.bytes > CORE_BUDGET_BYTES) { console.error('core bundle is over its budget'); process.exitCode = 1 }
if (sizes.browser.bytes > VERIFIER_BUDGET_BYTES) { console.error('browser verifier bundle is over its budget'); process.exitCode = 1 }
if (sizes.anchors.bytes > ANCHORS_BUDGET_BYTES) { console.error('browser anchor bundle is over its budget'); process.exitCode = 1 }

function * walk (dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield * walk(p); else yield p
  }
}
