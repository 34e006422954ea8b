// ROS 2 figures for `npm run bench` (section ros2; `npm run bench -- --only ros2` runs it alone):
//   - msg_hash cost per message for a 640×480 rgb8 sensor_msgs/Image and a 2 MiB sensor_msgs/PointCloud2:
//     the old recipe (pcp-ros2-msg-v1, canonical JSON of the object) against the wire recipe
//     (pcp-ros2-cdr-v1, SHA-256 of the CDR bytes, which the publisher serializes for sending anyway);
//     serialization is shown apart, done by the STAND-IN's CDR writer (@foxglove/rosmsg2-serialization;
//     real rclnodejs serializes natively, in C)
//   - BagRecorder throughput on the stand-in graph (NOT ROS 2 transport): a 100 Hz LaserScan (720
//     ranges) and a 30 Hz 640×480 image mixed 10:3, published as pre-serialized bytes as fast as the
//     recorder takes them, into a real MCAP file with a real durable Agent; and the CPU the recorder
//     process spends at the real rates
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { createStandin } from '../ros2/standin/index.js'
import { messageHash, wireHash } from '../ros2/msg-hash.js'
import { BagRecorder } from '../ros2/recorder.js'

/** CPU ms per call (user + system of this process): the machine may be shared, and these calls are synchronous. */
const time = (fn: () => void, minMs = 400): number => {
  fn() // warm
  let n = 0; const c0 = process.cpuUsage(); const t0 = performance.now()
  while (performance.now() - t0 < minMs || n < 3) { fn(); n++ }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000 / n
}

const header = { stamp: { sec: 1_700_000_000, nanosec: 0 }, frame_id: 'camera' }
export const image640 = (): object => ({ header, height: 480, width: 640, encoding: 'rgb8', is_bigendian: 0, step: 640 * 3, data: new Uint8Array(640 * 480 * 3).map((_, i) => i * 31) })
export function cloud2MiB (): object {
  const points = (2 * 1024 * 1024) / 16 // x, y, z, intensity as float32
  const f = (name: string, offset: number): object => ({ name, offset, datatype: 7, count: 1 })
  const data = new Uint8Array(points * 16)
  const view = new Float32Array(data.buffer)
  for (let i = 0; i < view.length; i++) view[i] = Math.sin(i) * 20
  return { header, height: 1, width: points, fields: [f('x', 0), f('y', 4), f('z', 8), f('intensity', 12)], is_bigendian: false, point_step: 16, row_step: points * 16, data, is_dense: true }
}
const scan = (): object => ({ header, angle_min: -3.14, angle_max: 3.14, angle_increment: 6.28 / 720, time_increment: 0, scan_time: 0.01, range_min: 0.1, range_max: 30, ranges: Float32Array.from({ length: 720 }, (_, i) => 1 + (i % 50) / 10), intensities: [] })

export interface HashCost { type: string, bytes: number, jsonMs: number, cdrHashMs: number, serializeMs: number }

export function benchHashCost (): HashCost[] {
  const ros = createStandin()
  return ([['sensor_msgs/msg/Image', image640()], ['sensor_msgs/msg/PointCloud2', cloud2MiB()]] as const).map(([type, msg]) => {
    const T = ros.rclnodejs.require(type)
    const bytes = ros.rclnodejs.serializeMessage(new T(msg), T)
    return {
      type, bytes: bytes.length,
      jsonMs: time(() => { messageHash(msg) }),
      cdrHashMs: time(() => { wireHash(bytes) }),
      serializeMs: time(() => { ros.rclnodejs.serializeMessage(new T(msg), T) })
    }
  })
}

export interface RecorderFigures { messagesPerSec: number, mbPerSec: number, messagesPerCpuSec: number, mbPerCpuSec: number, messages: number, bytes: number, realRateCpuPct: number, realMessagesPerSec: number, realMbPerSec: number, realPublished: number }

export async function benchRecorder (opts: { seconds: number }): Promise<RecorderFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-ros2-'))
  const ros = createStandin()
  await ros.rclnodejs.init(undefined, [])
  const agent = await Agent.open({ name: 'bench-recorder' }, { home: dir })
  try {
    const recNode = new ros.rclnodejs.Node('pcp_recorder'); recNode.spin()
    const qos = { depth: 1000 }
    const topics = [{ topic: '/scan', type: 'sensor_msgs/msg/LaserScan', qos }, { topic: '/camera/image_raw', type: 'sensor_msgs/msg/Image', qos }]
    const pubNode = new ros.rclnodejs.Node('sensors')
    const [scanPub, imagePub] = topics.map((t) => pubNode.createPublisher(t.type, t.topic))
    const cdr = (type: string, msg: object): Buffer => { const T = ros.rclnodejs.require(type); return ros.rclnodejs.serializeMessage(new T(msg), T) }
    const scanBytes = cdr(topics[0]!.type, scan()); const imageBytes = cdr(topics[1]!.type, image640())
    const wait = async (rec: BagRecorder, n: number): Promise<void> => { while (rec.messages < n) await new Promise((r) => setImmediate(r)) }

    // as fast as it goes: rounds of 10 scans + 3 images, each round taken before the next is sent
    const rec = await BagRecorder.start({ node: recNode, stamper: agent, file: join(dir, 'max.mcap'), topics })
    let sent = 0
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    while (performance.now() - t0 < opts.seconds * 1000) {
      for (let i = 0; i < 10; i++) scanPub!.publish(scanBytes)
      for (let i = 0; i < 3; i++) imagePub!.publish(imageBytes)
      sent += 13
      await wait(rec, sent)
    }
    await rec.close()
    const s = (performance.now() - t0) / 1000
    const c = process.cpuUsage(c0)
    // per CPU-second too: on a shared machine the wall-clock rate says as much about the other load
    const cpuS = (c.user + c.system) / 1e6

    // the real rates for the same time: CPU of this process (recorder and stand-in publisher)
    const real = await BagRecorder.start({ node: recNode, stamper: agent, file: join(dir, 'real.mcap'), topics })
    const cpu0 = process.cpuUsage(); const w0 = performance.now()
    // paced by the wall clock, not by timer ticks (which run late on a loaded machine): on average exactly 100 and 30 Hz
    let scans = 0; let images = 0
    const tick = setInterval(() => {
      const ms = performance.now() - w0
      for (; scans < Math.floor(ms / 10); scans++) scanPub!.publish(scanBytes)
      for (; images < Math.floor(ms * 30 / 1000); images++) imagePub!.publish(imageBytes)
    }, 5)
    await new Promise((r) => setTimeout(r, opts.seconds * 1000))
    clearInterval(tick)
    await wait(real, scans + images)
    await real.close()
    const cpu = process.cpuUsage(cpu0)
    const wallMs = performance.now() - w0
    const realRateCpuPct = ((cpu.user + cpu.system) / 1000) / wallMs * 100
    return {
      messagesPerSec: rec.messages / s, mbPerSec: rec.bytes / s / 1e6, messages: rec.messages, bytes: rec.bytes, realRateCpuPct,
      messagesPerCpuSec: rec.messages / cpuS, mbPerCpuSec: rec.bytes / cpuS / 1e6,
      // over the publishing time: every message published was recorded (the bag closes after the last)
      realMessagesPerSec: real.messages / opts.seconds, realMbPerSec: real.bytes / opts.seconds / 1e6, realPublished: scans + images
    }
  } finally {
    ros.rclnodejs.shutdown()
    await agent.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
