// Lossless JSON. The reference signs Python values, where `25.0` (float) and `25` (int) are different
// texts and integers have no size limit (protocol.md §6.2). JSON.parse would merge the first two and
// round the second, changing the signed bytes, so JSON read from files or the wire goes through here.
import { parse as losslessParse } from 'lossless-json'
import { PcpError, ErrorCodes } from './errors.js'
import { formatNumber, tooDeep } from './canonical.js'
import { Float, MAX_DOCUMENT_DEPTH, type JsonValue } from './value.js'

export { Float, type JsonValue, type JsonObject } from './value.js'

/** Python's reading of a number token: with `.`, `e` or `E` it is a float, otherwise an exact int. */
function parseNumberToken (token: string): number | bigint | Float {
  if (/[.eE]/.test(token)) {
    const value = Number(token)
    // Python turns 1e400 into inf, which then cannot be canonicalised: refuse it here, with the token.
    if (!Number.isFinite(value)) throw new PcpError(ErrorCodes.JSON_INVALID, `number ${token} is out of range for a float`)
    return Number.isInteger(value) ? new Float(value) : value
  }
  const asNumber = Number(token)
  return Number.isSafeInteger(asNumber) ? asNumber : BigInt(token)
}

/**
 * Refuses text nesting deeper than MAX_DOCUMENT_DEPTH before the (recursive) parser sees it: ~5,000 levels would
 * overflow its stack, and a few KB of brackets from the wire must give a coded error, not a RangeError.
 */
function checkDepth (text: string, source: string): void {
  let depth = 0; let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DOCUMENT_DEPTH) throw new PcpError(ErrorCodes.CANONICAL_TOO_DEEP, `${source} nests deeper than ${MAX_DOCUMENT_DEPTH} arrays/objects (at offset ${i})`, { file: source, offset: i, limit: MAX_DOCUMENT_DEPTH })
    } else if (c === 0x5d || c === 0x7d) depth--
  }
}

/** Parses JSON keeping each number's int/float nature and exact value. Throws JSON_INVALID with the cause. */
export function parseJson (text: string, source = 'input'): JsonValue {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`)
  checkDepth(text, source)
  try {
    return losslessParse(text, null, parseNumberToken) as JsonValue
  } catch (err) {
    if (err instanceof PcpError) throw err
    throw new PcpError(ErrorCodes.JSON_INVALID, `${source} is not valid JSON: ${(err as Error).message}`, { file: source, cause: err })
  }
}

/**
 * Writes JSON that Python's json.load reads back to the same values (floats stay floats, big ints exact).
 * Keys keep their insertion order; use canonicalize() for the signed form.
 */
export function stringifyJson (value: JsonValue | object, indent = 0): string {
  const pad = indent > 0 ? ' '.repeat(indent) : ''
  const write = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null'
    if (typeof v === 'boolean') return v ? 'true' : 'false'
    if (typeof v === 'number' || typeof v === 'bigint' || v instanceof Float) return formatNumber(v)
    if (typeof v === 'string') return JSON.stringify(v)
    if (depth >= MAX_DOCUMENT_DEPTH) throw tooDeep('$', MAX_DOCUMENT_DEPTH)
    const inner = pad ? '\n' + pad.repeat(depth + 1) : ''
    const close = pad ? '\n' + pad.repeat(depth) : ''
    const sep = pad ? ': ' : ':'
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]'
      return '[' + inner + v.map((x) => write(x, depth + 1)).join(',' + inner) + close + ']'
    }
    if (v instanceof Uint8Array) throw new TypeError('stringifyJson cannot write raw bytes; encode them first')
    const entries = Object.entries(v as object).filter(([, x]) => x !== undefined)
    if (entries.length === 0) return '{}'
    return '{' + inner + entries.map(([k, x]) => JSON.stringify(k) + sep + write(x, depth + 1)).join(',' + inner) + close + '}'
  }
  return write(value, 0)
}
