// Byte encodings used on the wire. Strict where the reference is lax (gaps.md #5): the reference's
// b64decode drops junk characters, so one signature has many accepted spellings; we accept exactly one.
import { base58, base64, hex as scureHex } from '@scure/base'

// Node's Buffer is ~5x faster than the portable codecs on the stamping hot path; browsers lack it.
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer

const B64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Standard base64 with padding, as the reference's base64.b64encode. */
export function toBase64 (bytes: Uint8Array): string {
  return NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') : base64.encode(bytes)
}

/** Strict standard base64: padded, no whitespace, no url-safe alphabet, zero trailing bits. Null if not. */
export function fromBase64Strict (text: string): Uint8Array | null {
  if (typeof text !== 'string' || !B64_SHAPE.test(text)) return null
  if (NodeBuffer) {
    const bytes = new Uint8Array(NodeBuffer.from(text, 'base64'))
    // Buffer ignores non-zero trailing bits; requiring the re-encoding to match keeps one spelling.
    return toBase64(bytes) === text ? bytes : null
  }
  try { return base64.decode(text) } catch { return null }
}

export function toHex (bytes: Uint8Array): string {
  return NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex') : scureHex.encode(bytes)
}

export function fromHex (text: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new TypeError(`"hex" expected an even-length hex string, got ${JSON.stringify(String(text).slice(0, 80))}`)
  }
  return scureHex.decode(text.toLowerCase())
}

export function toBase58 (bytes: Uint8Array): string { return base58.encode(bytes) }
export function fromBase58 (text: string): Uint8Array { return base58.decode(text) }

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}
