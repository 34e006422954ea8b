// Untested docs drift: the README's example is a real file, run here, and the commands it names exist.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT, tmpDir } from './helpers.js'

const Readme = suite('readme')
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

Readme('the example block is the code of examples/quickstart.ts, and it runs', () => {
  const example = readFileSync(join(ROOT, 'examples/quickstart.ts'), 'utf8')
  const block = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  for (const line of block.split('\n').filter((l) => l.trim())) assert.ok(example.includes(line), `README line not in the example: ${line}`)
  const home = tmpDir()
  try {
    const r = spawnSync(process.execPath, ['--conditions=pcp-source', '--import', 'tsx', 'examples/quickstart.ts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCP_HOME: home.path } })
    assert.is(r.status, 0, r.stderr)
    assert.is(r.stdout.trim(), '2 events, valid: true')
  } finally { home.cleanup() }
})

Readme('every npm script and pcp command the README names exists', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  for (const [, script] of readme.matchAll(/npm run (?:--silent )?([a-z:][a-z:-]*)/g)) assert.ok(pkg.scripts[script!], `npm run ${script}`)
  const help = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), '--help'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env } }).stdout
  for (const [, cmd] of readme.matchAll(/`pcp ([a-z0-9-]+)/g)) assert.ok(help.includes(`  ${cmd}`), `pcp ${cmd} is a command`)
})

Readme.run()
