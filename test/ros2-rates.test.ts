// Rate modes on a live AuditedNode (STAND-IN ROS graph, real Agent, test clock for windows):
// every / nth / rate / window, and inclusion proofs of received messages against signed digests.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { DigestRecord } from '../ros2/auditor.js'
import { proveInclusion, verifyInclusion } from '../ros2/merkle.js'
import { withRig, chain, ofType, until, manualClock, cdrHash } from './ros2-helpers.js'

const R = suite('ros2 rate modes (stand-in ROS graph, real Agent)')
const scan = (i: number): { ranges: Float32Array, seq: number } => ({ ranges: new Float32Array([i, Infinity, 0.5]), seq: i })

R('nth on a publisher: 1 event per 10 messages, skipped counts make the sampling visible', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('lidar', { stamper: agent, policies: { '/scan': { mode: 'nth', n: 10 } } })
    node.spin()
    const pub = node.createPublisher('sensor_msgs/msg/LaserScan', 'scan')
    for (let i = 1; i <= 25; i++) pub.publish(scan(i))
    await node.audit.flush()
    const events = await chain(agent)
    assert.equal(ofType(events, 'publisher_created')[0]!.payload.audit_mode, 'nth')
    const pubs = ofType(events, 'topic_publish')
    assert.equal(pubs.map((e) => [e.payload.seq, e.payload.skipped]), [[1, 0], [11, 9], [21, 9]])
    assert.is(pubs[1]!.payload.msg_hash, cdrHash(ros, 'sensor_msgs/msg/LaserScan', scan(11)))
  })
})

R('rate on a subscription: at most N per second (test clock)', async () => {
  const clock = manualClock()
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('sub', { stamper: agent, clock, policies: { odom: { mode: 'rate', perSecond: 2 } } })
    node.spin()
    let got = 0
    node.createSubscription('nav_msgs/msg/Odometry', 'odom', () => { got++ })
    const pub = new ros.rclnodejs.Node('feeder').createPublisher('nav_msgs/msg/Odometry', 'odom')
    for (let i = 0; i < 10; i++) { pub.publish({ i }); await until(() => got === i + 1); clock.advance(200) }
    await node.audit.flush()
    const rec = ofType(await chain(agent), 'topic_received')
    // 10 messages over 2 s, 2 per one-second bucket
    assert.equal(rec.map((e) => e.payload.seq), [1, 2, 6, 7])
    assert.is(got, 10) // every message still reaches the callback
  })
})

R('window digest: every received message covered; each provable against the signed merkle_root', async () => {
  const clock = manualClock()
  const digests: DigestRecord[] = []
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('mapper', { stamper: agent, clock, onDigest: (d) => digests.push(d), policies: { scan: { mode: 'window', windowMs: 1000 } } })
    node.spin()
    const received: unknown[] = []
    node.createSubscription('sensor_msgs/msg/LaserScan', 'scan', (m) => received.push(m))
    const pub = new ros.rclnodejs.Node('lidar').createPublisher('sensor_msgs/msg/LaserScan', 'scan')
    for (let i = 1; i <= 30; i++) {
      pub.publish(scan(i))
      await until(() => received.length === i)
      clock.advance(50) // 20 Hz: a window of 1 s holds 20 messages
    }
    await node.audit.close() // closes the open window
    const events = await chain(agent)
    assert.is(ofType(events, 'topic_received').length, 0)
    const ds = ofType(events, 'topic_digest')
    assert.equal(ds.map((e) => [e.payload.first_seq, e.payload.last_seq, e.payload.count, e.payload.close_reason]), [[1, 20, 20, 'time'], [21, 30, 10, 'close']])
    assert.equal([ds[0]!.payload.direction, ds[0]!.payload.topic, ds[0]!.payload.merkle_tree], ['receive', '/scan', 'rfc6962-sha256'])
    assert.is(typeof ds[0]!.payload.window_start_ros_time, 'bigint')
    assert.is((await agent.verify()).valid, true)

    // The auditor holds the recorded messages (e.g. a rosbag): recompute each hash, prove, verify
    assert.is(digests.length, 2)
    for (const [w, d] of digests.entries()) {
      const signedRoot = ds[w]!.payload.merkle_root as string
      assert.is(d.root, signedRoot)
      assert.is((await d.event)!.payload.merkle_root, signedRoot)
      for (let i = 0; i < d.hashes.length; i++) {
        const recorded = received[d.firstSeq - 1 + i]
        const h = cdrHash(ros, 'sensor_msgs/msg/LaserScan', recorded)
        assert.is(h, d.hashes[i])
        const proof = proveInclusion(d.hashes, i)
        assert.ok(verifyInclusion(h, { ...proof, size: ds[w]!.payload.count as number }, signedRoot))
      }
    }
    // a message that was not sent is not provable
    const fake = cdrHash(ros, 'sensor_msgs/msg/LaserScan', scan(999))
    assert.not.ok(verifyInclusion(fake, proveInclusion(digests[0]!.hashes, 0), ds[0]!.payload.merkle_root as string))
  })
})

R('window on a publisher closes when full (maxMessages) and on destroy', async () => {
  const clock = manualClock()
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('cam', { stamper: agent, clock, defaultPolicy: { mode: 'window', windowMs: 60_000, maxMessages: 4 } })
    node.spin()
    const pub = node.createPublisher('sensor_msgs/msg/Image', 'image')
    for (let i = 0; i < 10; i++) pub.publish({ data: new Uint8Array([i, i, i]) })
    node.destroy()
    await node.audit.flush()
    const ds = ofType(await chain(agent), 'topic_digest')
    assert.equal(ds.map((e) => [e.payload.count, e.payload.close_reason, e.payload.direction]), [[4, 'full', 'publish'], [4, 'full', 'publish'], [2, 'close', 'publish']])
  })
})

R('policies set with audit.setPolicy apply to endpoints created afterwards; timers cannot use windows', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('late', { stamper: agent, timerPolicy: { mode: 'nth', n: 100 } })
    node.spin()
    node.audit.setPolicy('/imu', { mode: 'nth', n: 2 })
    const pub = node.createPublisher('sensor_msgs/msg/Imu', 'imu')
    for (let i = 0; i < 4; i++) pub.publish({ i })
    await node.audit.flush()
    assert.equal(ofType(await chain(agent), 'topic_publish').map((e) => e.payload.seq), [1, 3])
    assert.throws(() => new ros.AuditedNode('bad', { stamper: agent, timerPolicy: { mode: 'window', windowMs: 10 } }), (e: Error) => e instanceof RangeError && e.message.includes('timerPolicy'))
  })
})

R('measured: 1 000 messages at "every" vs "window" (events written, wall time)', async () => {
  for (const mode of ['every', 'window'] as const) {
    await withRig(async ({ agent, ros }) => {
      const node = new ros.AuditedNode('bench', { stamper: agent, defaultPolicy: mode === 'every' ? { mode } : { mode, windowMs: 1000 } })
      node.spin()
      const pub = node.createPublisher('sensor_msgs/msg/LaserScan', 'scan')
      const ranges = new Float32Array(360).fill(1.5)
      const t0 = performance.now()
      for (let i = 0; i < 1000; i++) pub.publish({ ranges, seq: i })
      await node.audit.close()
      const ms = performance.now() - t0
      const n = (await chain(agent)).length
      console.log(`    ${mode}: ${n} events for 1000 LaserScan(360) messages in ${ms.toFixed(0)} ms`)
      assert.ok(mode === 'every' ? n === 1003 : n === 4)
    })
  }
})

R.run()
