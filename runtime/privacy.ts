// The auto-hash rule (a2a_session.md §6): sensitive values are recorded only as SHA-256 hex. We hash the
// canonical JSON of the value, which anyone can reproduce; the reference hashes Python's str(), which
// only Python can (gaps.md #34).
import { canonicalBytes } from './canonical.js'
import { crypto } from './crypto.js'
import { toHex } from './encoding.js'

/** SHA-256 hex of the UTF-8 bytes of a string, or of raw bytes. */
export function sha256Hex (data: string | Uint8Array): string {
  return toHex(crypto().sha256(typeof data === 'string' ? new TextEncoder().encode(data) : data))
}

/** SHA-256 hex of the canonical JSON of any JSON value: `hashValue("x") === sha256Hex('"x"')`. */
export function hashValue (value: unknown): string {
  return toHex(crypto().sha256(canonicalBytes(value)))
}
