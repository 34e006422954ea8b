// One direction of dependency (issue 19; README "Architecture"):
//   runtime/                 the protocol core: imports no other layer
//   policy/                  the pure policy engine: imports runtime/ only
//   sync/, ros2/, rpi/       device code: imports runtime/ and policy/, never hub/
//   hub/, cli/               the top: may import anything below
// The device gate once imported the policy engine from hub/trustgate/, and an example under runtime/a2a/
// imported sync/ and hub/: nothing failed, the layers just quietly stopped being layers. This test reads
// the import specifiers of every .ts file under the lower layers (TypeScript's own pre-processor, so
// comments and strings are not mistaken for imports; `import type` and literal dynamic `import()` count:
// a type from the hub is still a dependency on it) and lists every import that points upwards.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'
import { ROOT } from './helpers.js'

const Layering = suite('layering')

/** Each lower layer and the top-level folders its files may import. */
const ALLOWED: Record<string, readonly string[]> = {
  runtime: ['runtime'],
  policy: ['runtime', 'policy'],
  sync: ['runtime', 'policy', 'sync', 'ros2', 'rpi'],
  ros2: ['runtime', 'policy', 'sync', 'ros2', 'rpi'],
  rpi: ['runtime', 'policy', 'sync', 'ros2', 'rpi']
}
/** The package's own subpaths (read from the exports map), which reach a layer without a relative path. */
const SELF_SUBPATHS: Record<string, string> = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, string | { 'pcp-source'?: string }>)
    .filter(([, v]) => typeof v === 'object' && typeof v['pcp-source'] === 'string')
    .map(([k, v]) => [join('pcp-edge', k).replace(/\\/g, '/').replace(/\/$/, ''), (v as { 'pcp-source': string })['pcp-source'].replace(/^\.\//, '').split('/')[0]!])
)

function * tsFiles (dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name)
    if (statSync(full).isDirectory()) { if (name !== 'node_modules') yield * tsFiles(full); continue }
    if (name.endsWith('.ts')) yield full
  }
}

/** The top-level folder an import specifier of `file` lands in, or null for an outside package. */
function layerOf (file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const rel = relative(ROOT, resolve(dirname(file), specifier))
    return rel.startsWith('..') ? '(outside the repo)' : rel.split(sep)[0]!
  }
  // longest first: 'pcp-edge/trustgate' is the hub, not the 'pcp-edge' core it starts with
  const self = Object.keys(SELF_SUBPATHS).sort((a, b) => b.length - a.length).find((s) => specifier === s || specifier.startsWith(s + '/'))
  return self === undefined ? null : SELF_SUBPATHS[self]!
}

/** Every upward import under the lower layers, as `file:line: specifier (layer → target)`. */
function upwardImports (root = ROOT): string[] {
  const offenders: string[] = []
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    for (const file of tsFiles(join(root, layer))) {
      const text = readFileSync(file, 'utf8')
      for (const imp of ts.preProcessFile(text, true, true).importedFiles) {
        const target = layerOf(file, imp.fileName)
        if (target === null || allowed.includes(target)) continue
        const line = text.slice(0, imp.pos).split('\n').length
        offenders.push(`${relative(root, file)}:${line}: '${imp.fileName}' (${layer} → ${target})`)
      }
    }
  }
  return offenders
}

Layering('no file under runtime/, policy/, sync/, ros2/ or rpi/ imports a layer above it', () => {
  assert.equal(upwardImports(), [])
})

Layering('the check sees every form of import (it would not pass by reading nothing)', () => {
  const file = join(ROOT, 'sync', 'x.ts')
  const text = [
    "import { a } from '../hub/a.js'",
    "import type { B } from '../hub/trustgate/b.js'",
    "export { c } from '../hub/c.js'",
    "const d = await import('../hub/d.js')",
    "import { e } from 'pcp-edge/trustgate'",
    "// import { f } from '../hub/f.js'",
    "const g = '../hub/g.js'",
    "import { h } from '../runtime/h.js'"
  ].join('\n')
  const seen = ts.preProcessFile(text, true, true).importedFiles.map((i) => [i.fileName, layerOf(file, i.fileName)])
  assert.equal(seen, [
    ['../hub/a.js', 'hub'], ['../hub/trustgate/b.js', 'hub'], ['../hub/c.js', 'hub'], ['../hub/d.js', 'hub'],
    ['pcp-edge/trustgate', 'hub'], ['../runtime/h.js', 'runtime']
  ])
  assert.is(SELF_SUBPATHS['pcp-edge'], 'runtime')
  assert.is(SELF_SUBPATHS['pcp-edge/policy'], 'policy')
  // and the walk reaches nested folders (runtime/a2a/, ros2/standin/) and every layer has files
  for (const layer of Object.keys(ALLOWED)) assert.ok([...tsFiles(join(ROOT, layer))].length > 0, layer)
  assert.ok([...tsFiles(join(ROOT, 'runtime'))].some((f) => f.includes(`${sep}a2a${sep}`)))
})

Layering.run()
