// AuditedNode: a subclass of the bound rclnodejs Node (or of the stand-in's) that audits everything it
// creates. It keeps rclnodejs's method signatures, so `class MyRobot extends AuditedNode` works as
// `extends Node` does; the only additions are the audit options (last constructor argument), the
// `audit` handle, and createActionClient / createActionServer (rclnodejs builds actions with `new`).
//
// rclnodejs's Node constructor itself creates services (parameter services, time source) through the
// overridden methods before our constructor body runs; those see no auditor yet and pass through
// unaudited: they are infrastructure, and parameter changes are audited where they land (params.ts).
// Publishers are hooked at _createPublisher, the one method rclnodejs routes createPublisher and
// LifecycleNode.createLifecyclePublisher through; actions at _addActionClient / _addActionServer,
// which every `new ActionClient(node, …)` / `new ActionServer(node, …)` calls.
// State kept during super() lives in WeakMaps: class fields are (re)initialised only after it returns.
import { NodeAuditor, type AuditOptions } from './auditor.js'
import { auditPublisher, auditSubscriptionCallback, auditTimerCallback } from './topics.js'
import { auditClient, auditServiceHandler } from './services.js'
import { auditActionClient, auditActionServer } from './actions.js'
import { auditedSetAtomically, clockFields, paramSource, recordDeclared, recordUndeclared, wrapParameterService } from './params.js'
import { WIRE_HASH_RECIPE } from './msg-hash.js'
import { wireCodecOf } from './wire.js'
import { auditDestroy, registerEntity } from './entities.js'
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
 * createService takes (typeClass, name, [options,] callback): swaps the callback for its audited
 * wrapper, creates the entity, then names the wrapper with the entity's resolved name (so a failed
 * creation stamps nothing).
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
  const codec = wireCodecOf(binding as Parameters<typeof wireCodecOf>[0])
  const hookPublisher = typeof (Base.prototype as any)._createPublisher === 'function'
  const hookActions = typeof (Base.prototype as any)._addActionClient === 'function'
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
      a.stamp('node_init', {
        framework: 'ros2', binding: bindingName, ...a.initFields(), hash_recipe: codec ? WIRE_HASH_RECIPE : 'pcp-ros2-msg-v1',
        ...clockFields(this)
      })
      // Registered first, so it runs last in rclnodejs's pre-set pipeline: it sees the list as finally set.
      const tap = (this as any).addPreSetParametersCallback
      if (typeof tap === 'function') {
        tap.call(this, (params: ParameterLike[]) => { paramSource(this).finalList = params; return params })
      }
    }

    /** @internal creates infrastructure (pcp-node.ts: ~/pcp/head, /diagnostics) that must not stamp itself */
    _pcpUnaudited<T> (fn: () => T): T {
      const a = this._pcpAudit
      this._pcpAudit = undefined
      try { return fn() } finally { this._pcpAudit = a }
    }

    get audit (): NodeAuditor {
      if (this._pcpAudit === undefined) throw new Error('AuditedNode: audit is not available before the constructor has finished')
      return this._pcpAudit
    }

    override createPublisher (...args: Parameters<NodeLike['createPublisher']>): ReturnType<NodeLike['createPublisher']> {
      const pub = super.createPublisher(...args)
      if (hookPublisher || !this._pcpAudit) return pub
      return auditPublisher(this._pcpAudit, pub, args[0], args[1], codec)
    }

    /** @internal rclnodejs's one path for createPublisher and createLifecyclePublisher */
    _createPublisher (typeClass: TypeClassLike, topic: string, options: any, publisherClass: any, eventCallbacks?: any): any {
      const pub = (Base.prototype as any)._createPublisher.call(this, typeClass, topic, options, publisherClass, eventCallbacks)
      return this._pcpAudit ? auditPublisher(this._pcpAudit, pub, typeClass, topic, codec) : pub
    }

    override createSubscription (...args: Parameters<NodeLike['createSubscription']>): ReturnType<NodeLike['createSubscription']> {
      const a = this._pcpAudit
      if (!a) return super.createSubscription(...args)
      const [typeClass, topic] = args
      const hasOptions = typeof args[2] !== 'function'
      const callback = hasOptions ? args[3] : args[2]
      const options = hasOptions ? args[2] : undefined
      const wrapped = auditSubscriptionCallback(a, typeClass, topic, callback, codec, options)
      const sub = super.createSubscription(typeClass, topic, wrapped.options, wrapped, hasOptions ? args[4] : undefined)
      wrapped.attach(sub.topic, sub)
      return sub
    }

    override createService (...args: Parameters<NodeLike['createService']>): ReturnType<NodeLike['createService']> {
      const a = this._pcpAudit
      if (!a) return (super.createService as any)(...wrapParameterService(this, args))
      return withAuditedCallback(args, (cb) => auditServiceHandler(a, args[0], args[1], cb),
        () => super.createService(...args), (service) => service.serviceName)
    }

    override createClient (...args: Parameters<NodeLike['createClient']>): ReturnType<NodeLike['createClient']> {
      const client = super.createClient(...args)
      return this._pcpAudit ? auditClient(this._pcpAudit, client, args[0], args[1]) : client
    }

    override createTimer (...args: Parameters<NodeLike['createTimer']>): ReturnType<NodeLike['createTimer']> {
      const a = this._pcpAudit
      if (!a) return super.createTimer(...args)
      const id = ++this._pcpTimers
      args[1] = auditTimerCallback(a, id, args[0], args[1])
      const timer = super.createTimer(...args)
      registerEntity(a, timer, `timer/${id}`)
      return timer
    }

    override declareParameters (...args: Parameters<NodeLike['declareParameters']>): ReturnType<NodeLike['declareParameters']> {
      const declared = super.declareParameters(...args)
      if (this._pcpAudit) recordDeclared(this._pcpAudit, declared)
      return declared
    }

    override setParametersAtomically (parameters: ParameterLike[]): ReturnType<NodeLike['setParametersAtomically']> {
      const a = this._pcpAudit
      if (!a) return super.setParametersAtomically(parameters)
      return auditedSetAtomically(a, this, parameters, (p) => super.setParametersAtomically(p))
    }

    override undeclareParameter (name: string): void {
      const a = this._pcpAudit
      const before = a && this.hasParameter(name) ? this.getParameter(name) : undefined
      super.undeclareParameter(name)
      if (a && before !== undefined && !this.hasParameter(name)) recordUndeclared(a, before, paramSource(this).source)
    }

    override destroyPublisher (p: any): void { super.destroyPublisher(p); auditDestroy(this._pcpAudit, 'publisher', p) }
    override destroySubscription (s: any): void { super.destroySubscription(s); auditDestroy(this._pcpAudit, 'subscription', s) }
    override destroyClient (c: any): void { super.destroyClient(c); auditDestroy(this._pcpAudit, 'client', c) }
    override destroyService (s: any): void { super.destroyService(s); auditDestroy(this._pcpAudit, 'service', s) }
    override destroyTimer (t: any): void { super.destroyTimer(t); auditDestroy(this._pcpAudit, 'timer', t) }

    /** @internal every `new ActionClient(this, …)` ends here (rclnodejs lib/action/client.js) */
    _addActionClient (client: any): void {
      ;(Base.prototype as any)._addActionClient.call(this, client)
      if (this._pcpAudit) auditActionClient(this._pcpAudit, client, client._typeClass ?? client.typeClass, client._actionName ?? 'unknown')
    }

    /** @internal every `new ActionServer(this, …)` ends here (rclnodejs lib/action/server.js) */
    _addActionServer (server: any): void {
      ;(Base.prototype as any)._addActionServer.call(this, server)
      if (this._pcpAudit) auditActionServer(this._pcpAudit, server, server._typeClass ?? server.typeClass, server._actionName ?? 'unknown')
    }

    /** Emits open window digests before the node's entities go; `await node.audit.close()` first to wait for them. */
    override destroy (): void {
      this._pcpAudit?.flushWindows()
      super.destroy()
    }

    createActionClient (typeClass: TypeClassLike, actionName: string, options?: object): any {
      if (!hookActions) throw new Error('AuditedNode: this binding has no _addActionClient; create action clients with the binding directly')
      return new binding.ActionClient(this, typeClass, actionName, options)
    }

    createActionServer (typeClass: TypeClassLike, actionName: string, executeCallback: (goalHandle: any) => any,
      goalCallback?: (goal: any) => any, handleAcceptedCallback?: (goalHandle: any) => void,
      cancelCallback?: (goalHandle?: any) => any, options?: object): any {
      if (!hookActions) throw new Error('AuditedNode: this binding has no _addActionServer; create action servers with the binding directly')
      return new binding.ActionServer(this, typeClass, actionName, executeCallback, goalCallback, handleAcceptedCallback, cancelCallback, options)
    }
  }
}
