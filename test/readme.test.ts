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
})

// The run line each example's header documents, run by sh exactly as written (plus the environment
// a test needs: the ROS 2 stand-in and a bounded run time for the robot).
const runLine = (file: string, re: RegExp): string => {
  const m = re.exec(readFileSync(join(ROOT, file), 'utf8'))
  assert.ok(m, `${file} documents its run line`)
  return m![1]!.trim()
}
const sh = (line: string, env: Record<string, string> = {}): { status: number | null, stdout: string, stderr: string } =>
  spawnSync('sh', ['-c', line], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })

Readme('the quickstart runs with its documented line and prints what it promises, on every run, whatever PCP_HOME is', () => {
  const line = runLine('examples/quickstart.ts', /Run: (.*)$/m)
  const home = tmpDir()
  try {
    for (let i = 0; i < 2; i++) {
      const r = sh(line, { PCP_HOME: home.path })
      assert.is(r.status, 0, r.stderr)
      assert.is(r.stdout.trim().split('\n').at(-1), '2 events, valid: true')
    }
  } finally { home.cleanup() }
})

Readme('the robot and A2A examples run with their documented lines', () => {
  const robot = runLine('ros2/examples/patrol_robot.ts', /^\/\/ {3}(npx tsx ros2\/examples\/patrol_robot\.ts)$/m)
  const home = tmpDir()
  try {
    let r = sh(robot, { PCP_ROS2_STANDIN: '1', PCP_RUN_SECONDS: '1', PCP_HOME: home.path })
    assert.is(r.status, 0, r.stderr)
    const a2a = runLine('examples/a2a-robot-commands-pi.ts', /^\/\/ {3}(PCP_HOME=.*robot-commands-pi\.ts) \[out\.json\]$/m)
    r = sh(a2a, { PCP_MQTT_URL: '' })
    assert.is(r.status, 0, r.stderr + r.stdout)
  } finally { home.cleanup() }
})

Readme('every npm script and pcp command the README names exists', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  for (const [, script] of readme.matchAll(/npm run (?:--silent )?([a-z:][a-z:-]*)/g)) assert.ok(pkg.scripts[script!], `npm run ${script}`)
  const help = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), '--help'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env } }).stdout
  for (const [, cmd] of readme.matchAll(/`pcp ([a-z0-9-]+)/g)) assert.ok(help.includes(`  ${cmd}`), `pcp ${cmd} is a command`)
})

Readme('the Dependencies section names what package.json installs: runtime, bundled and optional peers', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const section = readme.slice(readme.indexOf('## Dependencies\n'), readme.indexOf('## Tests\n'))
  const names = (from: string, to: string): string[] => {
    const part = section.slice(section.indexOf(from), section.indexOf(to))
    return [...part.matchAll(/`(@?[a-z0-9][a-z0-9./-]*)`/g)].map((m) => m[1]!).filter((n) => !n.startsWith('pcp-edge') && (n.startsWith('@') || !n.includes('/'))).sort()
  }
  // A reader auditing the supply chain takes this list at its word (it once named level, cbor-x, aedes and
  // fastify as installed dependencies: the first two are bundled, the others optional peers).
  assert.equal(names('Runtime:', 'Bundled into'), Object.keys(pkg.dependencies).sort())
  assert.equal(names('Bundled into', 'Optional peers:'), ['cbor-x', 'level'])
  assert.equal(names('Optional peers:', 'Everything else'), Object.keys(pkg.peerDependencies).sort())
})

Readme.run()
