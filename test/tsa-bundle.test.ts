// The browser path of trusted time (runtime/tsa/browser.ts) bundles for the browser with esbuild (no
// Node built-ins: platform=browser fails on any node: import), and the bundle, loaded on its own,
// verifies the reference vector with WebCrypto. The AISS-1 browser verifier stays free of pkijs.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createHash } from 'node:crypto'
import { ROOT, tmpDir } from './helpers.js'

const Bundle = suite('tsa-bundle')
const vectors = JSON.parse(readFileSync(join(ROOT, '..', 'shared', 'spec', 'tsa_vectors.json'), 'utf8'))

Bundle('runtime/tsa/browser.ts bundles for the browser and verifies the vector token on its own', async () => {
  const dir = tmpDir()
  try {
    const out = await build({ entryPoints: [join(ROOT, 'runtime/tsa/browser.ts')], bundle: true, minify: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' })
    const code = out.outputFiles[0]!.contents
    console.log(`  trusted-time browser bundle: ${(code.length / 1024).toFixed(0)} KB minified`)
    const file = join(dir.path, 'tsa.mjs'); await writeFile(file, code)
    const m = await import(pathToFileURL(file).href) as typeof import('../runtime/tsa/browser.js')
    const v = await m.verifyTimestampToken(new Uint8Array(Buffer.from(vectors.timestamp_resp_der_b64, 'base64')), {
      imprint: new Uint8Array(createHash('sha256').update(vectors.imprinted_data).digest()), trustRoots: m.parseTrustRoots(vectors.tsa_root_ca_pem)
    })
    assert.ok(v.ok)
    const forged = await m.verifyTimestampToken(new Uint8Array(Buffer.from('MAA=', 'base64')), { imprint: new Uint8Array(32), trustRoots: m.parseTrustRoots(vectors.tsa_root_ca_pem) })
    assert.is(forged.ok ? 'ok' : forged.code, 'TSA_TOKEN_MALFORMED')
  } finally { dir.cleanup() }
})

Bundle('the AISS-1 browser verifier does not absorb pkijs/asn1js', async () => {
  const out = await build({ entryPoints: [join(ROOT, 'runtime/browser.ts')], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' })
  const inputs = Object.keys(out.metafile!.inputs)
  assert.is(inputs.filter((f) => /node_modules\/(pkijs|asn1js)\//.test(f)).length, 0)
})

Bundle.run()
