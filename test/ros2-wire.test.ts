// The wire-bytes recipe and publish order, on the STAND-IN ROS graph (ros2/standin, NOT ROS 2: real CDR
// from the real ROS 2 definitions) with a real Agent: what the publisher stamps is what the subscriber
// and a bag see; gated publishes leave in call order; MessageInfo and QoS are recorded.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { messageHash, wireHash, hashForRecipe, WIRE_HASH_RECIPE, MSG_HASH_RECIPE } from '../ros2/msg-hash.js'
import { withRig, chain, ofType, until, cdrHash } from './ros2-helpers.js'

const W = suite('ros2 wire-bytes recipe and publish order (stand-in ROS graph, real Agent)')

W('publisher and subscriber msg_hash agree for partial messages, float32 fields and typed arrays', async () => {
  await withRig(async ({ agent, ros }) => {
    const talker = new ros.AuditedNode('talker', { stamper: agent })
    const listener = new ros.AuditedNode('listener', { stamper: agent })
    listener.spin()
    const got: unknown[] = []
    for (const [type, topic] of [['geometry_msgs/msg/Twist', 'cmd'], ['sensor_msgs/msg/LaserScan', 'scan'], ['std_msgs/msg/UInt8MultiArray', 'blob']]) {
      listener.createSubscription(type, topic, (m: unknown) => got.push(m))
    }
    const cmd = talker.createPublisher('geometry_msgs/msg/Twist', 'cmd')
    const scan = talker.createPublisher('sensor_msgs/msg/LaserScan', 'scan')
    const blob = talker.createPublisher('std_msgs/msg/UInt8MultiArray', 'blob')
    cmd.publish({ linear: { x: 0.3 }, extra_key: 'dropped by the type class' }) // partial + unknown key
    scan.publish({ angle_min: 0.1, ranges: [0.1, 0.2, Infinity] }) // float32 fields, float32[] → Float32Array
    blob.publish({ data: [1, 2, 3] }) // uint8[] → Uint8Array at the subscriber
    await until(() => got.length === 3)
    await talker.audit.flush(); await listener.audit.flush()
    const events = await chain(agent)
    const pubs = ofType(events, 'topic_publish'); const recs = ofType(events, 'topic_received')
    for (const topic of ['/cmd', '/scan', '/blob']) {
      const p = pubs.find((e) => e.payload.topic === topic)!; const r = recs.find((e) => e.payload.topic === topic)!
      assert.is(p.payload.msg_hash, r.payload.msg_hash, `${topic}: both sides hash the same bytes`)
      assert.is(p.payload.hash_recipe, WIRE_HASH_RECIPE)
    }
    // the old recipe disagreed: the caller's object is not what arrived
    assert.is.not(messageHash({ linear: { x: 0.3 }, extra_key: 'dropped by the type class' }), messageHash(got[0]))
    assert.is.not(messageHash({ angle_min: 0.1, ranges: [0.1, 0.2, Infinity] }), messageHash(got[1]))
    // the hash is SHA-256 of the CDR bytes, reproducible from the message as sent
    assert.is(pubs[0]!.payload.msg_hash, cdrHash(ros, 'geometry_msgs/msg/Twist', { linear: { x: 0.3 } }))
    assert.ok((await agent.verify()).valid)
  })
})

W('wire recipe: padding declared by the encapsulation header is not hashed; hashForRecipe picks the recipe an event names', () => {
  const body = Buffer.from('000100000200000061000000', 'hex') // "a" + NUL + 2 padding bytes…
  const declared = Buffer.from(body); declared[3] = 2 // …declared in the options (XTypes 7.6.3.1.2)
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
  assert.is(wireHash(declared), sha(declared.subarray(0, 10)))
  assert.is(wireHash(body), sha(body))
  assert.is(hashForRecipe(WIRE_HASH_RECIPE, body), sha(body))
  assert.is(hashForRecipe(MSG_HASH_RECIPE, { data: 'a' }), messageHash({ data: 'a' }))
  assert.throws(() => hashForRecipe(WIRE_HASH_RECIPE, { data: 'a' }), TypeError)
  assert.throws(() => hashForRecipe('nope', body), RangeError)
})

W('a message rclnodejs would refuse (int64 field given a number) throws at publish and stamps nothing', async () => {
  await withRig(async ({ agent, ros }) => {
    const n = new ros.AuditedNode('strict', { stamper: agent })
    const pub = n.createPublisher('std_msgs/msg/Int64', 'count')
    assert.throws(() => pub.publish({ data: 5 }), /must be type of bigint/)
    pub.publish({ data: 5n })
    await n.audit.flush()
    assert.is(ofType(await chain(agent), 'topic_publish').length, 1)
  })
})

/** A gate whose decisions come back after a per-message delay: GO slow, STOP fast. */
const delayedGate = (delays: Record<string, number>, allow: (d: string) => boolean = () => true) => ({
  check: async (_action: string, payload: Record<string, unknown>) => {
    const key = Object.keys(delays).find((k) => payload.msg_hash === k)!
    await new Promise((r) => setTimeout(r, delays[key] ?? 0))
    return { allowed: allow(key) }
  }
})

W('gated publishes leave in call order: a slow GO then a fast STOP arrive as GO, STOP', async () => {
  await withRig(async ({ agent, ros }) => {
    const go = cdrHash(ros, 'std_msgs/msg/String', { data: 'GO' }); const stop = cdrHash(ros, 'std_msgs/msg/String', { data: 'STOP' })
    const robot = new ros.AuditedNode('base', { stamper: agent, gate: delayedGate({ [go]: 80, [stop]: 5 }) })
    const got: string[] = []
    const ctl = new ros.rclnodejs.Node('controller'); ctl.spin()
    ctl.createSubscription('std_msgs/msg/String', 'cmd', (m: { data: string }) => got.push(m.data))
    const pub = robot.createPublisher('std_msgs/msg/String', 'cmd')
    pub.publish({ data: 'GO' }); pub.publish({ data: 'STOP' })
    await until(() => got.length === 2)
    assert.equal(got, ['GO', 'STOP'], 'the controller keeps the last command: it must be STOP')
    await robot.audit.flush()
    const events = await chain(agent)
    assert.equal(ofType(events, 'topic_publish').map((e) => e.payload.msg_hash), [go, stop])
    assert.is(ofType(events, 'publisher_created')[0]!.payload.gate_order, 'fifo')
  })
})

W('latest-wins topics: a waiting command superseded by a newer one is not sent and is stamped as superseded', async () => {
  await withRig(async ({ agent, ros }) => {
    const msgs = ['a', 'b', 'c'].map((d) => cdrHash(ros, 'std_msgs/msg/String', { data: d }))
    const robot = new ros.AuditedNode('base', { stamper: agent, latestWins: ['cmd'], gate: delayedGate({ [msgs[0]!]: 60, [msgs[1]!]: 10, [msgs[2]!]: 10 }) })
    const got: string[] = []
    const ctl = new ros.rclnodejs.Node('controller'); ctl.spin()
    ctl.createSubscription('std_msgs/msg/String', 'cmd', (m: { data: string }) => got.push(m.data))
    const pub = robot.createPublisher('std_msgs/msg/String', 'cmd')
    for (const d of ['a', 'b', 'c']) pub.publish({ data: d })
    await until(() => got.includes('c'))
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(got, ['c'])
    await robot.audit.flush()
    const events = await chain(agent)
    assert.equal(ofType(events, 'topic_publish_superseded').map((e) => e.payload.msg_hash), [msgs[0], msgs[1]])
    assert.equal(ofType(events, 'topic_publish').map((e) => e.payload.msg_hash), [msgs[2]])
    assert.is(ofType(events, 'publisher_created')[0]!.payload.gate_order, 'latest')
  })
})

W('MessageInfo (publisher gid, publication sequence, source time) and the QoS profile are recorded', async () => {
  await withRig(async ({ agent, ros }) => {
    const n = new ros.AuditedNode('listener', { stamper: agent }); n.spin()
    const infos: Array<{ publicationSequenceNumber: bigint }> = []
    n.createSubscription('std_msgs/msg/String', 'chat', { qos: { history: 1, depth: 5, reliability: 2, durability: 2 } },
      (_m: unknown, info: { publicationSequenceNumber: bigint }) => infos.push(info))
    const talker = new ros.AuditedNode('talker', { stamper: agent })
    const pub = talker.createPublisher('std_msgs/msg/String', 'chat')
    pub.publish({ data: 'x' }); pub.publish({ data: 'y' })
    await until(() => infos.length === 2)
    await n.audit.flush(); await talker.audit.flush()
    const events = await chain(agent)
    const sub = ofType(events, 'subscription_created')[0]!.payload
    assert.equal(sub.qos, { history: 'keep_last', depth: 5, reliability: 'best_effort', durability: 'volatile' })
    assert.is(sub.message_info, true)
    assert.equal(ofType(events, 'publisher_created')[0]!.payload.qos, { profile: 'qos_profile_default' })
    const recs = ofType(events, 'topic_received')
    assert.equal(recs.map((e) => e.payload.publication_seq), [1n, 2n])
    assert.match(String(recs[0]!.payload.publisher_gid), /^[0-9a-f]{32}$/)
    assert.is(typeof recs[0]!.payload.source_time, 'bigint')
    assert.is(recs[0]!.payload.hash_source, 'reserialized')
    assert.is(recs[1]!.payload.msg_hash, ofType(events, 'topic_publish')[1]!.payload.msg_hash)
    const init = ofType(events, 'node_init')[0]!.payload
    assert.equal([init.hash_recipe, init.callback_queue_limit, init.callback_overflow], [WIRE_HASH_RECIPE, 1000, 'drop-newest'])
  })
})

W.run()
