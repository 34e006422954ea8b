// STAND-IN — NOT ROS 2. Message type classes built from the real ROS 2 interface definitions (the
// Jazzy .msg files shipped in @foxglove/rosmsg-msgs-common) and serialized to real CDR (XCDR1,
// little endian, with the 4-byte encapsulation header) by @foxglove/rosmsg2-serialization. They copy
// what rclnodejs 2.2's generated classes do (rosidl_gen/templates/message-template.cjs and
// message_translator.cjs) where the bridge depends on it:
//   - `new T(plain)` fills defaults for missing fields and silently drops keys that are not fields
//   - an int64/uint64 scalar must be a bigint (rclnodejs: "<field> must be type of bigint")
//   - a float32 reads back rounded to float32; numeric arrays read back as TypedArrays (Float32Array,
//     Uint8Array, …) except int64/uint64 arrays, which are plain arrays of bigint
//   - a message type with one `data` field accepts the bare value (publish('hello') on std_msgs/String)
// The bytes are checked against vectors derived by hand from the CDR spec (test/ros2-standin-cdr.test.ts).
import { bundledMsgRoot, parseRos2msg, ros2msgSchema, splitTypeName } from '../schema.js'
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization'
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition'

/* eslint-disable @typescript-eslint/no-explicit-any -- messages are untyped here */

/** The stand-in reads only the bundled Jazzy definitions, so its bags and hashes do not depend on the host. */
const ROOTS = [bundledMsgRoot()]

export interface StandinTypeClass {
  new (value?: any): StandinMessage
  type (): { pkgName: string, subFolder: string, interfaceName: string }
  readonly typeName: string
  readonly schema: string
}

export interface StandinMessage {
  serialize (): Uint8Array
  toPlainObject (enableTypedArray?: boolean): any
}

const isInt64 = (t: string): boolean => t === 'int64' || t === 'uint64'

function defaultFor (f: MessageDefinitionField, defs: Map<string, MessageDefinition>): unknown {
  if (f.isArray) {
    if (f.arrayLength !== undefined) return Array.from({ length: f.arrayLength }, () => defaultFor({ ...f, isArray: false }, defs))
    return []
  }
  if (f.defaultValue !== undefined) return f.defaultValue
  if (f.isComplex) return normalize(defs.get(f.type)!, undefined, defs, f.name)
  if (isInt64(f.type)) return 0n
  if (f.type === 'string' || f.type === 'wstring') return ''
  if (f.type === 'bool') return false
  if (f.type === 'time' || f.type === 'duration') return { sec: 0, nanosec: 0 }
  return 0
}

/** The message as the CDR writer needs it: every field present, unknown keys dropped, rclnodejs's type rules. */
function normalize (def: MessageDefinition, value: any, defs: Map<string, MessageDefinition>, path: string): any {
  const out: Record<string, unknown> = {}
  const src = value !== null && typeof value === 'object' ? value : {}
  for (const f of def.definitions) {
    if (f.isConstant) continue
    const v = src[f.name]
    if (v === undefined) { out[f.name] = defaultFor(f, defs); continue }
    if (f.isArray && f.isComplex) {
      out[f.name] = Array.from(v as ArrayLike<unknown>, (x) => normalize(defs.get(f.type)!, x, defs, `${path}.${f.name}`))
    } else if (f.isComplex) {
      out[f.name] = normalize(defs.get(f.type)!, v, defs, `${path}.${f.name}`)
    } else if (!f.isArray && isInt64(f.type) && typeof v !== 'bigint') {
      throw new TypeError(`${f.name} must be type of bigint`)
    } else if (f.isArray && f.arrayLength !== undefined && (v as ArrayLike<unknown>).length !== f.arrayLength) {
      throw new RangeError(`The length of the array must be ${f.arrayLength}.`)
    } else {
      out[f.name] = v
    }
  }
  return out
}

/** int64/uint64 arrays: rclnodejs hands out plain arrays of bigint, not BigInt64Array. */
function fixInt64Arrays (def: MessageDefinition, v: any, defs: Map<string, MessageDefinition>): any {
  for (const f of def.definitions) {
    if (f.isConstant) continue
    if (f.isArray && isInt64(f.type)) v[f.name] = Array.from(v[f.name] as ArrayLike<bigint>)
    else if (f.isComplex && f.isArray) for (const x of v[f.name]) fixInt64Arrays(defs.get(f.type)!, x, defs)
    else if (f.isComplex) fixInt64Arrays(defs.get(f.type)!, v[f.name], defs)
  }
  return v
}

function plain (v: any, typed: boolean): any {
  if (ArrayBuffer.isView(v)) return typed ? (v as any).slice() : Array.from(v as any)
  if (Array.isArray(v)) return v.map((x) => plain(x, typed))
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, typed)]))
  return v
}

const classes = new Map<string, StandinTypeClass>()

/** The stand-in's `rclnodejs.require('pkg/msg/Name')`: one class per type, cached. */
export function standinType (typeName: string): StandinTypeClass {
  const [pkg, name] = splitTypeName(typeName)
  const key = `${pkg}/msg/${name}`
  const cached = classes.get(key)
  if (cached) return cached
  const schema = ros2msgSchema(key, ROOTS)
  const list = parseRos2msg(schema)
  const defs = new Map<string, MessageDefinition>(list.slice(1).map((d) => [d.name!, d]))
  const top = list[0]!
  const writer = new MessageWriter(list)
  const reader = new MessageReader(list)
  const fields = top.definitions.filter((f) => !f.isConstant)
  class RosMessage implements StandinMessage {
    static readonly typeName = key
    static readonly schema = schema
    static type (): { pkgName: string, subFolder: string, interfaceName: string } { return { pkgName: pkg, subFolder: 'msg', interfaceName: name } }
    /** @internal the message as read back from its own CDR: what a subscriber would see */
    _value: any
    constructor (value?: any) {
      // rclnodejs's constructFromPlanObject: a bare primitive goes to `data`
      const v = value !== null && typeof value !== 'object' && value !== undefined && fields.length === 1 && fields[0]!.name === 'data' ? { data: value } : value
      const src = v instanceof RosMessage ? v.toPlainObject() : v
      this._value = fixInt64Arrays(top, reader.readMessage(writer.writeMessage(normalize(top, src, defs, '$'))), defs)
    }

    serialize (): Uint8Array { return writer.writeMessage(this._value) }
    toPlainObject (enableTypedArray = true): any { return plain(this._value, enableTypedArray) }
    /** @internal: a message read from CDR bytes (deserializeMessage) */
    static _fromBytes (bytes: Uint8Array): RosMessage {
      const m = Object.create(RosMessage.prototype) as RosMessage
      m._value = fixInt64Arrays(top, reader.readMessage(bytes), defs)
      return m
    }
  }
  Object.defineProperty(RosMessage, 'name', { value: `${pkg}__msg__${name}` })
  classes.set(key, RosMessage as unknown as StandinTypeClass)
  return RosMessage as unknown as StandinTypeClass
}

/** Accepts what rclnodejs accepts as a type: a class, 'pkg/msg/Name', or { package, type, name }. */
export function resolveStandinType (typeClass: unknown): StandinTypeClass {
  if (typeof typeClass === 'function' && typeof (typeClass as StandinTypeClass).type === 'function') return typeClass as StandinTypeClass
  if (typeof typeClass === 'string') return standinType(typeClass)
  const t = typeClass as { package?: string, type?: string, name?: string }
  if (t && typeof t.package === 'string' && typeof t.name === 'string') return standinType(`${t.package}/${t.type ?? 'msg'}/${t.name}`)
  throw new TypeError(`"typeClass" expected a message type, got ${String(typeClass)}`)
}

/** rclnodejs.serializeMessage: the message must be an instance of typeClass (TypeValidationError otherwise). */
export function serializeMessage (message: unknown, typeClass: StandinTypeClass): Buffer {
  if (!(message instanceof typeClass)) throw new TypeError(`Invalid argument: message must be ${typeClass.name}`)
  const bytes = (message as StandinMessage).serialize()
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** rclnodejs.deserializeMessage: a Buffer in, an instance of typeClass out. */
export function deserializeMessage (buffer: unknown, typeClass: StandinTypeClass): StandinMessage {
  if (!(buffer instanceof Buffer)) throw new TypeError('Invalid argument: buffer must be Buffer')
  return (typeClass as unknown as { _fromBytes (b: Uint8Array): StandinMessage })._fromBytes(buffer)
}
