// AuditedNode: a subclass of the bound rclnodejs Node (or of the stand-in's) that audits everything it
// creates. It keeps rclnodejs's method signatures, so `class MyRobot extends AuditedNode` works as
// `extends Node` does; the only additions are the audit options (last constructor argument), the
// `audit` handle, and createActionClient / createActionServer (rclnodejs builds actions with `new`).
//
// rclnodejs's Node constructor itself creates services (parameter services, time source) through the
// overridden methods before our constructor body runs; those see no auditor yet and pass through
// unaudited: they are infrastructure, and parameter changes are audited where they land (params.ts).
import { NodeAuditor, type AuditOptions } from './auditor.js'
import { auditPublisher, auditSubscriptionCallback, auditTimerCallback } from './topics.js'
import { auditClient, auditServiceHandler } from './services.js'
import { auditActionClient, auditActionServerCallbacks } from './actions.js'
import { auditedSetAtomically, recordDeclared } from './params.js'
import { MSG_HASH_RECIPE } from './msg-hash.js'
import type { NodeLike, ParameterLike, RclBinding, TypeClassLike } from './rcl-api.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- mixin constructors must take any[] (TS2545) */
export type Ctor<T> = new (...args: any[]) => T

const isAuditOptions = (v: unknown): v is AuditOptions =>
  v !== null && typeof v === 'object' && 'stamper' in (v as object)

/** Splits `(...rclnodejsArgs, audit)` into the two. The audit options are required. */
export function splitAuditArgs (args: unknown[], className: string): { audit: AuditOptions, rest: unknown[] } {
  const last = args[args.length - 1]
  if (!isAuditOptions(last)) {
    throw new TypeError(`${className}: the last constructor argument must be the audit options { stamper: agent, ... }, got ${last === null ? 'null' : typeof last}`)
  }
  return { audit: last, rest: args.slice(0, -1) }
}

/**
 * createSubscription / createService take (typeClass, name, [options,] callback): swaps the callback for
 * its audited wrapper, creates the entity, then names the wrapper with the entity's resolved name (so a
 * failed creation stamps nothing).
 */
function withAuditedCallback<E> (args: any[], wrap: (callback: any) => { attach (resolvedName?: string): void },
  create: () => E, resolvedName: (entity: E) => string): E {
  const i = typeof args[2] === 'function' ? 2 : 3
  const wrapped = wrap(args[i])
  args[i] = wrapped
  const entity = create()
  wrapped.attach(resolvedName(entity))
  return entity
}

/** Members AuditedNode adds to rclnodejs's Node. */
export interface AuditedNodeMembers<AC = object, AS = object> {
  /** The node's auditor: flush(), close(), stamp(), setPolicy(), counts. */
  readonly audit: NodeAuditor
  createActionClient (typeClass: TypeClassLike, actionName: string, options?: object): AC
  createActionServer (typeClass: TypeClassLike, actionName: string, executeCallback: (goalHandle: any) => any,
    goalCallback?: (goal: any) => any, handleAcceptedCallback?: (goalHandle: any) => void,
    cancelCallback?: (goalHandle?: any) => any, options?: object): AS
}

export function makeAuditedNode<B extends Ctor<NodeLike>> (Base: B, binding: RclBinding, bindingName: string) {
  return class AuditedNode extends Base implements AuditedNodeMembers {
    /** @internal (public only because mixin classes cannot have private members in declarations) */
    _pcpAudit: NodeAuditor | undefined
    /** @internal */
    _pcpTimers = 0

    constructor (...args: any[]) {
      const { audit, rest } = splitAuditArgs(args, new.target.name || 'AuditedNode')
      super(...rest)
      const a = new NodeAuditor({ name: () => this.getFullyQualifiedName(), nowNs: () => this.now().nanoseconds }, audit)
      this._pcpAudit = a
      a.stamp('node_init', { framework: 'ros2', binding: bindingName, callback_order: a.callbackOrder, hash_recipe: MSG_HASH_RECIPE })
    }

    get audit (): NodeAuditor {
      if (this._pcpAudit === undefined) throw new Error('AuditedNode: audit is not available before the constructor has finished')
      return this._pcpAudit
    }

    override createPublisher (...args: Parameters<NodeLike['createPublisher']>): ReturnType<NodeLike['createPublisher']> {
      const pub = super.createPublisher(...args)
      return this._pcpAudit ? auditPublisher(this._pcpAudit, pub, args[0], args[1]) : pub
    }

    override createSubscription (...args: Parameters<NodeLike['createSubscription']>): ReturnType<NodeLike['createSubscription']> {
      const a = this._pcpAudit
      if (!a) return super.createSubscription(...args)
      return withAuditedCallback(args, (cb) => auditSubscriptionCallback(a, args[0], args[1], cb),
        () => super.createSubscription(...args), (sub) => sub.topic)
    }

    override createService (...args: Parameters<NodeLike['createService']>): ReturnType<NodeLike['createService']> {
      const a = this._pcpAudit
      if (!a) return super.createService(...args)
      return withAuditedCallback(args, (cb) => auditServiceHandler(a, args[0], args[1], cb),
        () => super.createService(...args), (service) => service.serviceName)
    }

    override createClient (...args: Parameters<NodeLike['createClient']>): ReturnType<NodeLike['createClient']> {
      const client = super.createClient(...args)
      return this._pcpAudit ? auditClient(this._pcpAudit, client, args[0], args[1]) : client
    }

    override createTimer (...args: Parameters<NodeLike['createTimer']>): ReturnType<NodeLike['createTimer']> {
      const a = this._pcpAudit
      if (a) args[1] = auditTimerCallback(a, ++this._pcpTimers, args[0], args[1])
      return super.createTimer(...args)
    }

    override declareParameters (...args: Parameters<NodeLike['declareParameters']>): ReturnType<NodeLike['declareParameters']> {
      const declared = super.declareParameters(...args)
      if (this._pcpAudit) recordDeclared(this._pcpAudit, declared)
      return declared
    }

    override setParametersAtomically (parameters: ParameterLike[]): ReturnType<NodeLike['setParametersAtomically']> {
      const a = this._pcpAudit
      if (!a) return super.setParametersAtomically(parameters)
      return auditedSetAtomically(a, (n) => this.getParameter(n), parameters, (p) => super.setParametersAtomically(p))
    }

    /** Emits open window digests before the node's entities go; `await node.audit.close()` first to wait for them. */
    override destroy (): void {
      this._pcpAudit?.flushWindows()
      super.destroy()
    }

    createActionClient (typeClass: TypeClassLike, actionName: string, options?: object): any {
      const client = new binding.ActionClient(this, typeClass, actionName, options)
      return auditActionClient(this.audit, client, typeClass, actionName)
    }

    createActionServer (typeClass: TypeClassLike, actionName: string, executeCallback: (goalHandle: any) => any,
      goalCallback?: (goal: any) => any, handleAcceptedCallback?: (goalHandle: any) => void,
      cancelCallback?: (goalHandle?: any) => any, options?: object): any {
      const cb = auditActionServerCallbacks(this.audit, typeClass, actionName, { execute: executeCallback, goal: goalCallback, cancel: cancelCallback })
      return new binding.ActionServer(this, typeClass, actionName, cb.execute, cb.goal, handleAcceptedCallback, cb.cancel, options)
    }
  }
}
