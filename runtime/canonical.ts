// Canonical JSON as AISS-1 is deployed: the reference's canonical.py, which is NOT RFC 8785
// (protocol.md §6, §6.1). What differs from RFC 8785, and why we follow the reference anyway:
//   - floats are written as Python's repr: 25.0, 1e-07, 1e+16, -0.0 (JCS: 25, 1e-7, 10000000000000000, 0)
//   - integers are exact at any size (JCS rounds beyond 2^53)
//   - object keys sort by Unicode code point (JCS: by UTF-16 code unit; differs only for astral keys)
// Every signature and event hash in the ecosystem covers these bytes, so a single differing digit
// breaks interop. Strings are escaped exactly as JSON.stringify does (verified against the reference).
import { PcpError, ErrorCodes } from './errors.js'
import { Float, MAX_DEPTH } from './value.js'

const encoder = new TextEncoder()

/** Python repr() of a finite double (protocol.md §6.2 step 2). */
export function pyFloatRepr (x: number): string {
  if (!Number.isFinite(x)) throw new PcpError(ErrorCodes.CANONICAL_UNSUPPORTED, `cannot canonicalise the float ${x}`)
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const sign = x < 0 ? '-' : ''
  // toExponential() with no argument yields the shortest digits that round-trip, as repr does.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string]
  const digits = mantissa.replace('.', '')
  const exp = Number(expText)
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits
    return sign + m + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0')
  }
  if (exp < 0) return sign + '0.' + '0'.repeat(-exp - 1) + digits
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0')
  return sign + intPart + '.' + (digits.slice(exp + 1) || '0')
}

/** A number as the reference writes it: ints exact, floats as repr. Integral JS numbers are ints. */
export function formatNumber (v: number | bigint | Float): string {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Float) return pyFloatRepr(v.value)
  if (!Number.isFinite(v)) throw new PcpError(ErrorCodes.CANONICAL_UNSUPPORTED, `cannot canonicalise the number ${v}`)
  if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? String(v === 0 ? 0 : v) : BigInt(v).toString()
  return pyFloatRepr(v)
}

// A string of printable ASCII but `"` and `\` is what JSON.stringify writes between quotes (it escapes only
// those two, controls and lone surrogates): the common case (keys, ids, hashes, nonces), and one native
// test instead of two calls (a quarter of signingBytes' time on a typical event).
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

function writeString (s: string, path: string): string {
  if (PLAIN.test(s)) return '"' + s + '"'
  // Python's encoder raises on lone surrogates; JSON.stringify would escape them into different bytes.
  if (!(s as unknown as { isWellFormed (): boolean }).isWellFormed()) {
    throw new PcpError(ErrorCodes.CANONICAL_UNSUPPORTED, `lone surrogate in string at ${path}`, { field: path })
  }
  return JSON.stringify(s)
}

const HAS_SURROGATE = /[\uD800-\uDFFF]/

/** Code point order. Default sort uses UTF-16 units, which only disagrees when a surrogate is involved. */
function byCodePoint (a: string, b: string): number {
  const ia = a[Symbol.iterator](); const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next(); const y = ib.next()
    if (x.done || y.done) return x.done === y.done ? 0 : (x.done ? -1 : 1)
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!
    if (d !== 0) return d
  }
}

function sortKeys (keys: string[]): string[] {
  return keys.some((k) => HAS_SURROGATE.test(k)) ? keys.sort(byCodePoint) : keys.sort()
}

/** Nesting depth of arrays/objects in `v` (a scalar is 0), counted only up to `limit + 1`. */
export function depthOf (v: unknown, limit = MAX_DEPTH): number {
  if (v === null || typeof v !== 'object' || v instanceof Float || ArrayBuffer.isView(v)) return 0
  if (limit < 0) return 1
  let max = 0
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    const d = depthOf(x, limit - 1)
    if (d > max) { max = d; if (max > limit) break }
  }
  return max + 1
}

export function tooDeep (path: string, limit = MAX_DEPTH): PcpError {
  return new PcpError(ErrorCodes.CANONICAL_TOO_DEEP, `value nests deeper than ${limit} arrays/objects at ${path.length > 80 ? path.slice(0, 80) + '…' : path}`, { field: path.slice(0, 200), limit })
}

/**
 * Refuses an object JSON would write as something other than its own enumerable keys, or as nothing: a
 * Date, Map, typed array, RegExp, Error (`{}`: an audit record of an error would say nothing), a boxed
 * `new String('x')` (`{"0":"x"}`). Plain objects and class instances (own keys, as JSON.stringify) pass.
 */
export function notJsonObject (v: object, path: string): PcpError | null {
  const proto = Object.getPrototypeOf(v)
  if (proto === Object.prototype || proto === null || Object.prototype.toString.call(v) === '[object Object]') return null
  const kind = (v as { constructor?: { name?: unknown } }).constructor?.name
  return new PcpError(ErrorCodes.CANONICAL_UNSUPPORTED, `cannot canonicalise ${typeof kind === 'string' && kind ? kind : Object.prototype.toString.call(v).slice(8, -1)} at ${path}; convert it to JSON values first`, { field: path })
}

function write (v: unknown, path: string, depth: number): string {
  switch (typeof v) {
    case 'string': return writeString(v, path)
    case 'number': case 'bigint': return formatNumber(v)
    case 'boolean': return v ? 'true' : 'false'
    case 'object': {
      if (v === null) return 'null'
      if (v instanceof Float) return formatNumber(v)
      if (depth >= MAX_DEPTH) throw tooDeep(path)
      if (Array.isArray(v)) {
        let out = '['
        for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + write(v[i], `${path}[${i}]`, depth + 1)
        return out + ']'
      }
      const refused = notJsonObject(v, path)
      if (refused) throw refused
      const obj = v as Record<string, unknown>
      let out = '{'; let first = true
      for (const k of sortKeys(Object.keys(obj))) {
        const x = obj[k]
        if (x === undefined) continue // as JSON.stringify: an absent value is an absent key
        out += (first ? '' : ',') + writeString(k, path) + ':' + write(x, path + '.' + k, depth + 1)
        first = false
      }
      return out + '}'
    }
    default:
      throw new PcpError(ErrorCodes.CANONICAL_UNSUPPORTED, `cannot canonicalise a ${typeof v} at ${path}`, { field: path })
  }
}

/** The canonical text of a JSON value, byte-identical to the reference's canonicalize(). */
export function canonicalize (value: unknown): string {
  return write(value, '$', 0)
}

/** UTF-8 bytes of canonicalize(value): what is signed and hashed. */
export function canonicalBytes (value: unknown): Uint8Array {
  return encoder.encode(write(value, '$', 0))
}
