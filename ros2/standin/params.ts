// STAND-IN — NOT ROS 2. Node parameters as rclnodejs 2.2 keeps them (lib/node.js, lib/parameter.js,
// types/node.d.ts), where a node's configuration depends on it:
//   - parameter overrides: the context's `--ros-args -p` / `--params-file` ('/**' rules, then the
//     node's own), then NodeOptions.parameterOverrides; declareParameters takes an override in place
//     of the declared parameter (its type and value) unless ignoreOverrides;
//     automaticallyDeclareParametersFromOverrides declares them all
//   - declaring goes through the same pipeline as setting (pre-set, validation, on-set vetoes,
//     post-set); an explicit descriptor must match the parameter's type, or the declaration throws
//   - a read-only descriptor refuses every later set ("Parameter X is readonly") and undeclare throws
//   - integers are bigint; a value of the wrong JS type is invalid
import { overridesFor, type RosArgs } from '../ros-args.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- parameter values are untyped */

export const ParameterType = {
  PARAMETER_NOT_SET: 0, PARAMETER_BOOL: 1, PARAMETER_INTEGER: 2, PARAMETER_DOUBLE: 3, PARAMETER_STRING: 4,
  PARAMETER_BYTE_ARRAY: 5, PARAMETER_BOOL_ARRAY: 6, PARAMETER_INTEGER_ARRAY: 7, PARAMETER_DOUBLE_ARRAY: 8, PARAMETER_STRING_ARRAY: 9
} as const

const ELEMENT: { [t: number]: (v: unknown) => boolean } = {
  1: (v) => typeof v === 'boolean',
  2: (v) => typeof v === 'bigint',
  3: (v) => typeof v === 'number',
  4: (v) => typeof v === 'string'
}

/** rclnodejs lib/parameter.js validValue. */
function validValue (value: unknown, type: number): boolean {
  if (value === null || value === undefined) return type === ParameterType.PARAMETER_NOT_SET
  if (type === ParameterType.PARAMETER_NOT_SET) return !value
  if (type >= 1 && type <= 4) return ELEMENT[type]!(value)
  if (type === ParameterType.PARAMETER_BYTE_ARRAY) return Array.isArray(value) && value.every((v) => typeof v === 'number')
  if (type >= 6 && type <= 9) return Array.isArray(value) && value.every(ELEMENT[type - 5]!)
  return false
}

export class Parameter {
  readonly name: string
  readonly type: number
  value: any
  constructor (name: string, type: number, value?: any) { this.name = name; this.type = type; this.value = value }

  /** Throws on the first invalid property, as rclnodejs's Parameter.validate(). */
  validate (): void {
    if (typeof this.name !== 'string' || this.name.trim() === '') throw new TypeError(`Invalid parameter name: ${String(this.name)}`)
    if (!Number.isInteger(this.type) || this.type < 0 || this.type > 9) throw new TypeError(`Invalid parameter type ${String(this.type)} for ${this.name}`)
    if (!validValue(this.value, this.type)) throw new TypeError(`Invalid value for parameter ${this.name} of type ${this.type}: ${typeof this.value}`)
  }
}

export class ParameterDescriptor {
  readonly name: string
  readonly type: number
  readonly description: string
  readonly readOnly: boolean
  static fromParameter (p: Parameter): ParameterDescriptor { return new ParameterDescriptor(p.name, p.type, 'Created from parameter.') }
  constructor (name: string, type: number = ParameterType.PARAMETER_NOT_SET, description = 'no description', readOnly = false) {
    this.name = name; this.type = type; this.description = description; this.readOnly = readOnly
    if (typeof name !== 'string' || name.trim() === '') throw new TypeError('Invalid parameter descriptor name')
  }

  validateParameter (p: Parameter): void {
    p.validate()
    if (p.name !== this.name) throw new TypeError(`Name mismatch: descriptor ${this.name}, parameter ${p.name}`)
    if (p.type !== this.type) throw new TypeError(`Parameter ${this.name}: type ${p.type} does not match its descriptor's type ${this.type}`)
  }
}

export interface SetParametersResult { successful: boolean, reason: string }

export interface ParameterNodeOptions { parameterOverrides?: Parameter[], automaticallyDeclareParametersFromOverrides?: boolean }

/** One node's parameters. The node's methods of the same names call these. */
export class StandinParameters {
  readonly params = new Map<string, Parameter>()
  readonly descriptors = new Map<string, ParameterDescriptor>()
  readonly overrides: Map<string, Parameter>
  readonly preSet: Array<(p: Parameter[]) => Parameter[]> = []
  readonly onSet: Array<(p: Parameter[]) => SetParametersResult> = []
  readonly postSet: Array<(p: Parameter[]) => void> = []

  constructor (nodeName: string, args: RosArgs, options: ParameterNodeOptions = {}) {
    this.overrides = new Map([...overridesFor(args, nodeName)].map(([n, o]) => [n, new Parameter(n, o.type, o.value)]))
    for (const p of options.parameterOverrides ?? []) {
      if (!(p instanceof Parameter)) throw new TypeError('"parameterOverride" expected a Parameter instance')
      this.overrides.set(p.name, p)
    }
    if (options.automaticallyDeclareParametersFromOverrides) {
      for (const p of this.overrides.values()) { p.validate(); this.params.set(p.name, p); this.descriptors.set(p.name, ParameterDescriptor.fromParameter(p)) }
    }
  }

  declare (parameters: Parameter[], descriptors: ParameterDescriptor[] = [], ignoreOverrides = false): Parameter[] {
    if (!Array.isArray(parameters)) throw new TypeError('"parameters" expected an Array')
    if (descriptors.length > 0 && descriptors.length !== parameters.length) throw new TypeError('Each parameter must have a corresponding ParameterDescriptor')
    const chosen = parameters.map((p) => !ignoreOverrides && this.overrides.has(p.name) ? this.overrides.get(p.name)! : p)
    const taken = chosen.filter((p) => this.params.has(p.name))
    if (taken.length) throw new Error(`Parameter(${taken[0]!.name}) already declared.`)
    const descs = chosen.map((p, i) => descriptors.length ? descriptors[i]! : ParameterDescriptor.fromParameter(p))
    for (const d of descs) this.descriptors.set(d.name, d)
    const result = this.setAtomically(chosen, true)
    if (!result.successful) {
      for (const d of descs) this.descriptors.delete(d.name)
      throw new Error(result.reason)
    }
    return chosen.map((p) => this.get(p.name))
  }

  has (name: string): boolean { return this.params.has(name) }
  get (name: string): Parameter { return this.params.get(name) ?? new Parameter(name, ParameterType.PARAMETER_NOT_SET) }
  getMany (names: string[] = []): Parameter[] { return names.length === 0 ? [...this.params.values()] : names.map((n) => this.get(n)) }
  descriptor (name: string): ParameterDescriptor | undefined { return this.descriptors.get(name) }

  undeclare (name: string): void {
    if (!this.params.has(name)) return
    if (this.descriptors.get(name)?.readOnly) throw new Error(`${name} parameter is read-only and can not be undeclared`)
    this.params.delete(name)
    this.descriptors.delete(name)
  }

  /** rclnodejs _setParametersAtomically: pre-set pipeline, validation, vetoes, apply, post-set. */
  setAtomically (parameters: Parameter[], declaring = false): SetParametersResult {
    for (const cb of this.preSet) {
      const r = cb(parameters)
      if (!Array.isArray(r)) return { successful: false, reason: 'pre-set parameters callback must return an array of Parameters' }
      parameters = r
      if (parameters.length === 0) return { successful: false, reason: 'parameter list is empty after pre-set callback; set rejected' }
    }
    for (const p of parameters) {
      try { p.validate() } catch { return { successful: false, reason: `Invalid ${p.name}` } }
      const d = this.descriptors.get(p.name)
      if (!d) return { successful: false, reason: `Parameter ${p.name} has not been declared` }
      if (!declaring && d.readOnly) return { successful: false, reason: `Parameter ${p.name} is readonly` }
      if (p.type !== ParameterType.PARAMETER_NOT_SET) {
        try { d.validateParameter(p) } catch { return { successful: false, reason: `Parameter ${p.name} does not  readonly` } } // sic, rclnodejs 2.2
      }
    }
    for (const cb of this.onSet) {
      const r = cb(parameters)
      if (!r?.successful) return { successful: false, reason: r?.reason ?? 'rejected' }
    }
    for (const p of parameters) {
      if (p.type === ParameterType.PARAMETER_NOT_SET) this.undeclare(p.name)
      else this.params.set(p.name, p)
    }
    for (const cb of this.postSet) cb(parameters)
    return { successful: true, reason: '' }
  }
}
