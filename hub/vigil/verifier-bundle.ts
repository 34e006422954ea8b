// The in-browser verifier the dashboard (and the standalone verify.html) loads: runtime/browser.ts
// bundled by esbuild for the browser (portable @noble crypto, no Node built-ins), as a classic script
// that sets `window.PcpVerifier`, so verify.html also works opened from disk (file://), where module
// scripts are refused. The anchor checker (runtime/tsa/browser.ts: pkijs, ~5× the verifier) is a second
// classic script, anchors.js (`window.PcpAnchors`), that the page loads only for a chain with anchors.
// The esbuild options live in verifier-build.json, which scripts/build-dashboard.mjs reads too (plain
// node, no tsx), so both build the same bytes (a test checks they match).
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { BuildOptions } from 'esbuild'

/** runtime/browser.ts, next to this file in the source tree (absent in a build: use a prebuilt bundle). */
export const VERIFIER_ENTRY = fileURLToPath(new URL('../../runtime/browser.ts', import.meta.url))
/** Where a build (scripts/build-dashboard.mjs) puts the prebuilt bundle. */
export const PREBUILT_VERIFIER = fileURLToPath(new URL('./dashboard/verifier.js', import.meta.url))
export const ANCHORS_ENTRY = fileURLToPath(new URL('../../runtime/tsa/browser.ts', import.meta.url))
export const PREBUILT_ANCHORS = fileURLToPath(new URL('./dashboard/anchors.js', import.meta.url))
/** The anchor bundle's global; the options file names the verifier's (scripts/build-dashboard.mjs agrees). */
export const ANCHORS_GLOBAL = 'PcpAnchors'

/** Builds the bundle in memory with esbuild (a dev dependency: loaded only when needed). */
export async function buildVerifierBundle (entry = VERIFIER_ENTRY, globalName?: string): Promise<string> {
  const esbuild = await import('esbuild')
  const options = JSON.parse(await readFile(new URL('./verifier-build.json', import.meta.url), 'utf8')) as BuildOptions
  const out = await esbuild.build({ ...options, ...(globalName ? { globalName } : {}), write: false, entryPoints: [entry] })
  const file = out.outputFiles[0]
  if (file === undefined) throw new Error('esbuild produced no output for the verifier bundle')
  return file.text
}

export function buildAnchorsBundle (): Promise<string> {
  return buildVerifierBundle(ANCHORS_ENTRY, ANCHORS_GLOBAL)
}

/**
 * The bundle text: `prebuilt` (or the file next to the dashboard) if present, otherwise built from
 * source. Rejects with the reason when neither works; the server answers 503 with it.
 */
export async function loadVerifierBundle (prebuilt = PREBUILT_VERIFIER, build: () => Promise<string> = () => buildVerifierBundle()): Promise<string> {
  try {
    return await readFile(prebuilt, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return build()
}

export function loadAnchorsBundle (prebuilt = PREBUILT_ANCHORS): Promise<string> {
  return loadVerifierBundle(prebuilt, buildAnchorsBundle)
}
