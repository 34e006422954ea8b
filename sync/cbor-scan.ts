// A pre-decode scan of untrusted CBOR: counts data items, nesting and byte strings without building a
// single value, so the hub can refuse a message before cbor-x spends time and memory on it (issue 14 #4:
// one 400 KB message of 200k tiny records held the event loop 2.7 s). Linear in the bytes, iterative (a
// nesting of 100k levels costs a 100k-entry array here, not a stack overflow), and it stops at the
// first limit passed, so its own cost is bounded by the smaller of the input and the limits.
//
// What counts: every data item (integers, strings, containers, tags, simple values, the chunks of an
// indefinite-length string) is one value; a container, a tag or an indefinite-length string opens one
// level of depth, as it costs cbor-x one level of recursion. Byte strings are counted apart because they cost the decoder an
// allocation each, and a signed payload (canonical JSON) never holds one: in a sync message they are
// the record wrappers and the packed hashes, nonces and signatures (runtime/record.ts).

export interface ScanLimits {
  maxValues: number
  maxDepth: number
  /** Default: no limit. */
  maxByteStrings?: number
}

export type ScanVerdict =
  | { ok: true, values: number, depth: number, byteStrings: number }
  | { ok: false, reason: 'CBOR_TOO_MANY_VALUES' | 'CBOR_TOO_DEEP' | 'CBOR_TOO_MANY_BYTE_STRINGS' | 'CBOR_MALFORMED', offset: number, message: string }

const INDEFINITE = -1
type Failure = Exclude<ScanVerdict, { ok: true }>
const fail = (reason: Failure['reason'], message: string, pos: number): Failure => ({ ok: false, reason, offset: pos, message: `${message} (at byte ${pos})` })
/** The open containers' expected item counts, reused (the scan is synchronous): no allocation per call. */
let open = new Float64Array(256)

/** Scans one CBOR data item filling `bytes` exactly. Never throws. */
export function scanCbor (bytes: Uint8Array, limits: ScanLimits): ScanVerdict {
  const maxBstr = limits.maxByteStrings ?? Infinity
  const maxValues = limits.maxValues
  const maxDepth = limits.maxDepth
  const end = bytes.length
  // Items still expected in each open container (INDEFINITE: until a break byte); the root expects one.
  let top = 0; open[0] = 1
  let pos = 0; let values = 0; let depth = 0; let bstrs = 0
  while (top >= 0) {
    const left = open[top]!
    if (left === 0) { top--; continue }
    if (pos >= end) return fail('CBOR_MALFORMED', 'the data ends inside an item', pos)
    const head = bytes[pos]!
    if (left === INDEFINITE && head === 0xff) { top--; pos++; continue }
    if (left !== INDEFINITE) open[top] = left - 1
    if (++values > maxValues) return fail('CBOR_TOO_MANY_VALUES', `more than ${maxValues} values`, pos)
    const major = head >> 5
    const info = head & 0x1f
    pos++
    let arg: number
    if (info < 24) arg = info
    else if (info === 24) { if (pos + 1 > end) return fail('CBOR_MALFORMED', 'truncated length', pos); arg = bytes[pos]!; pos += 1 }
    else if (info === 25) { if (pos + 2 > end) return fail('CBOR_MALFORMED', 'truncated length', pos); arg = bytes[pos]! * 0x100 + bytes[pos + 1]!; pos += 2 }
    else if (info === 26) { if (pos + 4 > end) return fail('CBOR_MALFORMED', 'truncated length', pos); arg = u32(bytes, pos); pos += 4 }
    else if (info === 27) {
      if (pos + 8 > end) return fail('CBOR_MALFORMED', 'truncated length', pos)
      // Past 2^53 the exact value does not matter: no length that large fits in the input.
      arg = u32(bytes, pos) * 2 ** 32 + u32(bytes, pos + 4); pos += 8
    } else if (info === 31 && major >= 2 && major <= 5) arg = INDEFINITE
    else if (info === 31 && major === 7) return fail('CBOR_MALFORMED', 'a break outside an indefinite-length item', pos)
    else return fail('CBOR_MALFORMED', `reserved additional information ${info}`, pos)
    if (major <= 1 || major === 7) continue // integers, floats and simple values: the argument is the value
    if (major <= 3) {
      if (major === 2 && ++bstrs > maxBstr) return fail('CBOR_TOO_MANY_BYTE_STRINGS', `more than ${maxBstr} byte strings`, pos)
      if (arg !== INDEFINITE) {
        if (arg > end - pos) return fail('CBOR_MALFORMED', `a ${arg}-byte string runs past the end`, pos)
        pos += arg
        continue
      }
      // An indefinite-length string: its chunks (definite strings) follow, as if in a container.
    }
    const items = major === 6 ? 1 : arg === INDEFINITE ? INDEFINITE : major === 5 ? arg * 2 : arg
    // Every item takes at least one byte: a longer container cannot be in the input.
    if (items !== INDEFINITE && items > end - pos) return fail('CBOR_MALFORMED', `a container of ${items} items runs past the end`, pos)
    if (++top > maxDepth) return fail('CBOR_TOO_DEEP', `nested deeper than ${maxDepth} levels`, pos)
    if (top > depth) depth = top
    if (top === open.length) { const grown = new Float64Array(open.length * 2); grown.set(open); open = grown }
    open[top] = items
  }
  if (pos !== end) return fail('CBOR_MALFORMED', `${end - pos} bytes after the item`, pos)
  return { ok: true, values, depth, byteStrings: bstrs }
}

function u32 (b: Uint8Array, i: number): number { return ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]! }
