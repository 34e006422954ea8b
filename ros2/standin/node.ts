// STAND-IN — NOT ROS 2. Node, publishers, subscriptions, services, clients, timers and parameters
// with rclnodejs 2.2's method names and call shapes (types/node.d.ts), running on a StandinContext.
// Behaviour copied from rclnodejs where the bridge depends on it: createService accepts a handler
// that answers with response.send() or by returning the response; setParameter(s) funnel into
// setParametersAtomically; the constructor itself creates infrastructure services through
// this.createService (as rclnodejs's parameter services do).
import { copyMessage, resolveName, standinTypeName, StandinContext, type TopicEndpoint } from './context.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- messages are untyped in the stand-in */

export const ParameterType = {
  PARAMETER_NOT_SET: 0, PARAMETER_BOOL: 1, PARAMETER_INTEGER: 2, PARAMETER_DOUBLE: 3, PARAMETER_STRING: 4,
  PARAMETER_BYTE_ARRAY: 5, PARAMETER_BOOL_ARRAY: 6, PARAMETER_INTEGER_ARRAY: 7, PARAMETER_DOUBLE_ARRAY: 8, PARAMETER_STRING_ARRAY: 9
} as const

export class Parameter {
  readonly name: string
  readonly type: number
  value: any
  constructor (name: string, type: number, value?: any) { this.name = name; this.type = type; this.value = value }
}

export interface SetParametersResult { successful: boolean, reason: string }

export class TimeoutError extends Error {
  constructor (message: string) { super(message); this.name = 'TimeoutError' }
}

export class StandinPublisher {
  readonly topic: string
  private readonly ctx: StandinContext
  private readonly typeName: string
  constructor (ctx: StandinContext, topic: string, typeName: string) { this.ctx = ctx; this.topic = topic; this.typeName = typeName }
  publish (message: any, _options?: { validate?: boolean }): void { this.ctx.publish(this.topic, this.typeName, message) }
  subscriptionCount (): number { return this.ctx.countSubscribers(this.topic) }
}

export class StandinSubscription {
  readonly topic: string
  /** @internal */ readonly _unsubscribe: () => void
  constructor (topic: string, unsubscribe: () => void) { this.topic = topic; this._unsubscribe = unsubscribe }
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
  constructor (ctx: StandinContext, serviceName: string) { this.ctx = ctx; this.serviceName = serviceName }

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
      server?.handle(req, (response) => setImmediate(() => {
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

export class StandinTimer {
  readonly period: bigint
  private handle: NodeJS.Timeout | undefined
  constructor (period: bigint, callback: () => void, onError: (e: unknown) => void) {
    this.period = period
    const ms = Math.max(1, Number(period / 1_000_000n))
    this.handle = setInterval(() => { try { callback() } catch (err) { onError(err) } }, ms)
  }

  isCanceled (): boolean { return this.handle === undefined }
  cancel (): void { clearInterval(this.handle); this.handle = undefined }
}

export class StandinNode {
  /** The context nodes use when none is passed (subclasses made by createStandin set their own). */
  static defaultContext = new StandinContext()

  readonly context: StandinContext
  private readonly _name: string
  private readonly _namespace: string
  private readonly parameters = new Map<string, Parameter>()
  private readonly onSet: Array<(p: Parameter[]) => SetParametersResult> = []
  private readonly postSet: Array<(p: Parameter[]) => void> = []
  private readonly timers = new Set<StandinTimer>()
  private readonly subscriptions = new Set<StandinSubscription>()
  private readonly serviceNames = new Set<string>()

  constructor (nodeName: string, namespace?: string, context?: StandinContext, _options?: object) {
    if (typeof nodeName !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(nodeName)) throw new TypeError(`"nodeName" invalid: ${String(nodeName)}`)
    this._name = nodeName
    this._namespace = namespace && namespace !== '' ? namespace : '/'
    this.context = context ?? (new.target as typeof StandinNode).defaultContext
    this.context.nodes.add(this)
    // rclnodejs creates its parameter services here, through the (overridable) createService.
    this.createService('rcl_interfaces/srv/ListParameters', '~/list_parameters', (_req: unknown, res: StandinResponse) => {
      res.send({ result: { names: [...this.parameters.keys()], prefixes: [] } })
    })
  }

  name (): string { return this._name }
  namespace (): string { return this._namespace }
  getFullyQualifiedName (): string { return (this._namespace === '/' ? '' : this._namespace) + '/' + this._name }
  now (): { nanoseconds: bigint } { return { nanoseconds: this.context.clock.nowNs() } }
  spin (_timeout?: number): void { /* delivery is already asynchronous in the stand-in */ }
  spinOnce (_timeout?: number): void {}
  stop (): void {}
  private resolve (name: string): string { return resolveName(name, this._namespace, this._name) }

  createPublisher (typeClass: any, topic: string, _options?: object, _eventCallbacks?: (event: object) => void): StandinPublisher {
    return new StandinPublisher(this.context, this.resolve(topic), standinTypeName(typeClass))
  }

  createSubscription (typeClass: any, topic: string, callback: (message: any, info?: any) => void): StandinSubscription
  createSubscription (typeClass: any, topic: string, options: object, callback: (message: any, info?: any) => void, eventCallbacks?: (event: object) => void): StandinSubscription
  createSubscription (typeClass: any, topic: string, optionsOrCallback: any, callback?: any, _eventCallbacks?: (event: object) => void): StandinSubscription {
    const cb = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback
    if (typeof cb !== 'function') throw new TypeError('"callback" expected a function')
    const resolved = this.resolve(topic)
    const ep: TopicEndpoint = { typeName: standinTypeName(typeClass), deliver: (m) => cb(m), node: this }
    const sub = new StandinSubscription(resolved, this.context.subscribe(resolved, ep))
    this.subscriptions.add(sub)
    return sub
  }

  createClient (_typeClass: any, serviceName: string, _options?: object): StandinClient {
    return new StandinClient(this.context, this.resolve(serviceName))
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
      handle: (request, respond) => {
        const response = new StandinResponse(respond)
        // rclnodejs: Promise.resolve(callback(request, response)); a returned value is sent if send() was not called.
        Promise.resolve().then(() => handler(request, response)).then((value: unknown) => {
          if (!response.sent && value) response.send(value)
        }).catch((err: unknown) => ctx.errors.push(err))
      }
    })
    this.serviceNames.add(name)
    return new StandinService(name)
  }

  createTimer (period: bigint, callback: (info?: any) => void, _optionsOrClock?: any, _clock?: any): StandinTimer {
    if (typeof period !== 'bigint') throw new TypeError('"period" expected nanoseconds as a bigint')
    const t = new StandinTimer(period, () => callback(), (err) => this.context.errors.push(err))
    this.timers.add(t)
    return t
  }

  destroyTimer (timer: StandinTimer): void { timer.cancel(); this.timers.delete(timer) }
  destroySubscription (sub: StandinSubscription): void { sub._unsubscribe(); this.subscriptions.delete(sub) }

  declareParameter (parameter: Parameter, descriptor?: object, ignoreOverride?: boolean): Parameter {
    return this.declareParameters([parameter], descriptor ? [descriptor] : undefined, ignoreOverride)[0]!
  }

  declareParameters (parameters: Parameter[], _descriptors?: object[], _ignoreOverrides?: boolean): Parameter[] {
    for (const p of parameters) if (this.parameters.has(p.name)) throw new Error(`Parameter(${p.name}) already declared.`)
    for (const p of parameters) this.parameters.set(p.name, new Parameter(p.name, p.type, p.value))
    return parameters.map((p) => this.parameters.get(p.name)!)
  }

  hasParameter (name: string): boolean { return this.parameters.has(name) }
  getParameter (name: string): Parameter { return this.parameters.get(name) ?? new Parameter(name, ParameterType.PARAMETER_NOT_SET) }
  getParameters (names?: string[]): Parameter[] { return (names ?? [...this.parameters.keys()]).map((n) => this.getParameter(n)) }
  addOnSetParametersCallback (cb: (p: Parameter[]) => SetParametersResult): void { this.onSet.unshift(cb) }
  addPostSetParametersCallback (cb: (p: Parameter[]) => void): void { this.postSet.unshift(cb) }

  setParameter (parameter: Parameter): SetParametersResult { return this.setParameters([parameter])[0]! }
  setParameters (parameters: Parameter[]): SetParametersResult[] { return parameters.map((p) => this.setParametersAtomically([p])) }

  setParametersAtomically (parameters: Parameter[]): SetParametersResult {
    for (const p of parameters) {
      const current = this.parameters.get(p.name)
      if (!current) return { successful: false, reason: `Parameter ${p.name} has not been declared` }
      if (current.type !== p.type) return { successful: false, reason: `Parameter ${p.name} has type ${current.type}, not ${p.type}` }
    }
    for (const cb of this.onSet) {
      const r = cb(parameters)
      if (!r?.successful) return { successful: false, reason: r?.reason ?? 'rejected' }
    }
    for (const p of parameters) this.parameters.set(p.name, new Parameter(p.name, p.type, p.value))
    for (const cb of this.postSet) cb(parameters)
    return { successful: true, reason: '' }
  }

  destroy (): void {
    for (const t of this.timers) t.cancel()
    for (const s of this.subscriptions) s._unsubscribe()
    for (const n of this.serviceNames) this.context.services.delete(n)
    this.timers.clear(); this.subscriptions.clear(); this.serviceNames.clear()
    this.context.nodes.delete(this)
  }
}
