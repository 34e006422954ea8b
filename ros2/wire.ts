// Serializing and deserializing with the binding's own type classes, so the bridge hashes the CDR
// bytes that go on the wire (recipe pcp-ros2-cdr-v1, msg-hash.ts). This is what rclnodejs 2.2's
// Publisher.publish does internally (`new this._typeClass(message)` unless it already is one, then
// serialize), done one step earlier so the bytes can be hashed and then published raw
// (publish(Buffer) → publishRawMessage). On receive the bridge subscribes raw (options.isRaw), hashes
// the bytes, and hands the user's callback what rclnodejs would have: deserializeMessage(...)
// .toPlainObject(enableTypedArray).
import type { Msg, TypeClassLike } from './rcl-api.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- type classes are generated per interface */

export interface WireBinding {
  serializeMessage (message: object, typeClass: any): Buffer
  deserializeMessage (buffer: Buffer, typeClass: any): object
}

export interface WireCodec {
  /** The CDR bytes rclnodejs would publish for `message` (a Buffer is already serialized). */
  serialize (message: Msg, typeClass: TypeClassLike): Buffer
  /** The message a non-raw subscription callback would get. */
  deserialize (bytes: Buffer, typeClass: TypeClassLike, enableTypedArray: boolean): Msg
}

export const isTypeClass = (t: unknown): t is { new (v?: unknown): object, type (): unknown } =>
  typeof t === 'function' && typeof (t as { type?: unknown }).type === 'function'

/** The codec of a binding that has serializeMessage/deserializeMessage, else undefined (JSON recipe). */
export function wireCodecOf (binding: Partial<WireBinding> | undefined): WireCodec | undefined {
  if (typeof binding?.serializeMessage !== 'function' || typeof binding?.deserializeMessage !== 'function') return undefined
  const b = binding as WireBinding
  return {
    serialize (message, typeClass) {
      if (message instanceof Buffer) return message
      if (!isTypeClass(typeClass)) throw new TypeError(`cannot serialize for ${String(typeClass)}: the entity's type class is not loaded`)
      const built = message instanceof typeClass ? message : new typeClass(message)
      return b.serializeMessage(built, typeClass)
    },
    deserialize (bytes, typeClass, enableTypedArray) {
      const m = b.deserializeMessage(bytes, typeClass) as { toPlainObject?: (typed: boolean) => unknown }
      return typeof m?.toPlainObject === 'function' ? m.toPlainObject(enableTypedArray) : m
    }
  }
}
