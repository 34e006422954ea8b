// Audited action clients and servers. Client: action_goal → action_goal_response (accepted or not) →
// action_feedback (sampled per the action's policy) → action_result. Server: action_goal_received →
// action_feedback → action_goal_result. Goals pair up by goal_id (the UUID, hex); results carry the
// outcome and the duration from goal to result.
import { elapsedMs, errorFields, hashOrNull, NodeAuditor, typeName, type Payload } from './auditor.js'
import { toHex } from '../runtime/index.js'
import type { ActionClientLike, ClientGoalHandleLike, ExecuteCallbackLike, Msg, ServerGoalHandleLike, TypeClassLike } from './rcl-api.js'
import type { Sampler } from './policy.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- rclnodejs's ActionServer keeps its callbacks in private fields */

/** action_msgs/msg/GoalStatus constants. */
const STATUS: { [k: number]: string } = { 0: 'unknown', 1: 'accepted', 2: 'executing', 3: 'canceling', 4: 'succeeded', 5: 'canceled', 6: 'aborted' }

export function goalIdHex (goalId: { uuid: ArrayLike<number> } | undefined): string | null {
  if (!goalId || goalId.uuid === undefined) return null
  return toHex(Uint8Array.from(goalId.uuid))
}

function feedbackRecorder (a: NodeAuditor, sampler: Sampler, action: string, base: () => Payload): (feedback: Msg) => void {
  let seq = 0
  return (feedback) => {
    seq++
    const h = hashOrNull(a, feedback, 'action_feedback')
    const offer = sampler.offer(seq, h, a.nowNs())
    if (!offer.stamp) return
    const fields: Payload = { action, ...base(), feedback_hash: h, seq }
    if (sampler.policy.mode !== 'every') fields.skipped = offer.skipped
    a.stamp('action_feedback', fields)
  }
}

/** Goals whose feedback window is kept open at once per client; beyond it the oldest is closed. */
export const MAX_LIVE_GOALS = 256

/**
 * Replaces sendGoal (and _cancelGoal, rclnodejs's one path for goalHandle.cancelGoal()) on this
 * ActionClient instance; wraps each returned goal handle's getResult. Each goal's feedback sampler is
 * released when its result arrives, its goal is rejected or canceled, or MAX_LIVE_GOALS newer goals
 * are alive: a long-running client does not grow without bound.
 */
export function auditActionClient<C extends ActionClientLike> (a: NodeAuditor, client: C, typeClass: TypeClassLike, action: string): C {
  const actionType = typeName(typeClass)
  const policy = a.policyFor(action)
  a.stamp('action_client_created', { action, action_type: actionType, ...a.createdFields(policy) })
  const sendGoal = client.sendGoal.bind(client)
  const live = new Map<number, Sampler>()
  const release = (goalSeq: number): void => {
    const s = live.get(goalSeq)
    if (s) { live.delete(goalSeq); a.dropSampler(s) }
  }
  const cancel = (client as { _cancelGoal?: (h: ClientGoalHandleLike) => Promise<Msg> })._cancelGoal
  if (typeof cancel === 'function') {
    const original = cancel.bind(client)
    Object.defineProperty(client, '_cancelGoal', {
      value: async (handle: ClientGoalHandleLike): Promise<Msg> => {
        const goalId = goalIdHex(handle?.goalId)
        a.stamp('action_cancel_request', { action, goal_id: goalId })
        try {
          const response = await original(handle)
          const code = (response as { return_code?: unknown })?.return_code
          await a.stamp('action_cancel_response', { action, goal_id: goalId, return_code: typeof code === 'number' ? code : null, outcome: 'ok' })
          return response
        } catch (err) {
          await a.stamp('action_cancel_response', { action, goal_id: goalId, outcome: 'error', ...errorFields(err) })
          throw err
        }
      },
      configurable: true,
      writable: true
    })
  }
  let goals = 0
  const audited = async (goal: Msg, feedbackCallback?: (f: Msg) => void, goalUuid?: unknown, options?: unknown): Promise<ClientGoalHandleLike> => {
    const goalSeq = ++goals
    const t0 = a.clock.nowMs()
    const sent = a.stamp('action_goal', { action, action_type: actionType, goal_seq: goalSeq, goal_hash: hashOrNull(a, goal, 'action_goal') })
    if (a.callbackOrder === 'after-stamp') await sent
    let goalId: string | null = null
    let fb: ((f: Msg) => void) | undefined
    if (typeof feedbackCallback === 'function') {
      const sampler = a.sampler(policy, action, actionType, 'feedback')
      live.set(goalSeq, sampler)
      if (live.size > MAX_LIVE_GOALS) release(live.keys().next().value!)
      const rec = feedbackRecorder(a, sampler, action, () => ({ goal_seq: goalSeq, goal_id: goalId }))
      fb = (f) => { rec(f); a.runCallback({ source: 'action_feedback', action }, () => feedbackCallback(f)) }
    }
    let handle: ClientGoalHandleLike
    try {
      handle = await sendGoal(goal, fb, goalUuid, options)
    } catch (err) {
      release(goalSeq)
      await a.stamp('action_goal_response', { action, goal_seq: goalSeq, accepted: false, outcome: 'error', ...errorFields(err) })
      throw err
    }
    if (handle.accepted !== true) release(goalSeq)
    goalId = goalIdHex(handle.goalId)
    const responded = a.stamp('action_goal_response', { action, goal_seq: goalSeq, goal_id: goalId, accepted: handle.accepted === true, outcome: 'ok' })
    if (handle.accepted === true) {
      const getResult = handle.getResult.bind(handle)
      let once: Promise<Msg> | undefined
      const auditedResult = (): Promise<Msg> => {
        once ??= (async () => {
          try {
            const result = await getResult()
            const status = handle.status
            await a.stamp('action_result', {
              action, goal_seq: goalSeq, goal_id: goalId, status, outcome: STATUS[status] ?? 'unknown',
              result_hash: hashOrNull(a, result, 'action_result'), duration_ms: elapsedMs(a, t0)
            })
            return result
          } catch (err) {
            await a.stamp('action_result', { action, goal_seq: goalSeq, goal_id: goalId, outcome: 'error', duration_ms: elapsedMs(a, t0), ...errorFields(err) })
            throw err
          } finally {
            release(goalSeq)
          }
        })()
        return once
      }
      Object.defineProperty(handle, 'getResult', { value: auditedResult, configurable: true, writable: true })
    }
    if (a.callbackOrder === 'after-stamp') await responded
    return handle
  }
  Object.defineProperty(client, 'sendGoal', { value: audited, configurable: true, writable: true })
  return client
}

export interface AuditedServerCallbacks {
  execute: ExecuteCallbackLike
  goal?: (goal: Msg) => number
  cancel?: (goalHandle?: ServerGoalHandleLike) => unknown
}

/**
 * Wraps the callbacks given to an ActionServer. action_goal_received is queued before execute runs;
 * action_goal_result after it returns, with the terminal state the handler set (succeed / abort /
 * canceled) or 'error' if it threw. A goal callback's decision is stamped as action_goal_decision.
 */
export function auditActionServerCallbacks (a: NodeAuditor, typeClass: TypeClassLike, action: string, cb: AuditedServerCallbacks): AuditedServerCallbacks {
  if (typeof cb.execute !== 'function') throw new TypeError(`"executeCallback" for action ${action} expected a function, got ${typeof cb.execute}`)
  const actionType = typeName(typeClass)
  const policy = a.policyFor(action)
  a.stamp('action_server_created', { action, action_type: actionType, ...a.createdFields(policy) })
  const sampler = a.sampler(policy, action, actionType, 'feedback')
  const out: AuditedServerCallbacks = {
    execute: (handle) => {
      const goalId = goalIdHex(handle.goalId)
      const t0 = a.clock.nowMs()
      a.stamp('action_goal_received', { action, action_type: actionType, goal_id: goalId, goal_hash: hashOrNull(a, handle.request, 'action_goal_received') })
      let terminal: string | undefined
      const rec = feedbackRecorder(a, sampler, action, () => ({ goal_id: goalId }))
      const wrap = (name: 'publishFeedback' | 'succeed' | 'abort' | 'canceled', state?: string): void => {
        const original = (handle[name] as (...args: unknown[]) => void).bind(handle)
        Object.defineProperty(handle, name, {
          value: (...args: unknown[]) => { original(...args); if (state) terminal = state; else rec(args[0]) },
          configurable: true,
          writable: true
        })
      }
      wrap('publishFeedback'); wrap('succeed', 'succeeded'); wrap('abort', 'aborted'); wrap('canceled', 'canceled')
      return a.afterStamps(() => cb.execute(handle)).then((result) => {
        a.stamp('action_goal_result', { action, goal_id: goalId, outcome: terminal ?? 'returned', result_hash: hashOrNull(a, result, 'action_goal_result'), duration_ms: elapsedMs(a, t0) })
        return result
      }, (err) => {
        a.stamp('action_goal_result', { action, goal_id: goalId, outcome: 'error', duration_ms: elapsedMs(a, t0), ...errorFields(err) })
        throw err
      })
    }
  }
  if (typeof cb.goal === 'function') {
    const goalCb = cb.goal
    out.goal = (goal) => {
      const decision = goalCb(goal)
      // GoalResponse: REJECT = 1, ACCEPT = 2 (rclnodejs action_server.d.ts)
      a.stamp('action_goal_decision', { action, goal_hash: hashOrNull(a, goal, 'action_goal_decision'), accepted: decision === 2 })
      return decision
    }
  }
  if (typeof cb.cancel === 'function') {
    const cancelCb = cb.cancel
    out.cancel = (handle) => {
      const decision = cancelCb(handle)
      Promise.resolve(decision).then((d) => {
        a.stamp('action_cancel_decision', { action, goal_id: goalIdHex(handle?.goalId), accepted: d === 2 })
      }, (err) => a.report(err, 'action_cancel_decision'))
      return decision
    }
  }
  return out
}

/**
 * Audits an ActionServer created with `new ActionServer(node, …)` (AuditedNode._addActionServer): its
 * registered callbacks are replaced by audited ones through its own register*Callback methods.
 */
export function auditActionServer (a: NodeAuditor, server: any, typeClass: TypeClassLike, action: string): void {
  const cb = auditActionServerCallbacks(a, typeClass, action, {
    execute: server._callback, goal: server._goalCallback, cancel: server._cancelCallback
  })
  server.registerExecuteCallback(cb.execute)
  if (cb.goal) server.registerGoalCallback(cb.goal)
  if (cb.cancel) server.registerCancelCallback(cb.cancel)
}
