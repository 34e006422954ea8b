// The ROS 2 tools (MCAP bags, message definitions, the stand-in's CDR) are optional peers: a device
// install leaves them out (README "Install as a library"), since a robot that only stamps needs none of
// them (real rclnodejs serializes natively). Loading them only where they are used keeps everything
// else working, and a missing one becomes one error saying what to install.
import { PcpError } from '../runtime/index.js'
import { Ros2ErrorCodes } from './auditor.js'

export const ROS2_TOOLS_INSTALL = 'npm install @foxglove/rosmsg@5 @foxglove/rosmsg-msgs-common@3 @foxglove/rosmsg2-serialization@3 @mcap/core@2'

/** Runs the import; a missing @foxglove / @mcap package becomes PcpError ROS2_TOOLS_MISSING naming it. */
export async function loadRos2Tools<T> (what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const missing = /Cannot find (?:package|module) '((?:@foxglove|@mcap)\/[^/']+)/.exec(String((err as Error)?.message))?.[1]
    if ((err as { code?: string })?.code === 'ERR_MODULE_NOT_FOUND' && missing) {
      throw new PcpError(Ros2ErrorCodes.ROS2_TOOLS_MISSING, `${what} needs ${missing}, which a device install leaves out: ${ROS2_TOOLS_INSTALL}`, { field: missing, cause: err })
    }
    throw err
  }
}
