// The one CBOR codec of pcp-edge: device store records, the sync wire, the hub store and the gate
// protocol all go through it, so a value that survives one survives all. cbor-x alone is not lossless for
// what a signed payload may hold, and each loss changes canonical bytes, so the signature no longer
// verifies (issue 13):
//   - Float(-0): cbor-x writes -0 as the integer 0, which reads back as Float(0): "-0.0" became "0.0".
//   - a "__proto__" key: cbor-x's decoder renames it "__proto_" (its guard against prototype pollution).
//   - nesting: cbor-x encodes and decodes recursively and overflows the stack near 1,400 levels of
//     objects (less when called from a deep stack), inside an append.
// So before encoding, a value is rewritten (copy-on-write: untouched values are not copied) into private
// tags, which only this codec writes and reads:
//   60000 Float           the value; -0 as the text "-0"
//   60001 KeyedObject     an object with an own "__proto__" key, as [key, value, key, value, ...]
//   60002 JsonText        a subtree at CBOR_NEST levels deep, as its lossless JSON text (runtime/json.ts)
// Values deeper than MAX_DEPTH are refused with CANONICAL_TOO_DEEP, as canonical JSON refuses them.
import { Decoder, Encoder, addExtension } from 'cbor-x'
import { Float, setOwnKey } from './value.js'
import { parseJson, stringifyJson } from './json.js'

const FLOAT_TAG = 60000
const KEYED_TAG = 60001
const JSON_TAG = 60002
/** Below cbor-x's stack limit with a wide margin, above any payload seen in practice. */
export const CBOR_NEST = 64

class KeyedObject { constructor (readonly entries: unknown[]) {} }
class JsonText { constructor (readonly text: string) {} }

addExtension({
  Class: Float,
  tag: FLOAT_TAG,
  encode: (f: Float, encode: (v: unknown) => Uint8Array) => encode(Object.is(f.value, -0) ? '-0' : f.value),
  decode: (v: unknown) => new Float(v === '-0' ? -0 : v as number)
})
addExtension({
  Class: KeyedObject,
  tag: KEYED_TAG,
  encode: (o: KeyedObject, encode: (v: unknown) => Uint8Array) => encode(o.entries),
  // Decodes to a plain object, not the class: the class only marks what to rewrite on the way in.
  decode: (entries: unknown): KeyedObject => {
    if (!Array.isArray(entries) || entries.length % 2 !== 0) throw new Error('tag 60001 expects [key, value, ...]')
    const out: Record<string, unknown> = {}
    for (let i = 0; i < entries.length; i += 2) {
      const k = entries[i]
      if (typeof k !== 'string') throw new Error('tag 60001 expects string keys')
      setOwnKey(out, k, entries[i + 1])
    }
    return out as unknown as KeyedObject
  }
})
addExtension({
  Class: JsonText,
  tag: JSON_TAG,
  encode: (j: JsonText | null, encode: (v: unknown) => Uint8Array) => encode(j!.text),
  decode: (text: unknown): JsonText => {
    if (typeof text !== 'string') throw new Error('tag 60002 expects JSON text')
    return parseJson(text, 'a CBOR JSON-text value') as unknown as JsonText
  }
})

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true })
// Decoding has its own Decoder, with no `structures`: an Encoder keeps one array of cbor-x record
// structures for its whole life, and its decode() lets a record definition (tag 0xdfff) in one message
// change how a later message's tag 0xe000.. reads. Decoding must be a function of the bytes alone: the
// hub verifies a record, stores it as received and reads it again after a restart, in another thread or
// process, and each read must give the event that was verified. This Decoder starts every decode with
// no structures (cbor-x resets them when the instance has none).
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true })

/** `v`, rewritten where cbor-x would lose something; the same object when nothing needs it. */
function prepare (v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Float || ArrayBuffer.isView(v)) return v
  // Only JSON values nest this deep (envelopes and records are shallow); stringifyJson refuses the rest
  // and applies MAX_DEPTH.
  if (depth >= CBOR_NEST) return new JsonText(stringifyJson(v as object))
  if (Array.isArray(v)) {
    let out: unknown[] | undefined
    for (let i = 0; i < v.length; i++) {
      const x = prepare(v[i], depth + 1)
      if (x !== v[i]) (out ??= v.slice())[i] = x
    }
    return out ?? v
  }
  const obj = v as Record<string, unknown>
  const keys = Object.keys(obj)
  let changed = false
  // A KeyedObject is written as a tag around an array: two CBOR levels, so its values start one level
  // deeper than a plain map's. Counting it as one let a payload with "__proto__" keys along a deep path
  // pass CBOR_NEST + 2 levels, which the sync wire refuses (MAX_CBOR_DEPTH): stamped, never deliverable.
  const keyed = keys.includes('__proto__')
  const inner = depth + (keyed ? 2 : 1)
  const values = keys.map((k) => { const x = prepare(obj[k], inner); if (x !== obj[k]) changed = true; return x })
  if (keyed) return new KeyedObject(keys.flatMap((k, i) => [k, values[i]]))
  if (!changed) return v
  const out: Record<string, unknown> = {}
  keys.forEach((k, i) => { out[k] = values[i] })
  return out
}

/** CBOR bytes of `v` that decodeCbor turns back into a value with the same canonical bytes. */
export function encodeCbor (v: unknown): Uint8Array { return cbor.encode(prepare(v, 0)) }

/** Inverse of encodeCbor. Throws on bytes that are not CBOR (callers turn that into a verdict or a code). */
export function decodeCbor<T = unknown> (bytes: Uint8Array): T { return decoder.decode(bytes) as T }
