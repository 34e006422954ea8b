// What is signed is what is stored. An event's canonical bytes are signed at stamp(), but its record is
// encoded later, after signing, in a batch: a payload object the caller still holds (a reused sensor or
// ROS message, a getter, a Proxy) could change in between, and the store would keep an event whose
// signature no longer verifies — an acknowledged stamp lost, and the agent refused at its next open
// (STORE_CORRUPTED). So the payload is copied once, each value read exactly once, and both the signed
// bytes and the stored record come from the copy, which nothing outside holds.
import { notJsonObject, tooDeep } from './canonical.js'
import { Float, MAX_DEPTH, setOwnKey } from './value.js'

/**
 * A deep copy of `value` made of plain objects, arrays and scalars. It refuses (CANONICAL_UNSUPPORTED,
 * CANONICAL_TOO_DEEP) what canonical JSON would refuse about containers, with the same paths; scalars
 * are left for canonicalize() to judge, so messages stay the same. `depth` is where `value` sits.
 */
export function plainCopy<T> (value: T, path = '$', depth = 0): T {
  return copy(value, path, depth) as T
}

function copy (v: unknown, path: string, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Float) return new Float(v.value)
  if (depth >= MAX_DEPTH) throw tooDeep(path)
  if (Array.isArray(v)) {
    const out = new Array(v.length)
    for (let i = 0; i < v.length; i++) out[i] = copy(v[i], `${path}[${i}]`, depth + 1)
    return out
  }
  const refused = notJsonObject(v, path)
  if (refused) throw refused
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v)) {
    const x = copy((v as Record<string, unknown>)[k], path + '.' + k, depth + 1)
    if (x === undefined) continue // as canonical JSON: an absent value is an absent key
    if (k === '__proto__') setOwnKey(out, k, x)
    else out[k] = x
  }
  return out
}
