// The part of rclnodejs's API the bridge touches, as structural types. The bridge is written against
// these, the stand-in implements them, and the assertions at the bottom check at build time that
// rclnodejs's own published .d.ts still satisfies them: if rclnodejs renames a method or changes a
// signature the bridge relies on, `tsc` fails here rather than on a robot.
// Only types are imported from rclnodejs (erased at build), so nothing here loads its native addon.
import type * as rcl from 'rclnodejs'

/* eslint-disable @typescript-eslint/no-explicit-any -- ROS messages are typed per interface package; the bridge sees any message */
export type Msg = any
/** A message, service or action type: a class from rclnodejs.require(), a 'pkg/msg/Name' string, or a descriptor. */
export type TypeClassLike = any

export interface TimeLike { readonly nanoseconds: bigint }

export interface PublisherLike {
  readonly topic: string
  publish (message: Msg, options?: any): void
}

export interface SubscriptionLike { readonly topic: string }

export interface ClientLike {
  readonly serviceName: string
  sendRequest (request: Msg, callback: (response: Msg) => void, options?: any): void
  sendRequestAsync (request: Msg, options?: { timeout?: number, signal?: AbortSignal, validate?: boolean }): Promise<Msg>
}

export interface ServiceLike { readonly serviceName: string }

export interface ServiceResponseLike { send (response: Msg): void }

export type ServiceHandler = (request: Msg, response: ServiceResponseLike) => void

export interface TimerLike { readonly period: bigint, cancel (): void }

export interface ParameterLike { readonly name: string, readonly type: number, value: any }

export interface SetParametersResultLike { successful: boolean, reason: string }

export interface NodeLike {
  name (): string
  namespace (): string
  getFullyQualifiedName (): string
  now (): TimeLike
  createPublisher (typeClass: TypeClassLike, topic: string, options?: any, eventCallbacks?: (event: object) => void): PublisherLike
  createSubscription (typeClass: TypeClassLike, topic: string, optionsOrCallback: any, callback?: any, eventCallbacks?: (event: object) => void): SubscriptionLike
  createClient (typeClass: TypeClassLike, serviceName: string, options?: any): ClientLike
  createService (typeClass: TypeClassLike, serviceName: string, optionsOrCallback: any, callback?: any): ServiceLike
  createTimer (period: bigint, callback: (info?: any) => void, optionsOrClock?: any, clock?: any): TimerLike
  getParameter (name: string): ParameterLike
  declareParameters (parameters: ParameterLike[], descriptors?: any[], ignoreOverrides?: boolean): ParameterLike[]
  setParametersAtomically (parameters: ParameterLike[]): SetParametersResultLike
  hasParameter (name: string): boolean
  undeclareParameter (name: string): void
  destroyPublisher (publisher: any): void
  destroySubscription (subscription: any): void
  destroyClient (client: any): void
  destroyService (service: any): void
  destroyTimer (timer: any): void
  destroy (): void
}

export type NodeConstructorLike = new (nodeName: string, namespace?: string, context?: any, options?: any) => NodeLike

// rclnodejs's State declares no id/label fields in its types, only asMessage(); use that.
export interface StateLike { asMessage (): { id: number, label: string } }

export interface CallbackReturnValueLike { value: number }

export interface LifecycleNodeLike extends NodeLike {
  readonly currentState: StateLike
  configure (callbackReturnValue?: any): StateLike
  activate (callbackReturnValue?: any): StateLike
  deactivate (callbackReturnValue?: any): StateLike
  cleanup (callbackReturnValue?: any): StateLike
  shutdown (callbackReturnValue?: any): StateLike
}

export type LifecycleNodeConstructorLike = new (nodeName: string, namespace?: string, context?: any, options?: any, enableCommunicationInterface?: boolean) => LifecycleNodeLike

export interface ClientGoalHandleLike {
  readonly accepted: boolean
  readonly goalId: { uuid: ArrayLike<number> }
  readonly status: number
  getResult (): Promise<Msg>
}

export interface ActionClientLike {
  sendGoal (goal: Msg, feedbackCallback?: (feedback: Msg) => void, goalUuid?: any, options?: any): Promise<ClientGoalHandleLike>
}

export interface ServerGoalHandleLike {
  readonly request: Msg
  readonly goalId: { uuid: ArrayLike<number> }
  readonly status: string
  publishFeedback (feedback: Msg): void
  succeed (): void
  abort (): void
  canceled (): void
}

export type ExecuteCallbackLike = (goalHandle: ServerGoalHandleLike) => Promise<Msg> | Msg

export type ActionClientConstructorLike = new (node: any, typeClass: TypeClassLike, actionName: string, options?: any) => ActionClientLike
export type ActionServerConstructorLike = new (node: any, typeClass: TypeClassLike, actionName: string, executeCallback: any,
  goalCallback?: any, handleAcceptedCallback?: any, cancelCallback?: any, options?: any) => object

/** What the bridge needs from "an rclnodejs": the real module, or the stand-in (ros2/standin). */
export interface RclBinding {
  readonly Node: NodeConstructorLike
  readonly lifecycle: {
    readonly LifecycleNode: LifecycleNodeConstructorLike
    readonly CallbackReturnValue: new (value?: any) => CallbackReturnValueLike
  }
  readonly ActionClient: ActionClientConstructorLike
  readonly ActionServer: ActionServerConstructorLike
  /** For the wire-bytes recipe (wire.ts); a binding without them keeps the JSON recipe. */
  readonly serializeMessage?: (message: object, typeClass: any) => Buffer
  readonly deserializeMessage?: (buffer: Buffer, typeClass: any) => object
}

// ---- build-time conformance with rclnodejs's published types ----
// Conforms<A, B> fails to compile, naming the missing or changed member, unless A is assignable to B.
type Conforms<A extends B, B> = A
export type RclConformance = [
  Conforms<rcl.Node, NodeLike>,
  Conforms<typeof rcl.Node, NodeConstructorLike>,
  Conforms<rcl.lifecycle.LifecycleNode, LifecycleNodeLike>,
  Conforms<typeof rcl.lifecycle.LifecycleNode, LifecycleNodeConstructorLike>,
  Conforms<rcl.Publisher<any>, PublisherLike>,
  Conforms<rcl.Subscription, SubscriptionLike>,
  Conforms<rcl.Client<any>, ClientLike>,
  Conforms<rcl.ServiceResponse<any>, ServiceResponseLike>,
  Conforms<rcl.Timer, TimerLike>,
  Conforms<rcl.Parameter, ParameterLike>,
  Conforms<rcl.Time, TimeLike>,
  Conforms<rcl.lifecycle.State, StateLike>,
  Conforms<rcl.ClientGoalHandle<any>, ClientGoalHandleLike>,
  Conforms<rcl.ActionClient<any>, ActionClientLike>,
  Conforms<rcl.ServerGoalHandle<any>, ServerGoalHandleLike>,
  Conforms<typeof rcl.ActionClient, ActionClientConstructorLike>,
  Conforms<typeof rcl.ActionServer, ActionServerConstructorLike>,
  Conforms<typeof rcl.lifecycle.CallbackReturnValue, new (value?: any) => CallbackReturnValueLike>,
  Conforms<Pick<typeof rcl, 'serializeMessage' | 'deserializeMessage'>, Required<Pick<RclBinding, 'serializeMessage' | 'deserializeMessage'>>>,
  Conforms<rcl.MessageInfo, { publisherGid: Buffer, publicationSequenceNumber: bigint, sourceTimestamp: bigint, receivedTimestamp: bigint }>
]
