// An audited robot node. With ROS 2 sourced and rclnodejs installed it runs as is:
//
//   source /opt/ros/jazzy/setup.bash
//   npx tsx ros2/examples/patrol_robot.ts
//
// Configured as a ROS node is (ros2/config.ts lists the pcp.* parameters):
//
//   npx tsx ros2/examples/patrol_robot.ts --ros-args -p pcp.name:=patrol_robot -p pcp.home:=/var/lib/pcp \
//     -p pcp.passphrase_file:=/etc/pcp/patrol_robot.pass -p pcp.policy.scan:=window:1000
//
// The passphrase (if its key is encrypted) comes from pcp.passphrase_file, else the systemd credential
// pcp-passphrase, else $PCP_PASSPHRASE. Without parameters: agent PCP_AGENT or patrol_robot in $PCP_HOME
// or ~/.pcp. PCP_RUN_SECONDS stops it after N seconds (default: run until SIGINT/SIGTERM).
// PCP_ROS2_STANDIN=1 runs it on the in-process stand-in instead of ROS 2 (that is how the test suite
// runs this very file). While it runs: `ros2 service call /patrol_robot/pcp/head std_srvs/srv/Trigger`
// answers the chain head, and /diagnostics says whether the chain keeps up.
//
// What it does: drives in a square (cmd_vel at 10 Hz, one event per 10 messages), watches the laser
// (scan, one Merkle digest per second: every scan covered), answers ~/enable (std_srvs/SetBool), and
// has a max_speed parameter. Every one of those actions lands in the agent's signed chain.
import { AuditedNode, PcpRuntime, rclnodejs, type AuditOptions } from '../index.js'

const PARAMETER_DOUBLE = 3 // rcl_interfaces/msg/ParameterType (a const enum in rclnodejs's types)

export class PatrolRobot extends AuditedNode {
  private enabled = true
  private tick = 0
  scans = 0

  constructor (audit: AuditOptions) {
    super('patrol_robot', audit)
    this.declareParameter(new rclnodejs.Parameter('max_speed', PARAMETER_DOUBLE, 0.5))
    const cmd = this.createPublisher('geometry_msgs/msg/Twist', 'cmd_vel')
    this.createSubscription('sensor_msgs/msg/LaserScan', 'scan', (scan) => {
      this.scans++
      const ranges = (scan as { ranges?: ArrayLike<number> }).ranges ?? []
      if (Array.from(ranges).some((r) => r < 0.3)) this.enabled = false // obstacle: stop
    })
    this.createService('std_srvs/srv/SetBool', '~/enable', (request, response) => {
      this.enabled = Boolean((request as { data?: boolean }).data)
      response.send({ success: true, message: this.enabled ? 'driving' : 'stopped' })
    })
    this.createTimer(100_000_000n, () => {
      const speed = this.enabled ? Number(this.getParameter('max_speed').value) : 0
      const turning = Math.floor(this.tick++ / 20) % 2 === 1
      cmd.publish({ linear: { x: turning ? 0 : speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: turning ? 0.785 : 0 } })
    })
  }
}

async function main (): Promise<void> {
  await rclnodejs.init()
  // rclnodejs's own SIGINT handler would destroy the node before its last events are stamped.
  rclnodejs.removeSignalHandlers()
  const pcp = await PcpRuntime.open({
    nodeName: 'patrol_robot',
    defaults: {
      name: process.env.PCP_AGENT ?? 'patrol_robot',
      policies: { cmd_vel: { mode: 'nth', n: 10 }, scan: { mode: 'window', windowMs: 1000 } },
      timerPolicy: { mode: 'nth', n: 50 }
    }
  })
  const agent = pcp.agent
  const robot = new PatrolRobot(pcp.auditOptions())
  pcp.attach(robot, { rclnodejs })
  robot.spin()
  console.log(`patrol_robot running, agent ${agent.agentId}`)

  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await robot.audit.close() // last window digests and node_shutdown, durably
    robot.destroy()
    rclnodejs.shutdown()
    const report = await agent.verify()
    console.log(`stopped: ${robot.audit.stamped} events stamped, chain ${report.valid ? 'valid' : 'INVALID'}`)
    await pcp.close()
  }
  process.once('SIGINT', () => { void stop() })
  process.once('SIGTERM', () => { void stop() })
  const seconds = Number(process.env.PCP_RUN_SECONDS ?? 0)
  if (seconds > 0) setTimeout(() => { void stop() }, seconds * 1000)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => { console.error(err?.message ?? err); process.exit(1) })
}
