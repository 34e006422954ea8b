// STAND-IN — NOT ROS 2. createStandin() returns an object shaped like the part of the rclnodejs
// module the bridge uses (Node, lifecycle.LifecycleNode, ActionClient, ActionServer, Parameter, init,
// shutdown), all running in this process on one StandinContext, plus the audited classes bound to it.
// Use it for tests, demos and simulated robots; every node_init event it produces says
// binding: 'standin', so a chain recorded on it cannot pass for one recorded on ROS 2.
import { bindRos2, type BoundRos2 } from '../bind.js'
import { StandinContext, type StandinClock } from './context.js'
import { StandinNode, Parameter, ParameterDescriptor, ParameterType, TimeoutError } from './node.js'
import { removeRosArgs } from '../ros-args.js'
import { StandinLifecycleNode, CallbackReturnValue, CallbackReturnCode, State } from './lifecycle.js'
import { StandinActionClient, StandinActionServer, GoalResponse, CancelResponse, GoalStatus } from './actions.js'
import { MessageInfo } from './topics.js'
import { deserializeMessage, serializeMessage, standinType, type StandinMessage, type StandinTypeClass } from './interfaces.js'

export { StandinContext, wallClock, type StandinClock } from './context.js'
export { StandinNode, Parameter, ParameterDescriptor, ParameterType, TimeoutError } from './node.js'
export { StandinLifecycleNode, CallbackReturnValue, CallbackReturnCode, State } from './lifecycle.js'
export { StandinActionClient, StandinActionServer, GoalResponse, CancelResponse, GoalStatus } from './actions.js'
export { MessageInfo, StandinPublisher, StandinLifecyclePublisher, StandinSubscription, StandinTimer } from './topics.js'
export { standinType, serializeMessage, deserializeMessage, type StandinTypeClass } from './interfaces.js'

/** The rclnodejs-shaped module object of one stand-in graph. */
export interface StandinRclnodejs {
  readonly STANDIN: true
  readonly context: StandinContext
  readonly Node: typeof StandinNode
  readonly lifecycle: {
    LifecycleNode: typeof StandinLifecycleNode
    CallbackReturnValue: typeof CallbackReturnValue
    CallbackReturnCode: typeof CallbackReturnCode
    State: typeof State
  }
  readonly ActionClient: typeof StandinActionClient
  readonly ActionServer: typeof StandinActionServer
  readonly GoalResponse: typeof GoalResponse
  readonly CancelResponse: typeof CancelResponse
  readonly GoalStatus: typeof GoalStatus
  readonly Parameter: typeof Parameter
  readonly ParameterDescriptor: typeof ParameterDescriptor
  readonly ParameterType: typeof ParameterType
  readonly TimeoutError: typeof TimeoutError
  readonly MessageInfo: typeof MessageInfo
  /** rclnodejs.require('pkg/msg/Name'): the message's type class (messages only in the stand-in). */
  require (typeName: string): StandinTypeClass
  serializeMessage (message: unknown, typeClass: StandinTypeClass): Buffer
  deserializeMessage (buffer: Buffer, typeClass: StandinTypeClass): StandinMessage
  /** Required before the first node, as in rclnodejs; parses the ROS arguments in argv (default process.argv). */
  init (context?: StandinContext, argv?: string[]): Promise<void>
  removeROSArgs (argv: string[]): string[]
  shutdown (): void
  isShutdown (): boolean
  removeSignalHandlers (): void
}

export interface Standin extends BoundRos2<StandinNode, StandinLifecycleNode, StandinActionClient, StandinActionServer> {
  rclnodejs: StandinRclnodejs
}

/** A fresh, isolated stand-in graph (its own topics, services, actions and clock). */
export function createStandin (options: { clock?: StandinClock } = {}): Standin {
  const context = new StandinContext(options)
  // Subclasses whose default context is this graph, so `new Node(name)` joins it as in rclnodejs.
  class Node extends StandinNode { static override defaultContext = context }
  class LifecycleNode extends StandinLifecycleNode { static override defaultContext = context }
  const rcl: StandinRclnodejs = {
    STANDIN: true as const,
    context,
    Node,
    lifecycle: { LifecycleNode, CallbackReturnValue, CallbackReturnCode, State },
    ActionClient: StandinActionClient,
    ActionServer: StandinActionServer,
    GoalResponse,
    CancelResponse,
    GoalStatus,
    Parameter,
    ParameterDescriptor,
    ParameterType,
    TimeoutError,
    MessageInfo,
    require: standinType,
    serializeMessage,
    deserializeMessage,
    init: async (ctx?: StandinContext, argv?: string[]): Promise<void> => {
      if (ctx !== undefined && ctx !== context) throw new Error('the stand-in has one context per graph: pass none, or rclnodejs.context')
      context.init(argv)
    },
    removeROSArgs: (argv: string[]): string[] => removeRosArgs(argv),
    shutdown: (): void => context.shutdown(),
    isShutdown: (): boolean => context.isShutdown(),
    removeSignalHandlers: (): void => {}
  }
  const bound = bindRos2<StandinNode, StandinLifecycleNode, StandinActionClient, StandinActionServer>(rcl, 'standin')
  return { rclnodejs: rcl, ...bound }
}
