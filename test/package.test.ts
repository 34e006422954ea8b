// What a user installs, not the source checkout: `npm pack` (which builds), the tarball installed into an
// empty project, every README import from plain Node ESM and from TypeScript, `npx pcp`, the hub stack
// added as the README says, and the deploy folder run from a copy in an empty directory. Slow (pack +
// two installs, from npm's local cache), so it packs once and every check reuses the installed project.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync, spawn } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, tmpDir } from './helpers.js'

const Pkg = suite('package')
const work = tmpDir('pcp-pack-')
const app = join(work.path, 'app')
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
let tarball = ''

// npm run by the test runner passes npm_* settings down; a consumer's npm would not have them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
function sh (line: string, cwd: string, extra: Record<string, string> = {}): { status: number | null, out: string, stdout: string, stderr: string } {
  const t0 = Date.now()
  const r = spawnSync('sh', ['-c', line], { cwd, encoding: 'utf8', env: { ...env, ...extra }, timeout: 240_000 })
  if (process.env.PCP_TEST_VERBOSE) process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s  ${line}\n`)
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr }
}
function sectionBlock (title: string): string[] {
  const at = readme.indexOf(`## ${title}\n`)
  assert.ok(at >= 0, `README has "## ${title}"`)
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))![1]!
  return block.split('\n').filter((l) => l.trim())
}
function bytesOf (p: string): number {
  const s = statSync(p)
  return s.isDirectory() ? readdirSync(p).reduce((n, e) => n + bytesOf(join(p, e)), 0) : s.size
}
const stripComment = (line: string): string => line.replace(/\s+#.*$/, '')

Pkg('npm pack builds first, and the tarball holds the compiled package', () => {
  const r = sh(`npm pack --pack-destination ${JSON.stringify(work.path)}`, ROOT)
  assert.is(r.status, 0, r.out)
  tarball = join(work.path, readdirSync(work.path).find((f) => f.endsWith('.tgz'))!)
  const list = sh(`tar -tzf ${JSON.stringify(tarball)}`, work.path).stdout
  for (const f of ['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/cli/main.js', 'dist/vendor/level.js', 'dist/vendor/cbor-x.js', 'dist/hub/vigil/index.d.ts', 'dist/hub/trustgate/profiles/nist_balanced.yaml', 'bin/pcp.js', 'rpi/examples/pcp-fan.service', 'dist/vendor/level.d.ts', 'dist/hub/vigil/dashboard/verify.html']) {
    assert.ok(list.includes(`package/${f}\n`), `${f} is in the tarball`)
  }
  assert.not.ok(list.includes('package/dist/deploy/'), 'deploy folders stay out of the package')
  // Every exports-map target exists in the tarball.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> }
  for (const [sub, target] of Object.entries(pkg.exports)) {
    for (const [cond, file] of Object.entries(typeof target === 'string' ? { default: target } : target)) {
      if (cond !== 'pcp-source') assert.ok(list.includes(`package/${file.replace(/^\.\//, '')}\n`), `exports ${sub} ${cond} → ${file}`)
    }
  }
})

Pkg('a device install is quiet, compiles nothing, leaves out the hub stack, and is as large as the README says', () => {
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }))
  const [device] = sectionBlock('Install as a library')
  const r = sh(stripComment(device!).replace('pcp-edge', JSON.stringify(tarball)) + ' --no-audit --no-fund --prefer-offline', app)
  assert.is(r.status, 0, r.out)
  for (const noise of ['EBADENGINE', 'install-scripts', 'gyp', 'deprecated', 'ERR']) assert.not.ok(r.out.includes(noise), `install printed ${noise}:\n${r.out}`)
  const nm = join(app, 'node_modules')
  for (const absent of ['fastify', 'aedes', 'pino', 'prom-client', 'level', 'classic-level', 'cbor-extract', 'cbor-x', 'node-gyp', '@mcap/core', '@foxglove']) assert.not.ok(existsSync(join(nm, absent)), `${absent} is not installed`)
  const packages = Number(/added (\d+) packages/.exec(r.out)?.[1])
  const mb = bytesOf(nm) / 1e6
  const stated = /A device install is (\d+) packages, about (\d+) MB/.exec(readme)
  assert.ok(stated, 'README states the device install size')
  assert.is(packages, Number(stated![1]), `packages installed: ${packages}, ${mb.toFixed(1)} MB`)
  assert.ok(Math.abs(mb - Number(stated![2])) <= 2, `installed size ${mb.toFixed(1)} MB, README says ${stated![2]} MB`)
})

const deviceImports = `
import { Agent, verifyAuditExport, AgentSession, A2ANode, loadAgentSigner, parseJson, stringifyJson, Float } from 'pcp-edge'
import { SyncAgent, DeviceGate, MqttA2ATransport } from 'pcp-edge/sync'
import { AuditedPiAgent, AuditedGpio, SimulatedPi } from 'pcp-edge/rpi'
import { messageHash } from 'pcp-edge/ros2/verify'
import * as browser from 'pcp-edge/browser'
import { readFileSync } from 'node:fs'
const names = { Agent, verifyAuditExport, AgentSession, A2ANode, loadAgentSigner, parseJson, stringifyJson, Float, SyncAgent, DeviceGate, MqttA2ATransport, AuditedPiAgent, AuditedGpio, SimulatedPi, messageHash, browserVerify: browser.verifyAuditExport }
for (const [k, v] of Object.entries(names)) if (typeof v !== 'function') throw new Error(k + ' is ' + typeof v)
const home = process.argv[2]
const agent = await Agent.open({ name: 'arm-1' }, { home })
await agent.stamp('move', { x: new Float(25) })
await agent.export(home + '/a.json')
await agent.close()
const { report } = verifyAuditExport(parseJson(readFileSync(home + '/a.json', 'utf8')))
// pcp-edge/browser is the browser bundle (portable crypto, no Node built-ins); it gives the same verdict.
const b = browser.verifyAuditExport(browser.parseJson(readFileSync(home + '/a.json', 'utf8'))).report
console.log(report.event_count + ' ' + report.valid + ' ' + b.event_count + ' ' + b.valid)
`

Pkg('every device API imports from plain Node ESM and works from the installed package', () => {
  writeFileSync(join(app, 'device.mjs'), deviceImports)
  const r = sh('node device.mjs "$PWD/home-esm"', app, { PCP_ROS2_STANDIN: '1' })
  assert.is(r.status, 0, r.out)
  assert.is(r.stdout.trim(), '1 true 1 true')
  // Without rclnodejs and without the stand-in, pcp-edge/ros2 says what to install; the stand-in needs the ROS 2 tools.
  const probe = `node -e "import('pcp-edge/ros2').then((m) => console.log(typeof m.AuditedNode), (e) => console.log(e.code))"`
  const ros = sh(probe, app)
  assert.is(ros.stdout.trim(), 'ROS2_UNAVAILABLE', ros.out)
  assert.is(sh(probe, app, { PCP_ROS2_STANDIN: '1' }).stdout.trim(), 'ROS2_TOOLS_MISSING')
})

Pkg('npx pcp runs from the installed package; the README example lines work; the hub says what it lacks', () => {
  const home = { PCP_HOME: join(app, 'home-cli') }
  const help = sh('npx --no-install pcp --help', app)
  assert.is(help.status, 0, help.out)
  assert.match(help.stdout, /Usage: pcp/)
  const at = readme.indexOf('## Example\n')
  const lines = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))![1]!.split('\n').filter((l) => l.trim()).map(stripComment)
  for (const line of lines) {
    const r = sh(line, app, { ...home, PCP_PASSPHRASE: 'correct horse' })
    assert.is(r.status, 0, `${line}\n${r.out}`)
  }
  const hub = sh('npx --no-install pcp hub start --local-only --port 0', app, home)
  assert.is(hub.status, 2, hub.out)
  assert.match(hub.stderr, /^pcp: the hub needs (fastify|aedes|pino|prom-client), which a device install leaves out: npm install fastify@5 aedes@1 pino@10 prom-client@15 \[HUB_STACK_MISSING\]\n$/)
  // The sync agent's structured log needs pino too; without --log-level `pcp sync run` needs nothing more.
  const logged = sh('npx --no-install pcp sync run --url mqtt://127.0.0.1:1 --log-level info', app, home)
  assert.is(logged.status, 2, logged.out)
  assert.match(logged.stderr, /^pcp: a structured log needs pino, which a device install leaves out: npm install pino@10 \[LOG_STACK_MISSING\]\n$/)
})

Pkg('the ROS 2 tools install adds bags and the stand-in: a bag recorded and verified from the installed package', () => {
  const vb = sh('npx --no-install pcp ros2 verify-bag run.mcap --chain rec.json', app)
  assert.is(vb.status, 2, vb.out)
  assert.match(vb.stderr, /^pcp: pcp ros2 verify-bag needs @(foxglove|mcap)\/[a-z0-9-]+, which a device install leaves out: npm install @foxglove\/rosmsg@5 .*@mcap\/core@2 \[ROS2_TOOLS_MISSING\]\n$/)
  const rosLine = stripComment(sectionBlock('Install as a library')[2]!)
  const r = sh(rosLine.replace('pcp-edge', JSON.stringify(tarball)) + ' --no-audit --no-fund --prefer-offline', app)
  assert.is(r.status, 0, r.out)
  const probe = sh(`node -e "import('pcp-edge/ros2').then((m) => console.log(typeof m.AuditedNode), (e) => console.log(e.code))"`, app, { PCP_ROS2_STANDIN: '1' })
  assert.is(probe.stdout.trim(), 'function', probe.out)
  const home = { PCP_HOME: join(app, 'home-ros2'), PCP_ROS2_STANDIN: '1' }
  for (const line of ['npx --no-install pcp ros2 record -o run.mcap --topic /scan:sensor_msgs/msg/LaserScan --duration 0.3', 'npx --no-install pcp export pcp_recorder -o rec.json']) {
    const step = sh(line, app, home)
    assert.is(step.status, 0, `${line}\n${step.out}`)
  }
  // The recorder's node is alone on its stand-in graph (a stand-in graph is one process), so the bag is
  // empty: what this proves is that record (MCAP writer, bundled schemas) and verify-bag (MCAP reader)
  // run from the installed package with the tools installed.
  const types = (JSON.parse(readFileSync(join(app, 'rec.json'), 'utf8')) as { events: Array<{ payload: { event_type: string } }> }).events.map((e) => e.payload.event_type)
  assert.equal(types.filter((t) => t.startsWith('bag_')), ['bag_opened', 'bag_topic', 'bag_closed'])
  const checked = sh('npx --no-install pcp ros2 verify-bag run.mcap --chain rec.json', app, home)
  assert.is(checked.status, 1, checked.out)
  assert.match(checked.stdout, /^INVALID: 0 proven, 0 altered, 0 missing, 0 inserted \(run\.mcap\)\n {2}! the chain holds no window of this bag/)
})

Pkg('the files the README sends a Pi user and an auditor to are in the installed package', () => {
  const pkgDir = join(app, 'node_modules/pcp-edge')
  // "sudo cp node_modules/pcp-edge/rpi/examples/pcp-fan.service /etc/systemd/system/"
  const unit = /`sudo cp (node_modules\/pcp-edge\/\S+\.service) /.exec(readme)
  assert.ok(unit, 'README says where the installed unit is')
  const text = readFileSync(join(app, unit![1]!), 'utf8')
  const exec = /^ExecStart=\/usr\/bin\/node \/opt\/pcp-fan\/(\S+)$/m.exec(text)
  assert.ok(exec && existsSync(join(app, exec[1]!)), `ExecStart names an installed file: ${exec?.[1]}`)
  // The offline verifier page: the path the README gives, with every script and stylesheet it loads beside it.
  const page = /open\s+`(node_modules\/pcp-edge\/[^`]+verify\.html)`/.exec(readme)
  assert.ok(page, 'README names the installed verify.html')
  const html = readFileSync(join(app, page![1]!), 'utf8')
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
  assert.ok(assets.includes('verifier.js'), assets.join(' '))
  for (const a of [...assets, 'anchors.js']) assert.ok(existsSync(join(pkgDir, 'dist/hub/vigil/dashboard', a)), `verify.html's ${a} is installed beside it`)
})

Pkg('the hub install adds the server stack; hub, Vigil and TrustGate import and `pcp hub start` serves', async () => {
  const hubLine = stripComment(sectionBlock('Install as a library')[1]!)
  const r = sh(hubLine.replace('pcp-edge', JSON.stringify(tarball)) + ' --no-audit --no-fund --prefer-offline', app)
  assert.is(r.status, 0, r.out)
  assert.not.ok(/install-scripts|gyp/.test(r.out), r.out)
  writeFileSync(join(app, 'hub.mjs'), `
import { Hub, startEmbeddedBroker } from 'pcp-edge/hub'
import { VigilEngine } from 'pcp-edge/vigil'
import { evaluate, loadProfile } from 'pcp-edge/trustgate'
const d = evaluate({ agent_id: 'a', role: 'operator', action: 'read_file', payload: {}, vrs: 0.1, tsi_state: 'STABLE', timestamp: 1 }, loadProfile('nist_balanced'))
console.log([Hub, startEmbeddedBroker, VigilEngine].map((f) => typeof f).join(' '), typeof d.outcome)
`)
  const imp = sh('node hub.mjs', app)
  assert.is(imp.status, 0, imp.out)
  assert.is(imp.stdout.trim(), 'function function function string')
  // The real hub from the installed package: embedded broker, APIs and dashboard files from dist/.
  // node on the installed bin, not npx: a signal to npx would not reach the hub it starts.
  const child = spawn(process.execPath, [join(app, 'node_modules/pcp-edge/bin/pcp.js'), 'hub', 'start', '--local-only', '--port', '0', '--vigil-port', '0', '--trustgate-port', '0', '--json', '--data', join(app, 'hubdata')], { cwd: app, env })
  let out = ''; let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d }) // the hub's pino log

  try {
    const deadline = Date.now() + 60_000
    while (!/"dashboard"/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100))
    const info = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { dashboard: string }
    const page = await fetch(info.dashboard)
    assert.is(page.status, 200, out + err)
    // The verifier page and both bundles come from the installed package, byte for byte.
    for (const f of ['verify.html', 'verifier.js', 'anchors.js']) {
      const res = await fetch(info.dashboard + f)
      assert.is(res.status, 200, f)
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(app, 'node_modules/pcp-edge/dist/hub/vigil/dashboard', f))), `${f} is the installed file`)
    }
  } finally { child.kill('SIGTERM') }
})

Pkg('TypeScript sees the types of every README API', () => {
  writeFileSync(join(app, 'check.ts'), `
import { Agent, verifyAuditExport, AgentSession, A2ANode, parseJson, type AissEvent } from 'pcp-edge'
import { Agent as Aiss2Agent } from 'pcp-edge/aiss2'
import { SyncAgent, DeviceGate, MqttA2ATransport } from 'pcp-edge/sync'
import { AuditedPiAgent, serviceKey } from 'pcp-edge/rpi'
import { messageHash } from 'pcp-edge/ros2/verify'
import { loadPolicy } from 'pcp-edge/policy'
import { verifyTimestampToken, Anchorer } from 'pcp-edge/tsa'
import { verifyAuditExport as verifyInBrowser } from 'pcp-edge/browser'
import { Hub } from 'pcp-edge/hub'
import { VigilEngine } from 'pcp-edge/vigil'
import { evaluate } from 'pcp-edge/trustgate'
const agent: Agent = await Agent.open({ name: 'arm-1' }, { home: '/tmp/x' })
const e: AissEvent = await agent.stamp('move', { x: 1 })
// @ts-expect-error: a number is not an event type (the types are real, not any)
await agent.stamp(42)
void [e, verifyAuditExport(parseJson('{}')), AgentSession, A2ANode, SyncAgent, DeviceGate, MqttA2ATransport, AuditedPiAgent, Hub, VigilEngine, evaluate, Aiss2Agent, serviceKey, messageHash, loadPolicy, verifyTimestampToken, Anchorer, verifyInBrowser]
`)
  // tsc --init's defaults for a Node ESM project, but with skipLibCheck off, as strict projects run it:
  // the shipped .d.ts must resolve every import (they once named the vendored 'level', not installed).
  // @types/node is the user's own (ours, through typeRoots, instead of one more install).
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: ['check.ts'] }))
  const r = sh(`${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'node_modules/typescript/bin/tsc'))} -p .`, app)
  assert.is(r.status, 0, r.out)
})

Pkg('the deploy folder runs with plain node from a copy in an empty directory, with one target\'s addon only', () => {
  const [build, , run] = sectionBlock('Deploy to a device').map(stripComment)
  const b = sh(build!, ROOT)
  assert.is(b.status, 0, b.out)
  const arm = join(ROOT, 'dist/deploy/linux-arm64')
  assert.equal(readdirSync(join(arm, 'prebuilds')), ['linux-arm64'])
  assert.equal(readdirSync(arm).sort(), ['pcp-core.mjs', 'prebuilds', 'stamp.mjs'])
  const x64 = sh('npm run deploy -- --target linux-x64', ROOT)
  assert.is(x64.status, 0, x64.out)
  const device = tmpDir('pcp-device-')
  try {
    cpSync(join(ROOT, 'dist/deploy/linux-x64'), join(device.path, 'pcp'), { recursive: true })
    const home = { PCP_HOME: join(device.path, 'data') }
    const first = sh(run!, device.path, home)
    assert.is(first.status, 0, first.out)
    assert.is(first.stdout.trim(), 'arm-1: 1 events, valid: true')
    const second = sh(run!, device.path, home)
    assert.is(second.stdout.trim(), 'arm-1: 2 events, valid: true', second.out)
  } finally { device.cleanup() }
})

Pkg.after(() => work.cleanup())
Pkg.run()
