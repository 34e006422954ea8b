// The STAND-IN (ros2/standin, NOT ROS 2) against the real thing. CDR bytes are compared with vectors
// derived by hand from the OMG CDR rules ROS 2 uses (DDS-XTypes 1.3 §7.4.3 "XCDR1", little endian):
//   - 4-byte encapsulation header 00 01 00 00 (CDR_LE, options 0), alignment counted after it
//   - primitives aligned to their size (int64/float64 to 8), no trailing padding
//   - string: uint32 length INCLUDING the NUL, the bytes, NUL
//   - sequence<T>: uint32 count, then the elements (aligned as T)
// Not from the stand-in itself: each vector is written out below, field by field. Then the rclnodejs
// 2.2 behaviours the bridge depends on: type-class construction, init()/spin(), MessageInfo, throws.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { createStandin } from '../ros2/standin/index.js'
import { ROOT } from './helpers.js'
import { until } from './ros2-helpers.js'

const C = suite('ros2 stand-in: real CDR and rclnodejs behaviour (STAND-IN, not ROS 2)')
const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')
const HDR = '00010000'

const VECTORS: Array<{ type: string, msg: unknown, bytes: string }> = [
  { type: 'std_msgs/msg/String', msg: { data: 'hello' }, bytes: hex(HDR, '06000000', '68656c6c6f00') },
  {
    type: 'geometry_msgs/msg/Twist',
    msg: { linear: { x: 1, y: -2.5 }, angular: { z: 0.5 } },
    bytes: hex(HDR,
      '000000000000f03f', '00000000000004c0', '0000000000000000', // linear x=1.0 y=-2.5 z=0
      '0000000000000000', '0000000000000000', '000000000000e03f') // angular x=0 y=0 z=0.5
  },
  {
    type: 'sensor_msgs/msg/LaserScan',
    msg: { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'l' }, angle_min: 0.5, angle_max: 1, angle_increment: 0.1, range_min: 0.5, range_max: 10, ranges: [1.5, Infinity] },
    bytes: hex(HDR,
      '01000000', '02000000', //               0: stamp.sec, 4: stamp.nanosec
      '02000000', '6c00', '0000', //           8: frame_id "l" (length 2 with NUL), pad to 16
      '0000003f', '0000803f', 'cdcccc3d', //  16: angle_min 0.5f, angle_max 1.0f, angle_increment 0.1f (0x3dcccccd)
      '00000000', '00000000', //              28: time_increment, scan_time
      '0000003f', '00002041', //              36: range_min 0.5f, range_max 10.0f
      '02000000', '0000c03f', '0000807f', //  44: ranges: 2 × float32 (1.5, +inf)
      '00000000') //                          56: intensities: empty
  },
  {
    type: 'std_msgs/msg/Int64MultiArray',
    msg: { layout: { dim: [{ label: 'x', size: 2, stride: 2 }], data_offset: 0 }, data: [1n, -2n] },
    bytes: hex(HDR,
      '01000000', //                           0: dim: 1 element
      '02000000', '7800', '0000', //           4: label "x", pad to 12
      '02000000', '02000000', //              12: size, stride
      '00000000', //                          20: data_offset
      '02000000', '00000000', //              24: data: 2 × int64, pad to 32 (8-byte alignment)
      '0100000000000000', 'feffffffffffffff') // 32: 1, -2
  },
  {
    type: 'std_msgs/msg/UInt8MultiArray',
    msg: { data: Uint8Array.of(1, 2, 255) },
    bytes: hex(HDR, '00000000', '00000000', '03000000', '0102ff') // dim: 0, data_offset, data: 3 bytes
  },
  { type: 'std_msgs/msg/Int64', msg: { data: -1n }, bytes: hex(HDR, 'ffffffffffffffff') }
]

C('CDR bytes equal the hand-derived vectors (String, Twist, LaserScan float32[], Int64MultiArray int64[], UInt8MultiArray uint8[], Int64)', () => {
  const { rclnodejs: rcl } = createStandin()
  for (const v of VECTORS) {
    const T = rcl.require(v.type)
    const bytes = rcl.serializeMessage(new T(v.msg), T)
    assert.is(bytes.toString('hex'), v.bytes, v.type)
    // and back: the bytes decode to the same message
    assert.is(rcl.serializeMessage(rcl.deserializeMessage(Buffer.from(v.bytes, 'hex'), T) as never, T).toString('hex'), v.bytes, `${v.type} round trip`)
  }
})

C('type classes do what rclnodejs 2.2 generated classes do: defaults, dropped keys, bigint rule, float32, typed arrays', () => {
  const { rclnodejs: rcl } = createStandin()
  const Twist = rcl.require('geometry_msgs/msg/Twist')
  assert.equal(new Twist({ linear: { x: 1 }, bogus: 3 }).toPlainObject(), { linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } })
  assert.throws(() => new (rcl.require('std_msgs/msg/Int64'))({ data: 5 }), (e: Error) => e.message === 'data must be type of bigint')
  const scan = new (rcl.require('sensor_msgs/msg/LaserScan'))({ angle_min: 0.1, ranges: [0.1] }).toPlainObject()
  assert.is(scan.angle_min, Math.fround(0.1))
  assert.instance(scan.ranges, Float32Array)
  assert.instance(new (rcl.require('std_msgs/msg/UInt8MultiArray'))({ data: [1] }).toPlainObject().data, Uint8Array)
  assert.equal(new (rcl.require('std_msgs/msg/Int64MultiArray'))({ data: [3n] }).toPlainObject().data, [3n])
  assert.equal(Array.isArray(new (rcl.require('std_msgs/msg/UInt8MultiArray'))({ data: [1] }).toPlainObject(false).data), true)
  // publish('hello') on a one-field type, as rclnodejs's constructFromPlanObject allows
  assert.equal(new (rcl.require('std_msgs/msg/String'))('hi').toPlainObject(), { data: 'hi' })
  // serializeMessage wants an instance, deserializeMessage a Buffer (rclnodejs TypeValidationError)
  assert.throws(() => rcl.serializeMessage({ data: 'x' }, rcl.require('std_msgs/msg/String')))
  assert.throws(() => rcl.deserializeMessage(new Uint8Array(4) as Buffer, rcl.require('std_msgs/msg/String')))
  assert.throws(() => rcl.require('no_such_msgs/msg/Nope'), /does not exist/)
})

C('init() before any node, spin() before any message or tick; KEEP_LAST depth; MessageInfo for 2-parameter callbacks only', async () => {
  const { rclnodejs: rcl } = createStandin()
  assert.throws(() => new rcl.Node('early'), /not initialized/)
  await rcl.init()
  await assert.throws(() => { (rcl.context as { init (): void }).init() }, /already been initialized/)
  const pubNode = new rcl.Node('pub')
  const subNode = new rcl.Node('sub')
  const plain: unknown[] = []; const withInfo: Array<[unknown, unknown]> = []; const raw: unknown[] = []
  subNode.createSubscription('std_msgs/msg/String', 'chat', (m: unknown) => plain.push(m))
  subNode.createSubscription('std_msgs/msg/String', 'chat', (m: unknown, info: unknown) => withInfo.push([m, info]))
  subNode.createSubscription('std_msgs/msg/String', 'chat', { isRaw: true }, (m: unknown, info?: unknown) => raw.push([m, info]))
  let ticks = 0
  subNode.createTimer(5_000_000n, () => { ticks++ })
  const pub = pubNode.createPublisher('std_msgs/msg/String', 'chat')
  for (let i = 0; i < 15; i++) pub.publish({ data: `m${i}` })
  await new Promise((r) => setTimeout(r, 30))
  assert.equal([plain.length, withInfo.length, raw.length, ticks], [0, 0, 0, 0], 'nothing before spin()')
  subNode.spin()
  await until(() => plain.length === 10 && raw.length === 10 && ticks > 0)
  assert.equal(plain[0], { data: 'm5' }, 'KEEP_LAST 10: the 5 oldest were dropped')
  const [m, info] = withInfo[0] as [unknown, { publicationSequenceNumber: bigint, publisherGid: Buffer, sourceTimestamp: bigint }]
  assert.equal(m, { data: 'm5' })
  assert.instance(info, rcl.MessageInfo)
  assert.is(info.publicationSequenceNumber, 6n)
  assert.is(info.publisherGid.length, 16)
  assert.is(typeof info.sourceTimestamp, 'bigint')
  const [bytes, rawInfo] = raw[0] as [Buffer, unknown]
  assert.instance(bytes, Buffer)
  assert.is(bytes.toString('hex'), hex(HDR, '03000000', '6d3500'))
  assert.is(rawInfo, undefined, 'rclnodejs raw takes carry no MessageInfo')
  assert.throws(() => subNode.spin(), /already spinning/)
  rcl.shutdown()
})

C('a throw in a subscription callback escapes the executor as an uncaught exception, as under rclnodejs', () => {
  const code = `
    const { createStandin } = await import('./ros2/standin/index.ts')
    const { rclnodejs: rcl } = createStandin()
    await rcl.init()
    const n = new rcl.Node('n'); n.spin()
    n.createSubscription('std_msgs/msg/String', 't', () => { throw new RangeError('callback blew up') })
    n.createPublisher('std_msgs/msg/String', 't').publish({ data: 'x' })
    setTimeout(() => { console.log('survived'); process.exit(0) }, 2000)`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
  assert.is.not(r.status, 0, r.stdout)
  assert.match(r.stderr, /RangeError: callback blew up/)
  assert.not.match(r.stdout, /survived/)
})

C.run()
