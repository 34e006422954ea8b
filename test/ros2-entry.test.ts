// The pcp-edge/ros2 entry point: the one clear error without a usable rclnodejs, rclnodejs kept out of
// everything else, and the example robot run as is (on the STAND-IN, PCP_ROS2_STANDIN=1) in a child.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, type PcpError } from '../runtime/index.js'
import { loadRclnodejs } from '../ros2/load.js'
import { ROOT, tmpDir } from './helpers.js'

const E = suite('ros2 entry point and example')
const codeOf = async (p: Promise<unknown>): Promise<PcpError> => p.then(() => { throw new Error('expected a rejection') }, (e: PcpError) => e)

function runNode (code: string, env: NodeJS.ProcessEnv, args: string[] = []): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const envWithout = (...names: string[]): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  for (const n of names) delete env[n]
  return env
}

E('importing pcp-edge/ros2 without a ROS 2 environment: one clear error, no native build attempted', () => {
  const r = runNode("try { await import('./ros2/index.ts') } catch (e) { console.error(e.code + ': ' + e.message); process.exit(3) }", envWithout('ROS_DISTRO', 'PCP_ROS2_STANDIN'))
  assert.is(r.status, 3, r.stderr)
  assert.match(r.stderr, /^ROS2_UNAVAILABLE: .*source \/opt\/ros\/<distro>\/setup\.bash/m)
  assert.not.match(r.stderr, /gyp|rebuild/)
})

E('loadRclnodejs: rclnodejs not installed → says what to install', async () => {
  const err = await codeOf(loadRclnodejs({
    resolve: () => { throw Object.assign(new Error("Cannot find module 'rclnodejs/package.json'"), { code: 'MODULE_NOT_FOUND' }) },
    importModule: async () => { throw new Error('must not be called') },
    env: { ROS_DISTRO: 'jazzy' }
  }))
  assert.is(err.code, 'ROS2_UNAVAILABLE')
  assert.match(err.message, /npm install rclnodejs/)
  assert.match(err.message, /optional peer dependency/)
})

E('loadRclnodejs: addon fails to load → names the cause and the fix; success returns the default export', async () => {
  let imported = 0
  const err = await codeOf(loadRclnodejs({
    resolve: () => '/x/rclnodejs/package.json',
    importModule: async () => { imported++; throw new Error('Native operation failed: Compilation\nlong build log') },
    env: { ROS_DISTRO: 'humble' }
  }))
  assert.is(imported, 1)
  assert.is(err.code, 'ROS2_UNAVAILABLE')
  assert.match(err.message, /Native operation failed: Compilation\)/)
  assert.match(err.message, /npm rebuild rclnodejs/)
  assert.not.match(err.message, /long build log/)
  const fake = { Node: class {} }
  assert.is(await loadRclnodejs({ resolve: () => 'x', importModule: async () => ({ default: fake }), env: { ROS_DISTRO: 'jazzy' } }), fake)
})

E('nothing outside the ros2 entry point loads rclnodejs at run time (type-only imports elsewhere)', () => {
  const offenders: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name)
      if (statSync(full).isDirectory()) { if (name !== 'node_modules' && !name.startsWith('.') && name !== 'dist') walk(full); continue }
      if (!name.endsWith('.ts')) continue
      const text = readFileSync(full, 'utf8')
      for (const line of text.split('\n')) {
        if (/from ['"]rclnodejs['"]|import\(['"]rclnodejs['"]\)|require\(['"]rclnodejs['"]\)/.test(line) && !/^\s*import type /.test(line) && !/^\s*\/\//.test(line)) offenders.push(`${full.slice(ROOT.length + 1)}: ${line.trim()}`)
      }
    }
  }
  for (const d of ['runtime', 'policy', 'ros2', 'cli', 'sync', 'hub', 'rpi']) { try { walk(join(ROOT, d)) } catch { /* folder not there yet */ } }
  assert.equal(offenders, [])
  // and ros2/load.ts is the one place that imports it, through a specifier it is handed
  assert.match(readFileSync(join(ROOT, 'ros2', 'load.ts'), 'utf8'), /importModule\('rclnodejs'\)/)
})

E('a missing optional ROS 2 tool (@mcap, @foxglove) is one ROS2_TOOLS_MISSING naming it and the install line; other failures pass through', async () => {
  const { loadRos2Tools } = await import('../ros2/tools.js')
  const e = await codeOf(loadRos2Tools('pcp ros2 verify-bag', () => import('@mcap/not-installed-here' as string)))
  assert.equal([e.code, e.field], ['ROS2_TOOLS_MISSING', '@mcap/not-installed-here'])
  assert.match(e.message, /^pcp ros2 verify-bag needs @mcap\/not-installed-here, which a device install leaves out: npm install @foxglove\/rosmsg@5 /)
  const other = await codeOf(loadRos2Tools('x', () => import('left-pad-not-installed' as string)))
  assert.is((other as { code?: string }).code, 'ERR_MODULE_NOT_FOUND')
})

E('the auditor side (ros2/verify, pcp ros2 CLI) works without ROS 2', () => {
  const r = runNode("const v = await import('./ros2/verify.ts'); console.log(v.messageHash({ data: 'hello' }))", envWithout('ROS_DISTRO'))
  assert.is(r.status, 0, r.stderr)
  assert.is(r.stdout.trim(), createHash('sha256').update('{"data":"hello"}').digest('hex'))
})

async function runExample (env: NodeJS.ProcessEnv, signal: NodeJS.Signals): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('ros2', 'examples', 'patrol_robot.ts')], { cwd: ROOT, env })
  let stdout = ''; let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr += d })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const end = Date.now() + 30_000
  while (!stdout.includes('running') && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 20))
  await new Promise((r) => setTimeout(r, 1200)) // ~12 timer ticks
  child.kill(signal)
  return { code: await exited, stdout, stderr }
}

E('the example robot runs as is (on the stand-in), stops cleanly on SIGTERM (systemd) and SIGINT (launch)', async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const tmp = tmpDir('pcp-ros2-example-')
    try {
      const env = { ...envWithout('ROS_DISTRO', 'PCP_RUN_SECONDS'), PCP_HOME: tmp.path, PCP_ROS2_STANDIN: '1', PCP_AGENT: 'patrol' }
      const r = await runExample(env, signal)
      assert.is(r.code, 0, r.stderr)
      assert.match(r.stdout, /chain valid/)
      assert.match(r.stderr, /STAND-IN/)
      const agent = await Agent.open({ name: 'patrol' }, { home: tmp.path })
      try {
        const types = (await agent.history()).map((e) => e.payload.event_type)
        for (const t of ['node_init', 'parameter_declared', 'publisher_created', 'subscription_created', 'service_created', 'timer_created', 'timer_tick', 'topic_publish', 'node_shutdown']) {
          assert.ok(types.includes(t), `missing ${t} in ${types.join(',')}`)
        }
        assert.is(types.at(-1), 'node_shutdown')
        assert.is((await agent.verify()).valid, true)
      } finally { await agent.close() }
    } finally { tmp.cleanup() }
  }
})

E('the systemd unit and the launch file start that same example', () => {
  const unit = readFileSync(join(ROOT, 'ros2', 'examples', 'patrol_robot.service'), 'utf8')
  const launch = readFileSync(join(ROOT, 'ros2', 'examples', 'patrol_robot.launch.py'), 'utf8')
  assert.match(unit, /^ExecStart=.*source \/opt\/ros\/\w+\/setup\.bash && exec node --import tsx ros2\/examples\/patrol_robot\.ts --ros-args -p pcp\.name:=patrol_robot -p pcp\.home:=\/var\/lib\/pcp'$/m)
  assert.match(launch, /cmd=\['node', '--import', 'tsx', 'ros2\/examples\/patrol_robot\.ts'\] \+ ros_args/)
  // configured by parameters (test/ros2-config.test.ts runs the example with them), not by a hard-coded environment
  for (const p of ['pcp.name:=', 'pcp.durability:=', "'pcp.' + name + ':='"]) assert.ok(launch.includes(p), p)
  assert.not.match(launch, /additional_env|PCP_HOME|\/opt\/pcp-edge'/)
  assert.not.match(unit, /PCP_HOME|PCP_AGENT|PCP_PASSPHRASE/)
  assert.ok(statSync(join(ROOT, 'ros2', 'examples', 'patrol_robot.ts')).isFile())
})

E.run()
