// Node parameters. Every path that changes a parameter in rclnodejs (setParameter, setParameters, the
// set_parameters services) ends in setParametersAtomically, and every declaration in
// declareParameters, so the node overrides exactly those two. Values are recorded as hashes
// (valueHash: the msg_hash mapping applied to the value; an unset parameter hashes as null).
import { NodeAuditor, type Payload } from './auditor.js'
import { valueHash } from './msg-hash.js'
import type { ParameterLike, SetParametersResultLike } from './rcl-api.js'

/** rcl_interfaces/msg/ParameterType constants. */
const TYPE_NAMES = ['not_set', 'bool', 'integer', 'double', 'string', 'byte_array', 'bool_array', 'integer_array', 'double_array', 'string_array']

export const parameterTypeName = (t: number): string => TYPE_NAMES[t] ?? String(t)

function hashParam (p: ParameterLike | undefined): string {
  return valueHash(p === undefined || p.type === 0 ? null : p.value)
}

export function recordDeclared (a: NodeAuditor, declared: ParameterLike[]): void {
  for (const p of declared) {
    a.stamp('parameter_declared', { name: p.name, type: parameterTypeName(p.type), value_hash: hashParam(p) })
  }
}

/** Runs the base setParametersAtomically and stamps one parameter_change per parameter. */
export function auditedSetAtomically (a: NodeAuditor, get: (name: string) => ParameterLike | undefined, parameters: ParameterLike[],
  set: (p: ParameterLike[]) => SetParametersResultLike): SetParametersResultLike {
  const before = parameters.map((p) => {
    try { return hashParam(get(p.name)) } catch { return valueHash(null) }
  })
  const result = set(parameters)
  parameters.forEach((p, i) => {
    const fields: Payload = {
      name: p.name,
      type: parameterTypeName(p.type),
      old_value_hash: before[i]!,
      new_value_hash: hashParam(p),
      accepted: result?.successful === true
    }
    // The rejection reason is written by the node's own validation code, not by the sender: keep it.
    if (result?.successful !== true && typeof result?.reason === 'string' && result.reason) fields.reason = result.reason
    a.stamp('parameter_change', fields)
  })
  return result
}
