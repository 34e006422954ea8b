// scripts/bench.ts's command line: --help answers and an unknown option is refused, each without
// starting the 10-minute run (before, both started the full bench).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './helpers.js'

const B = suite('bench command line')
const bench = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })

B('--help prints the usage and runs nothing', () => {
  const r = bench('--help')
  assert.is(r.status, 0, String(r.stderr))
  assert.match(String(r.stdout), /^usage: npm run bench/)
  assert.match(String(r.stdout), /--only SECTION {2}run one section: ros2, device/)
  assert.not.match(String(r.stdout), /bare sign|events\/s/)
})

B('an unknown option, an unknown section or a stray word is refused with exit 2 and the usage', () => {
  for (const args of [['--bogus'], ['--only', 'nope'], ['ingest']]) {
    const r = bench(...args)
    assert.is(r.status, 2, `${args.join(' ')}: ${String(r.stdout)}${String(r.stderr)}`)
    assert.match(String(r.stderr), /^bench: /)
  }
})

B.run()
