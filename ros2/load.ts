// Loading rclnodejs, an optional peer dependency, with one clear error when it cannot work.
// Care is needed: importing rclnodejs 2.x without a usable native addon does not just fail, it runs
// `npm run rebuild` (node-gyp) inside node_modules for up to 5 minutes (lib/native_loader.js). So we
// check first what we can check cheaply (installed? ROS 2 sourced?) and only then import it.
import { createRequire } from 'node:module'
import { PcpError } from '../runtime/index.js'
import { Ros2ErrorCodes } from './auditor.js'

export const INSTALL_HINT = 'install ROS 2 (https://docs.ros.org), `source /opt/ros/<distro>/setup.bash`, then `npm install rclnodejs`'

export interface LoadDeps {
  /** Resolves a package specifier to a path; throws when it is not installed. */
  resolve: (specifier: string) => string
  importModule: (specifier: string) => Promise<unknown>
  env: { [k: string]: string | undefined }
}

const defaultDeps = (): LoadDeps => ({
  resolve: (s) => createRequire(import.meta.url).resolve(s),
  importModule: (s) => import(s),
  env: process.env
})

/** Returns rclnodejs's default export, or throws PcpError ROS2_UNAVAILABLE saying what to install. */
export async function loadRclnodejs (deps: LoadDeps = defaultDeps()): Promise<unknown> {
  try {
    deps.resolve('rclnodejs/package.json')
  } catch (err) {
    throw new PcpError(Ros2ErrorCodes.ROS2_UNAVAILABLE,
      `pcp-edge/ros2 needs rclnodejs, an optional peer dependency that is not installed: ${INSTALL_HINT}`, { cause: err })
  }
  if (!deps.env.ROS_DISTRO) {
    throw new PcpError(Ros2ErrorCodes.ROS2_UNAVAILABLE,
      'pcp-edge/ros2: rclnodejs is installed but no ROS 2 environment is sourced (ROS_DISTRO is unset): ' +
      'run `source /opt/ros/<distro>/setup.bash` before starting node (rclnodejs cannot load without it)')
  }
  let mod: unknown
  try {
    mod = await deps.importModule('rclnodejs')
  } catch (err) {
    const first = String((err as Error)?.message ?? err).split('\n')[0]
    throw new PcpError(Ros2ErrorCodes.ROS2_UNAVAILABLE,
      `pcp-edge/ros2: rclnodejs failed to load (${first}); its native addon must match your ROS 2 (${deps.env.ROS_DISTRO}): ` +
      'run `npm rebuild rclnodejs` in a shell where ROS 2 is sourced', { cause: err })
  }
  return (mod as { default?: unknown }).default ?? mod
}
