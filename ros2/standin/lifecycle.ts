// STAND-IN — NOT ROS 2. rclnodejs's LifecycleNode state machine (the ROS 2 managed-node design:
// unconfigured → inactive → active → finalized), with its structure copied from rclnodejs 2.2
// lib/lifecycle.js: the public transition methods AND the ~/change_state service all go through
// _changeState, which runs the registered callback and settles on the resulting state.
import { StandinLifecyclePublisher } from './topics.js'
import { StandinNode, StandinResponse } from './node.js'
import type { StandinContext } from './context.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const CallbackReturnCode = { SUCCESS: 97, FAILURE: 98, ERROR: 99 } as const

export class State {
  readonly id: number
  readonly label: string
  constructor (id: number, label: string) { this.id = id; this.label = label }
  asMessage (): { id: number, label: string } { return { id: this.id, label: this.label } }
}

export class CallbackReturnValue {
  value: number
  errorMsg = ''
  constructor (value: number = CallbackReturnCode.SUCCESS) { this.value = value }
  isSuccess (): boolean { return this.value === CallbackReturnCode.SUCCESS }
  isFailure (): boolean { return this.value === CallbackReturnCode.FAILURE }
  isError (): boolean { return this.value === CallbackReturnCode.ERROR }
}

const S = {
  unconfigured: new State(1, 'unconfigured'), inactive: new State(2, 'inactive'), active: new State(3, 'active'),
  finalized: new State(4, 'finalized'), configuring: new State(10, 'configuring'), cleaningup: new State(11, 'cleaningup'),
  shuttingdown: new State(12, 'shuttingdown'), activating: new State(13, 'activating'), deactivating: new State(14, 'deactivating'),
  errorprocessing: new State(15, 'errorprocessing')
}

type TransitionRow = { id: number, label: string, from: State, via: State, success: State, failure: State }

/** lifecycle_msgs/msg/Transition ids, and where each goes (ROS 2 managed nodes design). */
const TABLE: TransitionRow[] = [
  { id: 1, label: 'configure', from: S.unconfigured, via: S.configuring, success: S.inactive, failure: S.unconfigured },
  { id: 2, label: 'cleanup', from: S.inactive, via: S.cleaningup, success: S.unconfigured, failure: S.inactive },
  { id: 3, label: 'activate', from: S.inactive, via: S.activating, success: S.active, failure: S.inactive },
  { id: 4, label: 'deactivate', from: S.active, via: S.deactivating, success: S.inactive, failure: S.active },
  { id: 5, label: 'shutdown', from: S.unconfigured, via: S.shuttingdown, success: S.finalized, failure: S.finalized },
  { id: 6, label: 'shutdown', from: S.inactive, via: S.shuttingdown, success: S.finalized, failure: S.finalized },
  { id: 7, label: 'shutdown', from: S.active, via: S.shuttingdown, success: S.finalized, failure: S.finalized }
]

export class StandinLifecycleNode extends StandinNode {
  private state: State = S.unconfigured
  private readonly callbacks = new Map<number, (prev: State) => number>()

  constructor (nodeName: string, namespace?: string, context?: StandinContext, options?: object, enableCommunicationInterface = true) {
    super(nodeName, namespace, context, options)
    if (enableCommunicationInterface) {
      this.createService('lifecycle_msgs/srv/ChangeState', '~/change_state', (req: any, res: StandinResponse) => {
        const v = new CallbackReturnValue()
        try {
          this._changeState(req?.transition?.label || req?.transition?.id, v)
          res.send({ success: v.isSuccess() })
        } catch {
          res.send({ success: false })
        }
      })
    }
  }

  get currentState (): State { return this.state }
  createLifecyclePublisher (typeClass: any, topic: string, options?: object): StandinLifecyclePublisher {
    return this._createPublisher(typeClass, topic, options, StandinLifecyclePublisher) as StandinLifecyclePublisher
  }

  registerOnConfigure (cb: (prev: State) => number): void { this.callbacks.set(S.configuring.id, cb) }
  registerOnActivate (cb: (prev: State) => number): void { this.callbacks.set(S.activating.id, cb) }
  registerOnDeactivate (cb: (prev: State) => number): void { this.callbacks.set(S.deactivating.id, cb) }
  registerOnCleanup (cb: (prev: State) => number): void { this.callbacks.set(S.cleaningup.id, cb) }
  registerOnShutdown (cb: (prev: State) => number): void { this.callbacks.set(S.shuttingdown.id, cb) }
  registerOnError (cb: (prev: State) => number): void { this.callbacks.set(S.errorprocessing.id, cb) }

  configure (v?: CallbackReturnValue): State { return this._changeState(1, v) }
  cleanup (v?: CallbackReturnValue): State { return this._changeState(2, v) }
  activate (v?: CallbackReturnValue): State { return this._changeState(3, v) }
  deactivate (v?: CallbackReturnValue): State { return this._changeState(4, v) }
  shutdown (v?: CallbackReturnValue): State { return this._changeState('shutdown', v) }

  /** @internal mirrors rclnodejs's private method of the same name */
  _changeState (transition: number | string, v?: CallbackReturnValue): State {
    const from = this.state
    const row = TABLE.find((r) => r.from === from && (typeof transition === 'number' ? r.id === transition : r.label === transition))
    if (!row) throw new Error(`No transition available from state ${from.label} for ${String(transition)}`)
    this.state = row.via
    let code = this.run(row.via, from)
    if (code === CallbackReturnCode.ERROR) {
      this.state = S.errorprocessing
      code = this.run(S.errorprocessing, from)
      this.state = code === CallbackReturnCode.SUCCESS ? S.unconfigured : S.finalized
    } else {
      this.state = code === CallbackReturnCode.SUCCESS ? row.success : row.failure
    }
    if (v) v.value = code
    return this.state
  }

  private run (state: State, prev: State): number {
    const cb = this.callbacks.get(state.id)
    if (!cb) return CallbackReturnCode.SUCCESS
    try { return cb(prev) } catch { return CallbackReturnCode.ERROR }
  }
}
