// The two dependencies with native addons (level → classic-level, cbor-x → cbor-extract) are bundled
// into the package instead of being installed by the consumer's npm. Installed as dependencies they run
// install scripts (npm 11 warns "install scripts not covered by allowScripts"), and cbor-extract 2.2.3
// has no prebuilt package for Node 20 on linux, so it compiles from source; the repo's `overrides` pin
// does not reach a consumer. Bundled, a consumer installs nothing with an install script:
//   - classic-level's JS is bundled and its prebuilt `.node` files ship beside the bundle
//     (`prebuilds/<platform>-<arch>/`), loaded by node-gyp-build from the bundle's own directory;
//   - cbor-extract stays external and absent, which cbor-x supports (it only speeds up string decoding).
// Used by scripts/build.mjs (dist/vendor/ for the package, dist/deploy/<target>/ for a device).
import { build } from 'esbuild'
import { cpSync, mkdirSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'

/** Targets a deploy folder can be built for, and the classic-level prebuild directory each needs. */
export const DEPLOY_TARGETS = { 'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'linux-arm': 'linux-arm' }
/** Prebuilds the npm package carries (classic-level ships 8; Android and 32-bit Windows are left out). */
export const PACKAGE_PREBUILDS = ['linux-x64', 'linux-arm64', 'linux-arm', 'darwin-x64+arm64', 'win32-x64']

// A bundled CommonJS module sees esbuild's `require` shim; this banner backs it with a real one (for
// node-gyp-build's runtime require of the .node file) and names the directory the prebuilds sit in.
export const BANNER = "import { createRequire as __pcpCr } from 'node:module'; import { fileURLToPath as __pcpFu } from 'node:url'; " +
  "const require = __pcpCr(import.meta.url); const __pcpNativeDir = __pcpFu(new URL('.', import.meta.url));"

/** classic-level's binding.js calls node-gyp-build(__dirname); in a bundle that is the bundle's directory. */
export const nativePlugin = {
  name: 'pcp-native',
  setup (b) {
    b.onLoad({ filter: /classic-level[\\/]binding\.js$/ }, () => ({
      contents: "module.exports = require('node-gyp-build')(__pcpNativeDir)",
      loader: 'js'
    }))
  }
}

export const NATIVE_EXTERNAL = ['cbor-extract']

/** dist/vendor/{level,cbor-x}.js plus the prebuilds; the compiled modules import these instead. */
export async function buildVendor (root, outDir) {
  mkdirSync(outDir, { recursive: true })
  const common = { bundle: true, minify: true, format: 'esm', platform: 'node', target: 'es2022', logLevel: 'silent', legalComments: 'none', banner: { js: BANNER }, plugins: [nativePlugin], external: NATIVE_EXTERNAL }
  await build({ ...common, stdin: { contents: "export { Level } from 'level'", resolveDir: root }, outfile: join(outDir, 'level.js') })
  await build({ ...common, stdin: { contents: "export { Encoder, Decoder, addExtension, Tag } from 'cbor-x'", resolveDir: root }, outfile: join(outDir, 'cbor-x.js') })
  copyPrebuilds(root, outDir, PACKAGE_PREBUILDS)
}

export function copyPrebuilds (root, outDir, dirs) {
  const from = join(root, 'node_modules/classic-level/prebuilds')
  for (const d of dirs) {
    if (!existsSync(join(from, d))) throw new Error(`classic-level has no prebuild for ${d} (have: ${readdirSync(from).join(', ')})`)
    cpSync(join(from, d), join(outDir, 'prebuilds', d), { recursive: true })
  }
}
