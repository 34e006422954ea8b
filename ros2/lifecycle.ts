// AuditedLifecycleNode: AuditedNode on top of rclnodejs's LifecycleNode, stamping every transition as
// lifecycle_transition { transition, from_state, to_state, result, duration_ms }.
//
// Where to hook: rclnodejs routes both the public methods (configure(), activate(), …) and the
// external change_state service through one internal method, LifecycleNode._changeState (rclnodejs
// 2.2 lib/lifecycle.js). Hooking it records transitions requested from outside the process too. It is
// not part of the published types, so if a future rclnodejs drops it we fall back to the public
// methods (the class's static lifecycleHook says which). The reference's register_on_* approach does not
// exist upstream (gaps.md #38).
import { elapsedMs, errorFields, type Payload } from './auditor.js'
import { makeAuditedNode, type Ctor } from './node.js'
import type { CallbackReturnValueLike, LifecycleNodeLike, RclBinding, StateLike } from './rcl-api.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- see node.ts */

/** lifecycle_msgs/msg/Transition ids → labels (what the change_state service sends). */
const TRANSITIONS: { [id: number]: string } = {
  1: 'configure', 2: 'cleanup', 3: 'activate', 4: 'deactivate',
  5: 'unconfigured_shutdown', 6: 'inactive_shutdown', 7: 'active_shutdown', 8: 'destroy'
}

/** CallbackReturnCode: SUCCESS 97, FAILURE 98, ERROR 99. */
const RESULTS: { [code: number]: string } = { 97: 'success', 98: 'failure', 99: 'error' }

const label = (s: StateLike | undefined): string | null => {
  try { return s?.asMessage().label ?? null } catch { return null }
}

const PUBLIC_TRANSITIONS = ['configure', 'activate', 'deactivate', 'cleanup', 'shutdown'] as const
const REGISTER = ['registerOnConfigure', 'registerOnActivate', 'registerOnDeactivate', 'registerOnCleanup', 'registerOnShutdown', 'registerOnError'] as const

export function makeAuditedLifecycleNode<B extends Ctor<LifecycleNodeLike>> (Base: B, binding: RclBinding, bindingName: string) {
  const proto = Base.prototype as { _changeState?: (t: number | string, v?: CallbackReturnValueLike) => StateLike }
  const internal = typeof proto._changeState === 'function' ? proto._changeState : undefined
  const Audited = makeAuditedNode(Base, binding, bindingName)

  class AuditedLifecycleNode extends Audited {
    /** @internal: the one transition being recorded, so nested calls are not recorded twice */
    _pcpInTransition = false

    /** @internal: return codes of the user's transition callbacks during the current transition */
    _pcpCodes: number[] = []

    /** @internal: runs one transition and stamps it; `run` performs it. */
    _pcpTransition (transition: number | string, given: CallbackReturnValueLike | undefined,
      run: (v: CallbackReturnValueLike) => StateLike): StateLike {
      const a = this._pcpAudit
      if (!a || this._pcpInTransition) return run(given as CallbackReturnValueLike)
      const holder = given ?? new binding.lifecycle.CallbackReturnValue()
      const from = label(this.currentState)
      const name = typeof transition === 'number' ? TRANSITIONS[transition] ?? String(transition) : transition
      const t0 = a.clock.nowMs()
      this._pcpInTransition = true
      this._pcpCodes = []
      try {
        const to = run(holder)
        // rclnodejs overwrites the holder with the error handler's code after an ERROR, so the
        // transition's own result is the first callback's code (SUCCESS when none is registered).
        const code = this._pcpCodes[0] ?? holder.value
        const fields: Payload = {
          transition: name, from_state: from, to_state: label(to), result: RESULTS[code] ?? String(code),
          duration_ms: elapsedMs(a, t0)
        }
        if (this._pcpCodes.length > 1) fields.error_processing = RESULTS[this._pcpCodes[1]!] ?? String(this._pcpCodes[1])
        a.stamp('lifecycle_transition', fields)
        return to
      } catch (err) {
        // rclnodejs throws when the transition is not valid from the current state.
        a.stamp('lifecycle_transition', { transition: name, from_state: from, to_state: label(this.currentState), result: 'invalid', ...errorFields(err) })
        throw err
      } finally {
        this._pcpInTransition = false
      }
    }
  }

  // Wrap the user's transition callbacks: record their codes, and stamp a throw as callback_error
  // (rclnodejs turns the throw into ERROR, which the transition event then shows).
  for (const reg of REGISTER) {
    const original = (Base.prototype as any)[reg] as ((cb: (prev: StateLike) => number) => void) | undefined
    if (typeof original !== 'function') continue
    Object.defineProperty(AuditedLifecycleNode.prototype, reg, {
      value: function (this: AuditedLifecycleNode, cb: (prev: StateLike) => number): void {
        if (typeof cb !== 'function') return original.call(this, cb)
        const wrapped = (prev: StateLike): number => {
          let code: number
          try {
            code = cb(prev)
          } catch (err) {
            this._pcpCodes.push(99)
            this._pcpAudit?.stamp('callback_error', { source: 'lifecycle', callback: reg, ...errorFields(err) })
            throw err
          }
          this._pcpCodes.push(Number(code))
          return code
        }
        original.call(this, wrapped)
      },
      configurable: true,
      writable: true
    })
  }

  if (internal) {
    Object.defineProperty(AuditedLifecycleNode.prototype, '_changeState', {
      value: function (this: AuditedLifecycleNode, t: number | string, v?: CallbackReturnValueLike): StateLike {
        return this._pcpTransition(t, v, (holder) => internal.call(this, t, holder))
      },
      configurable: true,
      writable: true
    })
  } else {
    for (const name of PUBLIC_TRANSITIONS) {
      const original = (Base.prototype as any)[name] as (v?: CallbackReturnValueLike) => StateLike
      Object.defineProperty(AuditedLifecycleNode.prototype, name, {
        value: function (this: AuditedLifecycleNode, v?: CallbackReturnValueLike): StateLike {
          return this._pcpTransition(name, v, (holder) => original.call(this, holder))
        },
        configurable: true,
        writable: true
      })
    }
  }
  Object.defineProperty(AuditedLifecycleNode, 'lifecycleHook', { value: internal ? '_changeState' : 'public-methods' })
  return AuditedLifecycleNode
}
