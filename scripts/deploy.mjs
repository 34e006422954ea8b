#!/usr/bin/env node
// npm run deploy -- --target linux-arm64 [--out DIR]: a folder a device runs with plain `node` (≥ 20), no
// npm and no node_modules: the core bundle (protocol core + device store), a small stamping tool, and
// classic-level's prebuilt LevelDB addon for that one target only (README "Deploy to a device").
import { cpSync, mkdirSync, rmSync, readdirSync, statSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildCoreBundle } from './bundles.mjs'
import { copyPrebuilds, DEPLOY_TARGETS } from './vendor.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Builds dist/deploy/<target>/ (or `out`); returns the folder and its size in bytes. */
export async function buildDeploy (target, out = join(root, 'dist/deploy', target)) {
  if (!DEPLOY_TARGETS[target]) throw new Error(`--target ${target} is not one of ${Object.keys(DEPLOY_TARGETS).join(', ')}`)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  await buildCoreBundle(root, join(out, 'pcp-core.mjs'))
  cpSync(join(root, 'scripts/deploy/stamp.mjs'), join(out, 'stamp.mjs'))
  copyPrebuilds(root, out, [DEPLOY_TARGETS[target]])
  return { dir: out, bytes: sizeOf(out) }
}

function sizeOf (p) {
  const s = statSync(p)
  return s.isDirectory() ? readdirSync(p).reduce((n, e) => n + sizeOf(join(p, e)), 0) : s.size
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, out: { type: 'string' } } })
  const targets = values.target ?? Object.keys(DEPLOY_TARGETS)
  if (values.out && targets.length !== 1) { console.error('deploy: --out takes exactly one --target'); process.exit(2) }
  try {
    for (const t of targets) {
      const { dir, bytes } = await buildDeploy(t, values.out ? resolve(values.out) : undefined)
      console.log(`deploy folder ${(bytes / 1024).toFixed(0)} KB  ${dir}`)
    }
  } catch (err) { console.error(`deploy: ${err.message}`); process.exit(2) }
}
