// Node parameters. Every path that changes a parameter in rclnodejs (setParameter, setParameters, the
// set_parameters services) ends in setParametersAtomically, and every declaration in
// declareParameters, so the node overrides exactly those two (and undeclareParameter). Values are
// recorded as hashes (valueHash: the msg_hash mapping applied to the value; unset hashes as null).
// What is recorded is what was set: rclnodejs 2.2 runs pre-set callbacks as a pipeline that may rewrite
// the list (lib/node.js _setParametersAtomically), so the node taps the end of that pipeline and reads
// the values back after the set. `source` says whether the change came from this process ('local') or
// from another one through the node's parameter services ('parameter_service').
import { NodeAuditor, type Payload } from './auditor.js'
import { valueHash } from './msg-hash.js'
import type { ParameterLike, SetParametersResultLike } from './rcl-api.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- rclnodejs internals */

/** rcl_interfaces/msg/ParameterType constants. */
const TYPE_NAMES = ['not_set', 'bool', 'integer', 'double', 'string', 'byte_array', 'bool_array', 'integer_array', 'double_array', 'string_array']

export const parameterTypeName = (t: number): string => TYPE_NAMES[t] ?? String(t)

function hashParam (p: ParameterLike | undefined): string {
  return valueHash(p === undefined || p.type === 0 ? null : p.value)
}

interface ParamState { source: 'local' | 'parameter_service', finalList?: ParameterLike[] }
const states = new WeakMap<object, ParamState>()

/** Per node: where the current change comes from, and the list the pre-set pipeline produced. */
export function paramSource (node: object): ParamState {
  let s = states.get(node)
  if (!s) { s = { source: 'local' }; states.set(node, s) }
  return s
}

const SET_SERVICES = /\/set_parameters(_atomically)?$/

/** createService args for the node's own parameter services: marks calls through them as remote. */
export function wrapParameterService (node: object, args: any[]): any[] {
  const i = typeof args[2] === 'function' ? 2 : 3
  if (typeof args[1] !== 'string' || !SET_SERVICES.test(args[1]) || typeof args[i] !== 'function') return args
  const handler = args[i]
  const out = [...args]
  out[i] = function (this: unknown, request: unknown, response: unknown) {
    const s = paramSource(node)
    s.source = 'parameter_service'
    try { return handler.call(this, request, response) } finally { s.source = 'local' }
  }
  return out
}

export function recordDeclared (a: NodeAuditor, declared: ParameterLike[]): void {
  for (const p of declared) {
    a.stamp('parameter_declared', { name: p.name, type: parameterTypeName(p.type), value_hash: hashParam(p) })
  }
}

export function recordUndeclared (a: NodeAuditor, before: ParameterLike, source: string): void {
  a.stamp('parameter_undeclared', { name: before.name, type: parameterTypeName(before.type), old_value_hash: hashParam(before), source })
}

/** use_sim_time decides whether node.now() is /clock (sim) or the system clock: an auditor must know. */
export function clockFields (node: any): Payload {
  const out: Payload = {}
  try {
    const t = node.getClock?.().clockType
    if (typeof t === 'number') out.clock_type = ({ 1: 'ros_time', 2: 'system_time', 3: 'steady_time' } as Record<number, string>)[t] ?? t
  } catch { /* no clock yet */ }
  try {
    if (node.hasParameter?.('use_sim_time')) out.use_sim_time = node.getParameter('use_sim_time').value === true
  } catch { /* not declared */ }
  return out
}

interface NodeParams {
  getParameter (name: string): ParameterLike
  hasParameter? (name: string): boolean
}

/** Runs the base setParametersAtomically and stamps one parameter_change per parameter actually set. */
export function auditedSetAtomically (a: NodeAuditor, node: NodeParams & object, parameters: ParameterLike[],
  set: (p: ParameterLike[]) => SetParametersResultLike): SetParametersResultLike {
  const get = (n: string): ParameterLike | undefined => {
    try { return node.hasParameter && !node.hasParameter(n) ? undefined : node.getParameter(n) } catch { return undefined }
  }
  const state = paramSource(node)
  const source = state.source
  state.finalList = undefined
  const beforeOf = new Map<string, string>()
  for (const p of parameters) beforeOf.set(p.name, hashParam(get(p.name)))
  const result = set(parameters)
  // The pre-set pipeline may have replaced the list (other values, other names): record that one.
  const applied = state.finalList ?? parameters
  state.finalList = undefined
  const ok = result?.successful === true
  for (const p of applied) {
    const after = ok ? get(p.name) : undefined
    const fields: Payload = {
      name: p.name,
      type: parameterTypeName(ok && after ? after.type : p.type),
      old_value_hash: beforeOf.get(p.name) ?? valueHash(null),
      // after a successful set: the value the node now holds, read back
      new_value_hash: ok ? hashParam(after) : hashParam(p),
      accepted: ok,
      source
    }
    if (applied !== parameters) fields.rewritten_by_pre_set = true
    if (p.name === 'use_sim_time' && ok) fields.clock = after?.value === true ? 'sim' : 'system'
    // The rejection reason is written by the node's own validation code, not by the sender: keep it.
    if (!ok && typeof result?.reason === 'string' && result.reason) fields.reason = result.reason
    a.stamp('parameter_change', fields)
  }
  return result
}
