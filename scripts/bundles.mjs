// The two esbuild bundles, shared by `npm run build` and test/build.test.ts:
//   pcp-core.node.mjs     the protocol core + device store for Node (native LevelDB stays external)
//   pcp-verify.browser.mjs  the verifier with portable crypto, no Node built-ins (the dashboard loads it)
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const CORE_BUDGET_BYTES = 150 * 1024

export async function buildBundles (root, outDir) {
  const common = { bundle: true, minify: true, format: 'esm', target: 'es2022', logLevel: 'silent', legalComments: 'none', metafile: true }
  const core = join(outDir, 'pcp-core.node.mjs')
  const browser = join(outDir, 'pcp-verify.browser.mjs')
  await build({
    ...common,
    entryPoints: [join(root, 'runtime/index.ts')],
    outfile: core,
    platform: 'node',
    // Native addons cannot be bundled; they ship prebuilt for each platform (classic-level has ARM builds).
    external: ['classic-level', 'cbor-extract', 'node-gyp-build', 'node-gyp-build-optional-packages'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }
  })
  const result = await build({ ...common, entryPoints: [join(root, 'runtime/browser.ts')], outfile: browser, platform: 'browser' })
  const nodeInputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:') || /^(fs|path|crypto|os)$/.test(f))
  if (nodeInputs.length) throw new Error(`browser bundle pulls Node built-ins: ${nodeInputs.join(', ')}`)
  const size = (f) => { const b = readFileSync(f); return { file: f, bytes: b.length, gzip: gzipSync(b).length } }
  return { core: size(core), browser: size(browser) }
}
