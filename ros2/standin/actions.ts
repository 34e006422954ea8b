// STAND-IN — NOT ROS 2. ActionClient / ActionServer with rclnodejs 2.2's constructor and method
// shapes (types/action_client.d.ts, action_server.d.ts): goal → goal callback (accept/reject) →
// execute callback with a goal handle that publishes feedback and ends succeeded / aborted / canceled;
// the client's goal handle resolves getResult() when the server finishes. No result timeouts, no
// status topic, one server per action name.
import { copyMessage, newGoalId, StandinContext } from './context.js'
import type { StandinNode } from './node.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const GoalResponse = { REJECT: 1, ACCEPT: 2 } as const
export const CancelResponse = { REJECT: 1, ACCEPT: 2 } as const
/** action_msgs/msg/GoalStatus */
export const GoalStatus = { UNKNOWN: 0, ACCEPTED: 1, EXECUTING: 2, CANCELING: 3, SUCCEEDED: 4, CANCELED: 5, ABORTED: 6 } as const

export class StandinServerGoalHandle {
  readonly request: any
  readonly goalId: { uuid: Uint8Array }
  statusCode: number = GoalStatus.ACCEPTED
  isCancelRequested = false
  /** @internal */ _feedback: (f: any) => void
  constructor (request: any, goalId: { uuid: Uint8Array }, feedback: (f: any) => void) {
    this.request = request; this.goalId = goalId; this._feedback = feedback
  }

  get status (): string { return String(this.statusCode) }
  get isActive (): boolean { return this.statusCode <= GoalStatus.CANCELING }
  publishFeedback (feedback: any): void { this._feedback(copyMessage(feedback)) }
  succeed (): void { this.statusCode = GoalStatus.SUCCEEDED }
  abort (): void { this.statusCode = GoalStatus.ABORTED }
  canceled (): void { this.statusCode = GoalStatus.CANCELED }
}

export class StandinClientGoalHandle {
  readonly goalId: { uuid: Uint8Array }
  readonly accepted: boolean
  status: number
  /** @internal */ _result: Promise<any>
  /** @internal */ _cancel: () => Promise<any>
  /** @internal */ _client: StandinActionClient
  constructor (client: StandinActionClient, goalId: { uuid: Uint8Array }, accepted: boolean, result: Promise<any>, cancel: () => Promise<any>) {
    this._client = client; this.goalId = goalId; this.accepted = accepted; this._result = result; this._cancel = cancel
    this.status = accepted ? GoalStatus.ACCEPTED : GoalStatus.UNKNOWN
  }

  isAccepted (): boolean { return this.accepted }
  isSucceeded (): boolean { return this.status === GoalStatus.SUCCEEDED }
  getResult (): Promise<any> { return this._result }
  cancelGoal (): Promise<any> { return this._client._cancelGoal(this) }
}

const defaultGoalCallback = (): number => GoalResponse.ACCEPT
const defaultCancelCallback = (): number => CancelResponse.REJECT

/** Like rclnodejs: callbacks live on the server (register*Callback replaces them); the node learns of it via _addActionServer. */
export class StandinActionServer {
  /** @internal */ _callback!: (h: StandinServerGoalHandle) => any
  /** @internal */ _goalCallback: (goal: any) => number = defaultGoalCallback
  /** @internal */ _handleAcceptedCallback: ((h: StandinServerGoalHandle) => void) | undefined
  /** @internal */ _cancelCallback: (h?: StandinServerGoalHandle) => any = defaultCancelCallback
  /** @internal */ readonly _actionName: string
  /** @internal */ readonly _typeClass: any
  private readonly ctx: StandinContext
  private readonly name: string
  constructor (node: StandinNode, typeClass: any, actionName: string, executeCallback: (h: StandinServerGoalHandle) => any,
    goalCallback?: (goal: any) => number, handleAcceptedCallback?: (h: StandinServerGoalHandle) => void,
    cancelCallback?: (h?: StandinServerGoalHandle) => any, _options?: object) {
    this.ctx = node.context
    this._actionName = actionName
    this._typeClass = typeClass
    this.name = actionName.startsWith('/') ? actionName : '/' + actionName
    this.registerExecuteCallback(executeCallback)
    this.registerGoalCallback(goalCallback)
    this.registerHandleAcceptedCallback(handleAcceptedCallback)
    this.registerCancelCallback(cancelCallback)
    this.ctx.actions.set(this.name, { typeName: String(typeClass), server: this })
    node._addActionServer(this)
  }

  registerExecuteCallback (cb: (h: StandinServerGoalHandle) => any): void {
    if (typeof cb !== 'function') throw new TypeError('"executeCallback" expected a function')
    this._callback = cb
  }

  registerGoalCallback (cb?: (goal: any) => number): void { this._goalCallback = cb ?? defaultGoalCallback }
  registerHandleAcceptedCallback (cb?: (h: StandinServerGoalHandle) => void): void { this._handleAcceptedCallback = cb }
  registerCancelCallback (cb?: (h?: StandinServerGoalHandle) => any): void { this._cancelCallback = cb ?? defaultCancelCallback }
  destroy (): void { this.ctx.actions.delete(this.name) }
}

export class StandinActionClient {
  /** @internal */ readonly _actionName: string
  /** @internal */ readonly _typeClass: any
  private readonly ctx: StandinContext
  private readonly name: string
  constructor (node: StandinNode, typeClass: any, actionName: string, _options?: object) {
    this.ctx = node.context
    this._actionName = actionName
    this._typeClass = typeClass
    this.name = actionName.startsWith('/') ? actionName : '/' + actionName
    node._addActionClient(this)
  }

  /** @internal rclnodejs: ClientGoalHandle.cancelGoal() calls this */
  _cancelGoal (handle: StandinClientGoalHandle): Promise<any> {
    if (!(handle instanceof StandinClientGoalHandle)) throw new TypeError('"goalHandle" expected a ClientGoalHandle')
    return handle._cancel()
  }

  isActionServerAvailable (): boolean { return this.ctx.actions.has(this.name) }
  async waitForServer (_timeout?: number): Promise<boolean> { return this.isActionServerAvailable() }

  async sendGoal (goal: any, feedbackCallback?: (feedback: any) => void, goalUuid?: { uuid: Uint8Array }, _options?: object): Promise<StandinClientGoalHandle> {
    await new Promise((r) => setImmediate(r))
    const srv = this.ctx.actions.get(this.name)?.server as StandinActionServer | undefined
    const entry = srv && { execute: srv._callback, goal: srv._goalCallback, accepted: srv._handleAcceptedCallback, cancel: srv._cancelCallback }
    if (!entry) throw Object.assign(new Error(`no action server for ${this.name}`), { name: 'ActionServerNotFoundError' })
    const goalId = goalUuid ?? newGoalId()
    const request = copyMessage(goal)
    const decision = entry.goal(request)
    if (decision !== GoalResponse.ACCEPT) {
      const rejected = Promise.reject(new Error('goal rejected'))
      rejected.catch(() => {})
      return new StandinClientGoalHandle(this, goalId, false, rejected, async () => ({}))
    }
    const server = new StandinServerGoalHandle(request, goalId, (f) => {
      setImmediate(() => { try { feedbackCallback?.(f) } catch (err) { this.ctx.errors.push(err) } })
    })
    let client: StandinClientGoalHandle | undefined
    const result = new Promise<any>((resolve, reject) => {
      setImmediate(() => {
        server.statusCode = GoalStatus.EXECUTING
        entry.accepted?.(server)
        Promise.resolve().then(() => entry.execute(server)).then((r) => {
          // rclnodejs/rclpy: a goal still active when execute returns is aborted
          if (server.isActive) server.abort()
          client!.status = server.statusCode
          setImmediate(() => resolve(copyMessage(r ?? {})))
        }, (err) => {
          server.abort(); client!.status = server.statusCode
          reject(err)
        })
      })
    })
    result.catch(() => {}) // observed via getResult(); avoid an unhandled rejection if never asked
    const cancel = async (): Promise<any> => {
      const d = await entry.cancel(server)
      if (d === CancelResponse.ACCEPT) { server.isCancelRequested = true; server.statusCode = GoalStatus.CANCELING }
      return { return_code: d === CancelResponse.ACCEPT ? 0 : 1 }
    }
    client = new StandinClientGoalHandle(this, goalId, true, result, cancel)
    return client
  }
}
