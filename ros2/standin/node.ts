// STAND-IN — NOT ROS 2. Node, publishers, subscriptions, services, clients, timers and parameters
// with rclnodejs 2.2's method names and call shapes (types/node.d.ts), running on a StandinContext.
// Behaviour copied from rclnodejs where the bridge depends on it: createService accepts a handler
// that answers with response.send() or by returning the response; setParameter(s) funnel into
// setParametersAtomically; the constructor itself creates infrastructure services through
// this.createService (as rclnodejs's parameter services do). Nodes need rclnodejs.init() first, and
// receive messages and timer ticks only while they spin (topics.ts).
import { copyMessage, resolveName, standinTypeName, StandinContext, type TopicEndpoint } from './context.js'
import { Parameter, ParameterDescriptor, StandinParameters, type ParameterNodeOptions, type SetParametersResult } from './params.js'
import { qosDepth, resolveStandinType, StandinLifecyclePublisher, StandinPublisher, StandinSubscription, StandinTimer, type Sample } from './topics.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- messages are untyped in the stand-in */

export { Parameter, ParameterDescriptor, ParameterType, type SetParametersResult } from './params.js'

export class TimeoutError extends Error {
  constructor (message: string) { super(message); this.name = 'TimeoutError' }
}

type ReadyItem = { sub: StandinSubscription, sample: Sample } | { fn: () => void }

/** rclnodejs Node._validateOptions defaults. */
function defaultOptions (options: any): any {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError('"options" expected an object')
  return { enableTypedArray: true, qos: 'qos_profile_default', isRaw: false, serializationMode: 'default', ...(options ?? {}) }
}

export class StandinResponse {
  sent = false
  readonly template: any = {}
  private readonly respond: (r: unknown) => void
  constructor (respond: (r: unknown) => void) { this.respond = respond }
  send (response: any): void {
    if (this.sent) return
    this.sent = true
    this.respond(response)
  }
}

export class StandinService {
  readonly serviceName: string
  constructor (serviceName: string) { this.serviceName = serviceName }
}

export class StandinClient {
  readonly serviceName: string
  private readonly ctx: StandinContext
  private readonly node: StandinNode
  constructor (ctx: StandinContext, serviceName: string, node: StandinNode) { this.ctx = ctx; this.serviceName = serviceName; this.node = node }

  isServiceServerAvailable (): boolean { return this.ctx.services.has(this.serviceName) }

  async waitForService (timeout?: number): Promise<boolean> {
    const until = Date.now() + (timeout ?? Infinity)
    while (!this.isServiceServerAvailable()) {
      if (Date.now() >= until) return false
      await new Promise((r) => setTimeout(r, 5))
    }
    return true
  }

  sendRequest (request: any, callback: (response: any) => void, _options?: object): void { this.send(request, callback) }

  private send (request: any, callback: (response: any) => void): void {
    const req = copyMessage(request)
    setImmediate(() => {
      const server = this.ctx.services.get(this.serviceName)
      // Like ROS, a request with no server is simply never answered.
      server?.handle(req, (response) => this.node._post(() => {
        try { callback(copyMessage(response)) } catch (err) { this.ctx.errors.push(err) }
      }))
    })
  }

  sendRequestAsync (request: any, options: { timeout?: number, signal?: AbortSignal } = {}): Promise<any> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      if (options.timeout !== undefined) {
        timer = setTimeout(() => reject(new TimeoutError(`${this.serviceName}: no response within ${options.timeout} ms`)), options.timeout)
      }
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(Object.assign(new Error('request aborted'), { name: 'AbortError' }))
      })
      this.send(request, (response) => { clearTimeout(timer); resolve(response) })
    })
  }
}

export class StandinNode {
  /** The context nodes use when none is passed (subclasses made by createStandin set their own). */
  static defaultContext = new StandinContext()

  readonly context: StandinContext
  private readonly _name: string
  private readonly _namespace: string
  private readonly parameters: StandinParameters
  private readonly timers = new Set<StandinTimer>()
  private readonly subscriptions = new Set<StandinSubscription>()
  private readonly serviceNames = new Set<string>()
  private readonly publishers = new Set<StandinPublisher>()
  private _spinning = false
  private readonly actionClients: object[] = []
  private readonly actionServers: object[] = []
  private _scheduled = false
  private readonly _ready: ReadyItem[] = []

  constructor (nodeName: string, namespace?: string, context?: StandinContext, options?: ParameterNodeOptions) {
    if (typeof nodeName !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(nodeName)) throw new TypeError(`"nodeName" invalid: ${String(nodeName)}`)
    this._name = nodeName
    this._namespace = namespace && namespace !== '' ? namespace : '/'
    this.context = context ?? (new.target as typeof StandinNode).defaultContext
    this.context.checkValid()
    this.parameters = new StandinParameters(nodeName, this.context.rosArgs, options)
    this.context.nodes.add(this)
    // rclnodejs creates its parameter services here, through the (overridable) createService.
    this.createService('rcl_interfaces/srv/ListParameters', '~/list_parameters', (_req: unknown, res: StandinResponse) => {
      res.send({ result: { names: this.getParameterNames(), prefixes: [] } })
    })
  }

  name (): string { return this._name }
  namespace (): string { return this._namespace }
  getFullyQualifiedName (): string { return (this._namespace === '/' ? '' : this._namespace) + '/' + this._name }
  now (): { nanoseconds: bigint } { return { nanoseconds: this.context.clock.nowNs() } }
  get spinning (): boolean { return this._spinning }
  spin (_timeout?: number): void {
    if (this._spinning) throw new Error('The node is already spinning.')
    this._spinning = true
    this._kick()
  }

  spinOnce (_timeout?: number): void {
    if (this._spinning) throw new Error('The node is already spinning.')
    const item = this._ready.shift()
    if (item) setImmediate(() => this._run(item))
  }

  stop (): void { this._spinning = false }

  /** @internal: a message for one of this node's subscriptions; KEEP_LAST drops the oldest beyond depth. */
  _deliver (sub: StandinSubscription, sample: Sample): void {
    const depth = qosDepth(sub.qos)
    const mine = this._ready.filter((r) => 'sub' in r && r.sub === sub)
    if (mine.length >= depth) this._ready.splice(this._ready.indexOf(mine[0]!), 1)
    this._ready.push({ sub, sample })
    this._kick()
  }

  /** @internal: work (service requests, responses) that runs when the node spins. */
  _post (fn: () => void): void { this._ready.push({ fn }); this._kick() }

  private _kick (): void {
    if (!this._spinning || this._scheduled || this._ready.length === 0) return
    this._scheduled = true
    setImmediate(() => {
      this._scheduled = false
      if (!this._spinning) return
      const batch = this._ready.splice(0)
      try {
        for (let i = 0; i < batch.length; i++) {
          try { this._run(batch[i]!) } catch (err) {
            // put the rest back first: one throwing callback must not lose the messages behind it
            this._ready.unshift(...batch.slice(i + 1))
            this.context.onCallbackError(err)
            break
          }
        }
      } finally { this._kick() }
    })
  }

  private _run (item: ReadyItem): void {
    if ('fn' in item) { item.fn(); return }
    if (this.subscriptions.has(item.sub)) item.sub._take(item.sample, this.context.clock.nowNs())
  }
  private resolve (name: string): string { return resolveName(name, this._namespace, this._name) }

  createPublisher (typeClass: any, topic: string, options?: object, eventCallbacks?: (event: object) => void): StandinPublisher {
    return this._createPublisher(typeClass, topic, options, StandinPublisher, eventCallbacks)
  }

  /** @internal: rclnodejs routes createPublisher and createLifecyclePublisher through this one method. */
  _createPublisher (typeClass: any, topic: string, options: any, publisherClass: typeof StandinPublisher, _eventCallbacks?: unknown): StandinPublisher {
    const T = resolveStandinType(typeClass)
    if (typeof topic !== 'string') throw new TypeError('"topic" expected a string')
    const pub = new publisherClass(this.context, this.resolve(topic), T, defaultOptions(options))
    this.publishers.add(pub)
    return pub
  }

  createSubscription (typeClass: any, topic: string, callback: (message: any, info?: any) => void): StandinSubscription
  createSubscription (typeClass: any, topic: string, options: object | undefined, callback: (message: any, info?: any) => void, eventCallbacks?: (event: object) => void): StandinSubscription
  createSubscription (typeClass: any, topic: string, optionsOrCallback: any, callback?: any, _eventCallbacks?: (event: object) => void): StandinSubscription {
    const T = resolveStandinType(typeClass)
    const cb = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback
    if (typeof cb !== 'function') throw new TypeError('"callback" expected a function')
    const options = defaultOptions(typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback)
    const sub = new StandinSubscription(this.resolve(topic), T, options, cb)
    const ep: TopicEndpoint = { typeName: T.typeName, deliver: (s) => this._deliver(sub, s), node: this }
    sub._unsubscribe = this.context.subscribe(sub.topic, ep)
    this.subscriptions.add(sub)
    return sub
  }

  createClient (_typeClass: any, serviceName: string, _options?: object): StandinClient {
    return new StandinClient(this.context, this.resolve(serviceName), this)
  }

  createService (typeClass: any, serviceName: string, callback: (request: any, response: StandinResponse) => unknown): StandinService
  createService (typeClass: any, serviceName: string, options: object, callback: (request: any, response: StandinResponse) => unknown): StandinService
  createService (typeClass: any, serviceName: string, optionsOrCallback: any, callback?: any): StandinService {
    const handler = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback
    if (typeof handler !== 'function') throw new TypeError('"callback" expected a function')
    const name = this.resolve(serviceName)
    const ctx = this.context
    ctx.services.set(name, {
      typeName: standinTypeName(typeClass),
      handle: (request, respond) => this._post(() => {
        const response = new StandinResponse(respond)
        // rclnodejs: Promise.resolve(callback(request, response)); a returned value is sent if send() was not called.
        Promise.resolve().then(() => handler(request, response)).then((value: unknown) => {
          if (!response.sent && value) response.send(value)
        }).catch((err: unknown) => ctx.errors.push(err))
      })
    })
    this.serviceNames.add(name)
    return new StandinService(name)
  }

  createTimer (period: bigint, callback: (info?: any) => void, _optionsOrClock?: any, _clock?: any): StandinTimer {
    if (typeof period !== 'bigint') throw new TypeError('"period" expected nanoseconds as a bigint')
    const t = new StandinTimer(period, () => callback(), () => this._spinning)
    this.timers.add(t)
    return t
  }

  destroyTimer (timer: StandinTimer): void { timer.cancel(); this.timers.delete(timer) }
  destroySubscription (sub: StandinSubscription): void { sub._unsubscribe(); this.subscriptions.delete(sub) }
  destroyPublisher (pub: StandinPublisher): void { this.publishers.delete(pub) }
  destroyService (service: StandinService): void { this.context.services.delete(service.serviceName); this.serviceNames.delete(service.serviceName) }
  destroyClient (_client: StandinClient): void {}

  /** @internal rclnodejs: every ActionClient / ActionServer registers itself with its node here */
  _addActionClient (client: object): void { this.actionClients.push(client) }
  /** @internal */
  _addActionServer (server: object): void { this.actionServers.push(server) }

  declareParameter (parameter: Parameter, descriptor?: ParameterDescriptor, ignoreOverride = false): Parameter {
    return this.declareParameters([parameter], descriptor ? [descriptor] : [], ignoreOverride)[0]!
  }

  declareParameters (parameters: Parameter[], descriptors: ParameterDescriptor[] = [], ignoreOverrides = false): Parameter[] {
    return this.parameters.declare(parameters, descriptors, ignoreOverrides)
  }

  hasParameter (name: string): boolean { return this.parameters.has(name) }
  getParameter (name: string): Parameter { return this.parameters.get(name) }
  getParameters (names?: string[]): Parameter[] { return this.parameters.getMany(names) }
  getParameterNames (): string[] { return this.parameters.getMany().map((p) => p.name) }
  getParameterOverrides (): Parameter[] { return [...this.parameters.overrides.values()] }
  hasParameterDescriptor (name: string): boolean { return this.parameters.descriptor(name) !== undefined }
  getParameterDescriptor (name: string): ParameterDescriptor { return this.parameters.descriptor(name) ?? new ParameterDescriptor(name) }
  getParameterDescriptors (names: string[] = []): ParameterDescriptor[] {
    return names.length === 0 ? [...this.parameters.descriptors.values()] : names.map((n) => this.getParameterDescriptor(n))
  }

  addOnSetParametersCallback (cb: (p: Parameter[]) => SetParametersResult): void { this.parameters.onSet.unshift(cb) }
  addPostSetParametersCallback (cb: (p: Parameter[]) => void): void { this.parameters.postSet.unshift(cb) }
  addPreSetParametersCallback (cb: (p: Parameter[]) => Parameter[]): void { this.parameters.preSet.unshift(cb) }

  undeclareParameter (name: string): void { this.parameters.undeclare(name) }

  setParameter (parameter: Parameter): SetParametersResult { return this.setParameters([parameter])[0]! }
  setParameters (parameters: Parameter[]): SetParametersResult[] { return parameters.map((p) => this.setParametersAtomically([p])) }

  setParametersAtomically (parameters: Parameter[]): SetParametersResult { return this._setParametersAtomically(parameters) }

  /** @internal rclnodejs: declarations and sets share this pipeline (params.ts) */
  _setParametersAtomically (parameters: Parameter[], declaring = false): SetParametersResult { return this.parameters.setAtomically(parameters, declaring) }

  destroy (): void {
    for (const t of this.timers) t.cancel()
    for (const s of this.subscriptions) s._unsubscribe()
    for (const n of this.serviceNames) this.context.services.delete(n)
    this.timers.clear(); this.subscriptions.clear(); this.serviceNames.clear(); this.publishers.clear()
    this._spinning = false
    this.context.nodes.delete(this)
  }
}
