// pcp-edge/ros2: AuditedNode and friends bound to the real rclnodejs (an optional peer dependency).
// Importing this module loads rclnodejs; without it (or without a sourced ROS 2) the import fails with
// one PcpError ROS2_UNAVAILABLE that says what to install (load.ts). Nothing else in pcp-edge needs it;
// the hash and inclusion-proof functions are also in ./verify.js, which needs no ROS at all.
//
// PCP_ROS2_STANDIN=1 binds the in-process stand-in (ros2/standin) instead, for simulations and for
// running the examples on a machine without ROS 2. It prints a warning, and every node_init event it
// produces records binding: 'standin'.
import type * as rcl from 'rclnodejs'
import { loadRclnodejs } from './load.js'
import { loadRos2Tools } from './tools.js'
import { bindRos2, type AuditedLifecycleNodeClass, type AuditedNodeClass, type BoundRos2 } from './bind.js'
import type { AuditedNodeMembers } from './node.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- action type parameters are chosen per call */
type Bound = BoundRos2<rcl.Node, rcl.lifecycle.LifecycleNode, rcl.ActionClient<any>, rcl.ActionServer<any>>

async function bind (): Promise<{ bound: Bound, module: typeof rcl }> {
  if (process.env.PCP_ROS2_STANDIN === '1') {
    const { createStandin } = await loadRos2Tools('the ROS 2 stand-in (PCP_ROS2_STANDIN=1)', () => import('./standin/index.js'))
    const s = createStandin()
    process.emitWarning('pcp-edge/ros2 is running on the in-process STAND-IN, not ROS 2 (PCP_ROS2_STANDIN=1)')
    // The stand-in implements only the part of rclnodejs the bridge and the examples use.
    return { bound: s as unknown as Bound, module: s.rclnodejs as unknown as typeof rcl }
  }
  const module = await loadRclnodejs() as typeof rcl
  return { bound: bindRos2<rcl.Node, rcl.lifecycle.LifecycleNode, rcl.ActionClient<any>, rcl.ActionServer<any>>(module, 'rclnodejs'), module }
}

const { bound, module } = await bind()

/** `class MyRobot extends AuditedNode` — rclnodejs's Node, audited. */
export const AuditedNode: AuditedNodeClass<rcl.Node, rcl.ActionClient<any>, rcl.ActionServer<any>> = bound.AuditedNode
export type AuditedNode = rcl.Node & AuditedNodeMembers<rcl.ActionClient<any>, rcl.ActionServer<any>>
export const AuditedLifecycleNode: AuditedLifecycleNodeClass<rcl.lifecycle.LifecycleNode, rcl.ActionClient<any>, rcl.ActionServer<any>> = bound.AuditedLifecycleNode
export type AuditedLifecycleNode = rcl.lifecycle.LifecycleNode & AuditedNodeMembers<rcl.ActionClient<any>, rcl.ActionServer<any>>
/** The loaded rclnodejs module (init, shutdown, require, …), or the stand-in with PCP_ROS2_STANDIN=1. */
export const rclnodejs: typeof rcl = module
export const binding: string = bound.binding

export { NodeAuditor, Ros2ErrorCodes, typeName, type AuditOptions, type Gate, type DigestRecord, type Payload } from './auditor.js'
export { checkPolicy, systemClock, DEFAULT_MAX_WINDOW, type AuditPolicy, type AuditClock } from './policy.js'
export { wrapNode, type NodeWrapper } from './wrap.js'
export { bindRos2, type AuditedNodeClass, type AuditedLifecycleNodeClass, type BoundRos2 } from './bind.js'
export type { AuditedNodeMembers } from './node.js'
export { PcpRuntime, HEAD_SERVICE, policyText, type OpenPcpOptions } from './pcp-node.js'
export { pcpConfig, parsePolicy, readPassphrase, CREDENTIAL_NAME, type PcpConfig } from './config.js'
export { parseRosArgs, removeRosArgs, overridesFor, type RosArgs, type ParamOverride } from './ros-args.js'
export { diagnosticArray, DIAGNOSTICS_TOPIC, type DiagnosticArrayMsg } from './diagnostics.js'
export * from './verify.js'
