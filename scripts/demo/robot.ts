// SIMULATED robot: the ROS 2 bridge's example node (ros2/examples/patrol_robot.ts, unchanged) on the
// in-process ROS 2 STAND-IN (ros2/standin), NOT ROS 2. Around it, two more stand-in nodes play the rest
// of the robot: a laser scanner publishing sensor_msgs/LaserScan at 10 Hz, and an operator console that
// calls the robot's ~/enable service once. Every node_init the robot stamps says binding: 'standin'.
import type { Agent } from '../../runtime/index.js'

export interface RobotRun {
  /** The stand-in's own announcement (it is a process warning; the demo prints it as a line instead). */
  standinNotice: string
  binding: string
  /** Stops the nodes; resolves once the robot's last events (digests, node_shutdown) are stored. */
  stop (): Promise<{ stamped: number, scans: number, enableCalls: number }>
}

/**
 * Loads pcp-edge/ros2 bound to the stand-in (PCP_ROS2_STANDIN=1, read when the module loads). The
 * entry point announces the stand-in with process.emitWarning; we catch that one warning and hand it
 * back, so it reaches the reader as part of the demo's output, not as a stray "(node:…) Warning".
 */
async function loadStandinBridge (): Promise<{ ros: typeof import('../../ros2/index.js'), robot: typeof import('../../ros2/examples/patrol_robot.js'), notice: string }> {
  const before = process.env.PCP_ROS2_STANDIN
  process.env.PCP_ROS2_STANDIN = '1'
  const printers = process.listeners('warning')
  process.removeAllListeners('warning')
  const seen: string[] = []
  const keep = (w: Error): void => { seen.push(w.message) }
  process.on('warning', keep)
  try {
    const ros = await import('../../ros2/index.js')
    const robot = await import('../../ros2/examples/patrol_robot.js')
    await new Promise((resolve) => setImmediate(resolve)) // emitWarning delivers on the next tick
    return { ros, robot, notice: seen.find((m) => /STAND-IN/.test(m)) ?? '' }
  } finally {
    process.off('warning', keep)
    for (const p of printers) process.on('warning', p as (w: Error) => void)
    for (const m of seen.filter((m) => !/STAND-IN/.test(m))) process.emitWarning(m) // anything else still shows
    if (before === undefined) delete process.env.PCP_ROS2_STANDIN
    else process.env.PCP_ROS2_STANDIN = before
  }
}

export async function startRobot (agent: Agent): Promise<RobotRun> {
  const { ros, robot: { PatrolRobot }, notice } = await loadStandinBridge()
  const rcl = ros.rclnodejs
  await rcl.init()
  // Audit rates chosen so a 2-second run shows every kind of event: every 5th cmd_vel, every 10th
  // timer tick, one Merkle digest per second covering every scan.
  const robot = new PatrolRobot({
    stamper: agent,
    policies: { cmd_vel: { mode: 'nth', n: 5 }, scan: { mode: 'window', windowMs: 1000 } },
    timerPolicy: { mode: 'nth', n: 10 }
  })
  robot.spin()

  const lidar = new rcl.Node('laser_scanner_sim')
  lidar.spin() // timers fire only on a spinning node, as in rclnodejs
  const scan = lidar.createPublisher('sensor_msgs/msg/LaserScan', 'scan')
  let k = 0
  lidar.createTimer(100_000_000n, () => {
    // Nothing closer than 1.2 m: the robot keeps driving (it stops itself under 0.3 m).
    scan.publish({ angle_min: -1.57, angle_max: 1.57, range_min: 0.1, range_max: 10, ranges: [1.2 + (k++ % 7) * 0.3, 2.4, 3.1, 2.2] })
  })

  const console_ = new rcl.Node('operator_console')
  console_.spin() // the service response is delivered to a spinning node
  const client = console_.createClient('std_srvs/srv/SetBool', '/patrol_robot/enable')
  let enableCalls = 0
  const enabled = new Promise<void>((resolve) => {
    setTimeout(() => client.sendRequest({ data: true }, () => { enableCalls++; resolve() }), 500).unref()
  })

  return {
    standinNotice: notice,
    binding: ros.binding,
    async stop () {
      await Promise.race([enabled, new Promise((resolve) => setTimeout(resolve, 1000))])
      lidar.destroy()
      console_.destroy()
      await robot.audit.close() // the last window digest and node_shutdown, durably
      const out = { stamped: robot.audit.stamped, scans: robot.scans, enableCalls }
      robot.destroy()
      rcl.shutdown()
      return out
    }
  }
}
