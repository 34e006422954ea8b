// ROS-native configuration (issue 16 item 4): pcp.* parameters from --ros-args and params files, the
// passphrase from a file or a systemd credential, ~/pcp/head and /diagnostics. The nodes here run on
// the STAND-IN (ros2/standin — NOT ROS 2); what its parameter API copies from rclnodejs 2.2
// (overrides, read-only descriptors, declaration through the set pipeline) is checked here against
// rclnodejs's documented behaviour (types/node.d.ts, lib/node.js), not against a running rclnodejs.
// The ROS-argument rules (ros2/ros-args.ts) are rcl's as we read them, not checked against rcl here.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, Identity, type PcpError } from '../runtime/index.js'
import { createStandin } from '../ros2/standin/index.js'
import { parseRosArgs, overridesFor, removeRosArgs, PT } from '../ros2/ros-args.js'
import { pcpConfig, readPassphrase } from '../ros2/config.js'
import { PcpRuntime } from '../ros2/pcp-node.js'
import { FAST_SCRYPT_N, ROOT, tmpDir } from './helpers.js'
import { ofType, until } from './ros2-helpers.js'

const C = suite('ros2 configuration')
const STRING = 4; const DOUBLE = 3
const thrown = (fn: () => unknown): PcpError => { try { fn() } catch (e) { return e as PcpError } throw new Error('expected a throw') }
const rejected = async (p: Promise<unknown>): Promise<PcpError> => p.then(() => { throw new Error('expected a rejection') }, (e: PcpError) => e)

C('--ros-args: -p typed as rcl types it, node rules over /** rules, params files nested by dots, the rest kept for the program', () => {
  const tmp = tmpDir('pcp-rosargs-')
  try {
    const file = join(tmp.path, 'p.yaml')
    writeFileSync(file, '/**:\n  ros__parameters:\n    pcp:\n      durability: relaxed\n      latest_wins: [cmd_vel, gripper]\narm:\n  ros__parameters:\n    pcp: { diagnostics_period: 2.5 }\n')
    const argv = ['node', 'robot.ts', '--flag', '--ros-args', '-p', 'pcp.name:=arm', '-p', 'n:=42', '-p', 'x:=1.5', '-p', 'b:=true', '-p', 'l:=[1, 2]',
      '-p', 'arm:pcp.name:=arm-7', '-p', 'pcp.policy.scan:=window:1000', '-r', '__ns:=/r', '--params-file', file, '--', 'tail']
    const args = parseRosArgs(argv)
    const arm = overridesFor(args, 'arm')
    assert.equal(arm.get('pcp.name'), { name: 'pcp.name', type: PT.STRING, value: 'arm-7' })
    assert.equal(overridesFor(args, 'other').get('pcp.name')?.value, 'arm')
    assert.equal([arm.get('n')?.type, arm.get('n')?.value, arm.get('x')?.value, arm.get('b')?.value, arm.get('l')?.value], [PT.INTEGER, 42n, 1.5, true, [1n, 2n]])
    assert.is(arm.get('pcp.policy.scan')?.value, 'window:1000')
    assert.equal([arm.get('pcp.durability')?.value, arm.get('pcp.latest_wins')?.value, arm.get('pcp.diagnostics_period')?.value], ['relaxed', ['cmd_vel', 'gripper'], 2.5])
    assert.is(overridesFor(args, 'other').get('pcp.diagnostics_period'), undefined)
    assert.equal(removeRosArgs(argv), ['node', 'robot.ts', '--flag', 'tail'])
    assert.throws(() => parseRosArgs(['--ros-args', '--bogus']), /unknown ROS argument --bogus/)
    assert.throws(() => parseRosArgs(['--ros-args', '-p', 'noassign']), /expected \[node:\]name:=value/)
  } finally { tmp.cleanup() }
})

C('pcp.* parameters: policies, durability and names checked, a misspelt pcp.* parameter is an error naming it', () => {
  const cfg = (argv: string[]): ReturnType<typeof pcpConfig> => pcpConfig(overridesFor(parseRosArgs(['--ros-args', ...argv]), 'arm'), { name: 'arm' })
  const c = cfg(['-p', 'pcp.policy.scan:=window:1000', '-p', 'pcp.policy.robot.cmd_vel:=nth:10', '-p', 'pcp.timer_policy:=rate:5', '-p', 'pcp.latest_wins:=cmd_vel'])
  assert.equal(c.policies, { scan: { mode: 'window', windowMs: 1000, maxMessages: 10_000 }, 'robot/cmd_vel': { mode: 'nth', n: 10 } })
  assert.equal([c.name, c.durability, c.timerPolicy, c.latestWins, c.diagnosticsPeriodS], ['arm', 'durable', { mode: 'rate', perSecond: 5 }, ['cmd_vel'], 1])
  // The SD-card mode (issue 17 #4): fsync at most every N ms.
  const iv = cfg(['-p', 'pcp.durability:=interval', '-p', 'pcp.sync_interval_ms:=250'])
  assert.equal([iv.durability, iv.syncIntervalMs, iv.parameters.get('pcp.sync_interval_ms')?.value], ['interval', 250, 250n])
  assert.equal([cfg(['-p', 'pcp.durability:=interval']).durability, cfg(['-p', 'pcp.durability:=interval']).syncIntervalMs], ['interval', undefined])
  for (const [argv, field, msg] of [
    [['-p', 'pcp.nmae:=x'], 'pcp.nmae', /unknown parameter pcp\.nmae/],
    [['-p', 'pcp.durability:=fast'], 'pcp.durability', /expected durable, interval or relaxed, got "fast"/],
    [['-p', 'pcp.sync_interval_ms:=500'], 'pcp.sync_interval_ms', /only with pcp\.durability:=interval/],
    [['-p', 'pcp.durability:=interval', '-p', 'pcp.sync_interval_ms:=0'], 'pcp.sync_interval_ms', /a whole number of milliseconds >= 1/],
    [['-p', 'pcp.durability:=interval', '-p', 'pcp.sync_interval_ms:=0.5'], 'pcp.sync_interval_ms', /a whole number of milliseconds >= 1/],
    [['-p', 'pcp.policy.scan:=window'], 'pcp.policy.scan', /every, nth:N, rate:N or window:MS/],
    [['-p', 'pcp.policy.scan:=nth:0'], 'pcp.policy.scan', /got "nth:0"/],
    [['-p', 'pcp.name:=42'], 'pcp.name', /expected a string, got 42/],
    [['-p', 'pcp.timer_policy:=window:10'], 'pcp.timer_policy', /a timer tick has no message/],
    [['-p', 'pcp.diagnostics_period:=-1'], 'pcp.diagnostics_period', /a number >= 0/]
  ] as const) {
    const e = thrown(() => cfg([...argv]))
    assert.equal([e.code, e.field], ['ROS2_CONFIG', field], e.message)
    assert.match(e.message, msg)
  }
})

C('the stand-in parameter API as rclnodejs: overrides fill declarations, NodeOptions win, read-only refuses, a declaration can be vetoed', async () => {
  const ros = createStandin()
  const { Parameter, ParameterDescriptor } = ros.rclnodejs
  await ros.rclnodejs.init(undefined, ['node', 'x', '--ros-args', '-p', 'speed:=2', '-p', 'arm:mode:=fast', '-p', 'mode:=slow'])
  try {
    const node = new ros.rclnodejs.Node('arm', undefined, undefined, { parameterOverrides: [new Parameter('limit', DOUBLE, 9.5)] })
    assert.equal(node.getParameterOverrides().map((p) => [p.name, p.value]), [['speed', 2n], ['mode', 'fast'], ['limit', 9.5]])
    // the override's type and value replace the declared ones (an integer from -p, as rcl types it)
    const [speed] = node.declareParameters([new Parameter('speed', DOUBLE, 0.5)])
    assert.equal([speed!.type, speed!.value], [2, 2n])
    assert.is(node.declareParameter(new Parameter('mode', STRING, 'x'), undefined, true).value, 'x') // ignoreOverride
    assert.is(node.declareParameter(new Parameter('limit', DOUBLE, 1)).value, 9.5)
    // an explicit descriptor must match the type of what is declared (the override here)
    assert.throws(() => node.declareParameter(new Parameter('speed2', STRING, 1 as never)), /Invalid speed2/)
    node.declareParameter(new Parameter('ro', STRING, 'a'), new ParameterDescriptor('ro', STRING, 'fixed', true))
    assert.equal(node.setParameter(new Parameter('ro', STRING, 'b')), { successful: false, reason: 'Parameter ro is readonly' })
    assert.throws(() => node.undeclareParameter('ro'), /read-only/)
    assert.equal([node.getParameterDescriptor('ro').readOnly, node.getParameterDescriptor('nope').type, node.getParameter('nope').type], [true, 0, 0])
    node.addOnSetParametersCallback((ps) => ({ successful: !ps.some((p) => p.name === 'vetoed'), reason: 'no' }))
    assert.throws(() => node.declareParameter(new Parameter('vetoed', STRING, 'v')), /no/)
    assert.equal(node.getParameterNames(), ['speed', 'mode', 'limit', 'ro'])
    const auto = new ros.rclnodejs.Node('auto', undefined, undefined, { automaticallyDeclareParametersFromOverrides: true })
    assert.equal(auto.getParameterNames().sort(), ['mode', 'speed'])
    assert.is(auto.getParameter('mode').value, 'slow') // not arm's rule
  } finally { ros.rclnodejs.shutdown() }
})

C('passphrase: pcp.passphrase_file, then the systemd credential, then PCP_PASSPHRASE; an unreadable one names its path', () => {
  const tmp = tmpDir('pcp-pass-')
  try {
    const creds = join(tmp.path, 'creds'); mkdirSync(creds)
    writeFileSync(join(creds, 'pcp-passphrase'), 'from-credential\n')
    writeFileSync(join(tmp.path, 'pass'), 'from-file\n')
    assert.is(readPassphrase({ file: join(tmp.path, 'pass'), env: { CREDENTIALS_DIRECTORY: creds, PCP_PASSPHRASE: 'env' } }), 'from-file')
    assert.is(readPassphrase({ env: { CREDENTIALS_DIRECTORY: creds, PCP_PASSPHRASE: 'env' } }), 'from-credential')
    assert.is(readPassphrase({ env: { CREDENTIALS_DIRECTORY: join(tmp.path, 'empty'), PCP_PASSPHRASE: 'env' } }), 'env')
    const e = thrown(() => readPassphrase({ file: join(tmp.path, 'missing') }))
    assert.equal([e.code, e.field], ['ROS2_CONFIG', join(tmp.path, 'missing')])
    assert.match(e.message, /ENOENT/)
  } finally { tmp.cleanup() }
})

async function withPcp (argv: string[], env: { [k: string]: string }, fn: (r: { pcp: PcpRuntime, ros: ReturnType<typeof createStandin>, home: string }) => Promise<void>, pre?: (home: string) => Promise<void>): Promise<void> {
  const tmp = tmpDir('pcp-ros2-config-')
  const ros = createStandin()
  const full = ['node', 'robot.ts', '--ros-args', '-p', `pcp.home:=${tmp.path}`, ...argv]
  await ros.rclnodejs.init(undefined, full)
  let pcp: PcpRuntime | undefined
  try {
    await pre?.(tmp.path)
    pcp = await PcpRuntime.open({ nodeName: 'arm', argv: full, env, agent: { scryptN: FAST_SCRYPT_N } })
    await fn({ pcp, ros, home: tmp.path })
  } finally {
    ros.rclnodejs.shutdown()
    await pcp?.close()
    tmp.cleanup()
  }
}

C('pcp.durability:=interval with pcp.sync_interval_ms opens the agent in interval durability with that period', async () => {
  await withPcp(['-p', 'pcp.name:=arm', '-p', 'pcp.durability:=interval', '-p', 'pcp.sync_interval_ms:=250'], {}, async ({ pcp }) => {
    assert.equal([pcp.agent.durability, pcp.agent.store.syncIntervalMs], ['interval', 250])
  })
})

C('an audited node configured by --ros-args: agent, systemd credential, policies, read-only pcp.* parameters, pcp_config stamped', async () => {
  const encrypted = async (home: string): Promise<void> => { await (await Agent.open({ name: 'arm-7' }, { home, passphrase: 'sesame', scryptN: FAST_SCRYPT_N })).close() }
  const creds = tmpDir('pcp-creds-')
  writeFileSync(join(creds.path, 'pcp-passphrase'), 'sesame\n')
  try {
    await withPcp(['-p', 'arm:pcp.name:=arm-7', '-p', 'pcp.policy.scan:=window:1000', '-p', 'pcp.durability:=relaxed'], { CREDENTIALS_DIRECTORY: creds.path }, async ({ pcp, ros }) => {
      assert.equal([pcp.agent.name, pcp.passphraseSource, pcp.agent.durability], ['arm-7', 'credential', 'relaxed'])
      const node = new ros.AuditedNode('arm', pcp.auditOptions())
      pcp.attach(node, { rclnodejs: ros.rclnodejs })
      node.createSubscription('sensor_msgs/msg/LaserScan', 'scan', () => {})
      assert.equal([node.getParameter('pcp.name').value, node.getParameter('pcp.durability').value, node.getParameter('pcp.policy.scan').value], ['arm-7', 'relaxed', 'window:1000'])
      assert.equal(node.setParameter(new ros.rclnodejs.Parameter('pcp.name', STRING, 'other')), { successful: false, reason: 'Parameter pcp.name is readonly' })
      await node.audit.flush()
      const events = await pcp.agent.history()
      const cfg = ofType(events, 'pcp_config')[0]!.payload
      assert.equal([cfg.agent, cfg.passphrase_source, cfg.durability, cfg.head_service, cfg.diagnostics_topic], ['arm-7', 'credential', 'relaxed', '/arm/pcp/head', '/diagnostics'])
      assert.equal(cfg.policies, { scan: 'window:1000:10000' })
      assert.not.ok(JSON.stringify(events.map((e) => e.payload), (_k, v) => typeof v === 'bigint' ? String(v) : v).includes('sesame'))
      assert.is(ofType(events, 'subscription_created')[0]!.payload.audit_mode, 'window')
      assert.equal(ofType(events, 'parameter_declared').map((e) => e.payload.name).sort(), ['pcp.diagnostics_period', 'pcp.durability', 'pcp.home', 'pcp.name', 'pcp.policy.scan'])
      await node.audit.close()
    }, encrypted)
    // without the credential the encrypted key cannot be opened: the passphrase really came from it
    const e = await rejected(withPcp(['-p', 'pcp.name:=arm-7'], {}, async () => {}, encrypted))
    assert.ok(e.code, String(e))
  } finally { creds.cleanup() }
})

C('pcp.identity_file opens that identity (a legacy {identity, private_key} file) instead of an agent by name', async () => {
  const seed = (): Uint8Array => new Uint8Array(32).fill(7) // fromSeed takes ownership of (and wipes) its seed
  const id = Identity.fromSeed(seed(), { now: 1_700_000_000 })
  const dir = tmpDir('pcp-idfile-')
  const file = join(dir.path, 'arm.identity.json')
  writeFileSync(file, JSON.stringify({ identity: id.document(), private_key: Buffer.from(seed()).toString('base64') }))
  try {
    await withPcp(['-p', `pcp.identity_file:=${file}`], {}, async ({ pcp, ros }) => {
      assert.is(pcp.agent.agentId, id.agentId)
      const node = new ros.AuditedNode('arm', pcp.auditOptions())
      pcp.attach(node, { rclnodejs: ros.rclnodejs })
      await node.audit.close()
      const cfg = ofType(await pcp.agent.history(), 'pcp_config')[0]!.payload
      assert.equal([cfg.agent_id, cfg.identity_file], [id.agentId, file])
    })
  } finally { dir.cleanup() }
})

C('a pcp.* value set elsewhere than the ROS arguments (NodeOptions) does not silently differ from the agent opened: ROS2_CONFIG', async () => {
  await withPcp([], {}, async ({ pcp, ros }) => {
    const node = new ros.AuditedNode('arm', undefined, undefined, { parameterOverrides: [new ros.rclnodejs.Parameter('pcp.name', STRING, 'someone-else')] }, pcp.auditOptions())
    const e = thrown(() => pcp.attach(node, { rclnodejs: ros.rclnodejs }))
    assert.equal([e.code, e.field], ['ROS2_CONFIG', 'pcp.name'])
    assert.match(e.message, /is "someone-else", but the agent was opened with "arm"/)
    await node.audit.close()
  })
})

C('~/pcp/head answers the chain head as JSON (std_srvs/Trigger) without moving it; /diagnostics reports backlog, last stamp and store errors', async () => {
  await withPcp(['-p', 'pcp.diagnostics_period:=0.05'], {}, async ({ pcp, ros }) => {
    const node = new ros.AuditedNode('arm', pcp.auditOptions({ onError: () => {} }))
    pcp.attach(node, { rclnodejs: ros.rclnodejs })
    node.spin()
    const monitor = new ros.rclnodejs.Node('monitor'); monitor.spin()
    const seen: Array<{ status: Array<{ level: number, hardware_id: string, values: Array<{ key: string, value: string }> }> }> = []
    monitor.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) => { seen.push(m as typeof seen[number]) })
    await node.audit.flush()
    const client = monitor.createClient('std_srvs/srv/Trigger', '/arm/pcp/head')
    const first = await client.sendRequestAsync({}, { timeout: 2000 })
    const second = await client.sendRequestAsync({}, { timeout: 2000 })
    const head = JSON.parse(first.message)
    const stored = pcp.agent.store.head!
    assert.equal([first.success, head.agent, head.agent_id, head.seq, head.hash, head.durable_seq], [true, 'arm', pcp.agent.agentId, stored.seq, stored.hash, stored.seq])
    assert.equal(JSON.parse(second.message), head, 'asking for the head stamps nothing')
    assert.is((await pcp.agent.history()).length, stored.seq + 1)
    await until(() => seen.length > 0, 3000, '/diagnostics')
    const values = (i: number): Record<string, string> => Object.fromEntries(seen[i]!.status[0]!.values.map((v) => [v.key, v.value]))
    assert.equal([seen[0]!.status[0]!.level, seen[0]!.status[0]!.hardware_id, values(0).backlog, values(0).stamp_failures], [0, pcp.agent.agentId, '0', '0'])
    assert.is(values(0).last_stamp, new Date(stored.timestamp * 1000).toISOString())
    // a real store failure: the agent's store closes under the running node
    await pcp.agent.store.close()
    node.audit.stamp('something', {})
    await node.audit.flush()
    const from = seen.length
    await until(() => seen.length > from, 3000, 'a later /diagnostics')
    const bad = seen.at(-1)!.status[0]!
    assert.is(bad.level, 2)
    assert.equal([values(seen.length - 1).stamp_failures, values(seen.length - 1).last_error], ['1', 'STORE_CLOSED'])
  })
})

C('the example robot takes its agent, home and passphrase file from --ros-args (as the launch file passes them)', async () => {
  const tmp = tmpDir('pcp-ros2-example-args-')
  try {
    await (await Agent.open({ name: 'patrol-7' }, { home: tmp.path, passphrase: 'open sesame', scryptN: FAST_SCRYPT_N })).close()
    writeFileSync(join(tmp.path, 'pass'), 'open sesame\n')
    const env: NodeJS.ProcessEnv = { ...process.env, PCP_ROS2_STANDIN: "1", PCP_RUN_SECONDS: "1", PCP_SCRYPT_N: String(FAST_SCRYPT_N) }
    delete env.PCP_HOME; delete env.PCP_AGENT; delete env.PCP_PASSPHRASE; delete env.ROS_DISTRO
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('ros2', 'examples', 'patrol_robot.ts'), '--ros-args',
      '-p', 'pcp.name:=patrol-7', '-p', `pcp.home:=${tmp.path}`, '-p', `pcp.passphrase_file:=${join(tmp.path, 'pass')}`, '-p', 'pcp.policy.cmd_vel:=every'],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 0, r.stderr)
    assert.match(r.stdout, /chain valid/)
    const agent = await Agent.open({ name: 'patrol-7' }, { home: tmp.path, passphrase: 'open sesame', scryptN: FAST_SCRYPT_N })
    try {
      const events = await agent.history()
      const cfg = ofType(events, 'pcp_config')[0]!.payload
      assert.equal([cfg.agent, cfg.passphrase_source, (cfg.policies as Record<string, string>).cmd_vel], ['patrol-7', 'file', 'every'])
      assert.is(ofType(events, 'publisher_created').find((e) => e.payload.topic === '/cmd_vel')!.payload.audit_mode, 'every')
    } finally { await agent.close() }
  } finally { tmp.cleanup() }
})

C.run()
