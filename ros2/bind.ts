// Binds the audited classes to one "rclnodejs": the real module (ros2/index.ts) or the stand-in
// (ros2/standin). The classes are built by factories (node.ts, lifecycle.ts) so the same code runs on
// both; here they get constructor types that read like rclnodejs's own plus the audit options.
import type { AuditOptions } from './auditor.js'
import { makeAuditedNode, type AuditedNodeMembers, type Ctor } from './node.js'
import { makeAuditedLifecycleNode } from './lifecycle.js'
import type { LifecycleNodeLike, NodeLike, RclBinding } from './rcl-api.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- context/options types belong to the binding */

/** `new AuditedNode(name, audit)` or rclnodejs's full form with the audit options appended. */
export interface AuditedNodeClass<N, AC = object, AS = object> {
  new (nodeName: string, audit: AuditOptions): N & AuditedNodeMembers<AC, AS>
  new (nodeName: string, namespace: string | undefined, context: any, options: any, audit: AuditOptions): N & AuditedNodeMembers<AC, AS>
}

export interface AuditedLifecycleNodeClass<L, AC = object, AS = object> {
  new (nodeName: string, audit: AuditOptions): L & AuditedNodeMembers<AC, AS>
  new (nodeName: string, namespace: string | undefined, context: any, options: any, enableCommunicationInterface: boolean | undefined,
    audit: AuditOptions): L & AuditedNodeMembers<AC, AS>
  /** '_changeState' (every transition, including the change_state service) or 'public-methods'. */
  readonly lifecycleHook: string
}

export interface BoundRos2<N, L, AC = object, AS = object> {
  AuditedNode: AuditedNodeClass<N, AC, AS>
  AuditedLifecycleNode: AuditedLifecycleNodeClass<L, AC, AS>
  /** 'rclnodejs' or 'standin'; also recorded in every node_init event. */
  binding: string
}

export function bindRos2<N extends NodeLike, L extends LifecycleNodeLike, AC = object, AS = object> (
  binding: RclBinding & { Node: Ctor<N>, lifecycle: { LifecycleNode: Ctor<L> } }, bindingName: string): BoundRos2<N, L, AC, AS> {
  return {
    AuditedNode: makeAuditedNode(binding.Node, binding, bindingName) as unknown as AuditedNodeClass<N, AC, AS>,
    AuditedLifecycleNode: makeAuditedLifecycleNode(binding.lifecycle.LifecycleNode, binding, bindingName) as unknown as AuditedLifecycleNodeClass<L, AC, AS>,
    binding: bindingName
  }
}
