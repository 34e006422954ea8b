// Tamper-evident MCAP bags: a real MCAP file written by BagRecorder from the STAND-IN ROS graph
// (ros2/standin, NOT ROS 2: real CDR from the real ROS 2 definitions), a real Agent, and
// `pcp ros2 verify-bag` run as a child process on the file and the chain's audit export. One flipped
// byte, one deleted message and one inserted message are each found, with topic, log time and sequence.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { McapWriter } from '@mcap/core'
import { Agent, verifyAuditExport } from '../runtime/index.js'
import { createStandin } from '../ros2/standin/index.js'
import { BagRecorder } from '../ros2/recorder.js'
import { readBag } from '../ros2/bag.js'
import { parseRos2msg } from '../ros2/schema.js'
import { verifyBag } from '../ros2/verify-bag.js'
import { MessageReader } from '@foxglove/rosmsg2-serialization'
import { ROOT, tmpDir } from './helpers.js'
import { until } from './ros2-helpers.js'

const B = suite('ros2 tamper-evident MCAP bags (stand-in ROS graph, real Agent, real MCAP file)')

interface Recorded { dir: string, bag: string, chain: string, cleanup: () => void, publisherChain: string }

/** Records 12 LaserScans and 5 Strings through BagRecorder; writes the recorder's and the publisher's exports. */
async function record (): Promise<Recorded> {
  const tmp = tmpDir('pcp-bag-')
  const ros = createStandin()
  await ros.rclnodejs.init()
  const agent = await Agent.open({ name: 'recorder' }, { home: tmp.path })
  const robotAgent = await Agent.open({ name: 'robot' }, { home: tmp.path })
  const bag = join(tmp.path, 'run.mcap')
  const recNode = new ros.rclnodejs.Node('pcp_recorder'); recNode.spin()
  const rec = await BagRecorder.start({ node: recNode, stamper: agent, file: bag, windowMs: 60_000, maxMessages: 5, topics: [
    { topic: '/scan', type: 'sensor_msgs/msg/LaserScan' }, { topic: '/chatter', type: 'std_msgs/msg/String' }] })
  const robot = new ros.AuditedNode('robot', { stamper: robotAgent, policies: { scan: { mode: 'window', windowMs: 60_000, maxMessages: 12 } } })
  const scan = robot.createPublisher('sensor_msgs/msg/LaserScan', 'scan')
  const chat = new ros.rclnodejs.Node('talker').createPublisher('std_msgs/msg/String', 'chatter')
  for (let i = 0; i < 12; i++) {
    scan.publish({ header: { frame_id: 'laser' }, angle_increment: 0.01, ranges: Array.from({ length: 8 }, (_, k) => 0.1 * (i + k)) })
    if (i < 5) chat.publish({ data: `hello ${i}` })
    await new Promise((r) => setImmediate(r))
  }
  await until(() => rec.messages === 17)
  await rec.close()
  await robot.audit.close()
  const exp = async (a: Agent, file: string): Promise<string> => { await a.export(file); return file }
  const chain = await exp(agent, join(tmp.path, 'recorder.json'))
  const publisherChain = await exp(robotAgent, join(tmp.path, 'robot.json'))
  await agent.close(); await robotAgent.close()
  ros.rclnodejs.shutdown()
  return { dir: tmp.path, bag, chain, publisherChain, cleanup: tmp.cleanup }
}

function verify (bag: string, chain: string): { status: number | null, json: any, stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), 'ros2', 'verify-bag', bag, '--chain', chain, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  let json: unknown = null
  try { json = JSON.parse(r.stdout) } catch { /* reported below */ }
  return { status: r.status, json, stderr: r.stderr }
}

/** Rewrites a bag as an attacker with @mcap/core would: a valid MCAP file, messages edited by `edit`. */
async function rewrite (src: string, dst: string, edit: (msgs: ReturnType<typeof readBag>['messages']) => ReturnType<typeof readBag>['messages']): Promise<void> {
  const bag = readBag(readFileSync(src))
  const fh = await open(dst, 'w')
  let pos = 0n
  const w = new McapWriter({ writable: { write: async (b: Uint8Array) => { await fh.write(b); pos += BigInt(b.length) }, position: () => pos } })
  await w.start({ profile: 'ros2', library: 'attacker' })
  for (const m of bag.metadata) await w.addMetadata(m)
  const ch = new Map<string, number>()
  for (const m of bag.messages) {
    if (!ch.has(m.topic)) ch.set(m.topic, await w.registerChannel({ topic: m.topic, messageEncoding: 'cdr', schemaId: await w.registerSchema({ name: m.type, encoding: 'ros2msg', data: new Uint8Array() }), metadata: new Map() }))
  }
  for (const m of edit(bag.messages)) await w.addMessage({ channelId: ch.get(m.topic)!, sequence: m.sequence, logTime: m.logTime, publishTime: m.publishTime, data: m.data })
  await w.end(); await fh.close()
}

// One recording for the suite (each CLI child costs seconds on a loaded machine); each test tampers with its own copy.
let shared: Promise<Recorded> | undefined
const recorded = (): Promise<Recorded> => (shared ??= record())

B('the recorder writes a real ros2 MCAP bag: profile ros2, ros2msg schemas that decode its cdr messages; an untouched bag is proven (exit 0)', async () => {
  const r = await recorded()
  {
    const bytes = readFileSync(r.bag)
    assert.equal([...bytes.subarray(0, 8)], [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a], 'MCAP magic')
    const bag = readBag(bytes)
    assert.is(bag.profile, 'ros2')
    assert.is(bag.truncated, null)
    assert.is(bag.messages.length, 17)
    // decode a message with nothing but the schema stored in the bag (what Foxglove does)
    const { McapStreamReader } = await import('@mcap/core')
    const reader = new McapStreamReader(); reader.append(bytes)
    let schema = ''; let rec
    while ((rec = reader.nextRecord())) if (rec.type === 'Schema' && rec.name === 'sensor_msgs/msg/LaserScan') { assert.is(rec.encoding, 'ros2msg'); schema = new TextDecoder().decode(rec.data) }
    assert.match(schema, /^MSG: std_msgs\/msg\/Header$/m)
    const scan = new MessageReader(parseRos2msg(schema)).readMessage<{ header: { frame_id: string }, ranges: Float32Array }>(bag.messages.find((m) => m.topic === '/scan')!.data)
    assert.is(scan.header.frame_id, 'laser')
    assert.is(scan.ranges.length, 8)
    const v = verify(r.bag, r.chain)
    assert.is(v.status, 0, v.stderr)
    assert.equal([v.json.valid, v.json.counts], [true, { proven: 17, altered: 0, missing: 0, inserted: 0 }])
  }
})

B('one flipped byte in one message: that message is altered (topic, sequence, log time), the rest proven, exit 1', async () => {
  const r = await recorded()
  {
    const bytes = readFileSync(r.bag)
    const target = readBag(bytes).messages.find((m) => m.topic === '/scan' && m.sequence === 7)!
    const at = bytes.indexOf(Buffer.from(target.data))
    assert.ok(at > 0)
    bytes[at + target.data.length - 1]! ^= 0x01
    const bad = join(r.dir, 'flipped.mcap'); writeFileSync(bad, bytes)
    const v = verify(bad, r.chain)
    assert.is(v.status, 1, v.stderr)
    const altered = v.json.messages.filter((m: { status: string }) => m.status !== 'proven')
    assert.equal(altered, [{ topic: '/scan', sequence: 7, log_time: String(target.logTime), status: 'altered', window: altered[0].window }])
    assert.is(v.json.counts.proven, 16)
  }
})

B('a deleted message is missing and an inserted one is inserted, even in a rewritten, well-formed MCAP file', async () => {
  const r = await recorded()
  {
    const del = join(r.dir, 'deleted.mcap')
    await rewrite(r.bag, del, (ms) => ms.filter((m) => !(m.topic === '/chatter' && m.sequence === 3)))
    const d = verifyBag(readBag(readFileSync(del)), JSON.parse(readFileSync(r.chain, 'utf8')).events)
    assert.is(d.valid, false)
    assert.equal(d.messages.filter((m) => m.status !== 'proven').map((m) => [m.topic, m.sequence, m.status, typeof m.log_time]), [['/chatter', 3, 'missing', 'bigint']])
    const ins = join(r.dir, 'inserted.mcap')
    await rewrite(r.bag, ins, (ms) => {
      const copy = ms.slice()
      const src = ms.find((m) => m.topic === '/chatter')!
      copy.push({ ...src, sequence: 6, logTime: src.logTime + 1n, data: src.data }) // a replayed message
      copy.push({ ...src, sequence: 2, data: Uint8Array.from([0, 1, 0, 0, 2, 0, 0, 0, 120, 0]) }) // a second "seq 2"
      return copy
    })
    const i = verifyBag(readBag(readFileSync(ins)), JSON.parse(readFileSync(r.chain, 'utf8')).events)
    assert.is(i.valid, false)
    assert.equal(i.messages.filter((m) => m.status !== 'proven').map((m) => [m.topic, m.sequence, m.status]), [['/chatter', 2, 'inserted'], ['/chatter', 6, 'inserted']])
    assert.is(i.counts.proven, 17)
  }
})

B('the publisher\'s own window digests prove the same bag (both hash the same CDR bytes); bad inputs exit 2', async () => {
  const r = await recorded()
  {
    const bag = readBag(readFileSync(r.bag))
    const pubEvents = JSON.parse(readFileSync(r.publisherChain, 'utf8')).events
    const rep = verifyBag({ ...bag, messages: bag.messages.filter((m) => m.topic === '/scan') }, pubEvents)
    assert.equal([rep.valid, rep.counts.proven, rep.windows[0]!.proven], [true, 12, true])
    const notMcap = join(r.dir, 'x.mcap'); writeFileSync(notMcap, 'not a bag')
    assert.is(verify(notMcap, r.chain).status, 2)
    // a chain whose events were edited is not trusted to prove anything (verify-bag checks it as pcp verify does)
    const doc = JSON.parse(readFileSync(r.chain, 'utf8'))
    doc.events[2].payload.count = 99
    assert.is(verifyAuditExport(doc).usable && (verifyAuditExport(doc) as { report: { valid: boolean } }).report.valid, false)
  }
})

B.after(async () => { (await shared)?.cleanup() })

B.run()
