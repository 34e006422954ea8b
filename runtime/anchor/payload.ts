// The `anchor` event (README "Trusted time"): an ordinary signed chain event, stamped after the TSA
// answered, that holds the token for the RFC 6962 root over the hashes of events from..to (inclusive).
// The reference puts its `trusted_timestamp` object into the already signed event, breaking the
// signature (tsa.md §4.1); we keep that object's field names but carry it in a new event's payload,
// so nothing stamped before is ever rewritten. Pure.
import type { JsonObject } from '../value.js'
import { TsaError } from '../tsa/errors.js'

export const ANCHOR_EVENT_TYPE = 'anchor'

/** An event (any shape, as read from an export) whose payload says it is an anchor. */
export const isAnchorEvent = (e: unknown): boolean => (e as { payload?: { event_type?: unknown } } | null)?.payload?.event_type === ANCHOR_EVENT_TYPE
export const ANCHOR_TREE = 'rfc6962-sha256'

export interface AnchorRecord {
  from: number
  to: number
  /** Hex event hash of event `to`: a verifier holding another history sees at once which one was anchored. */
  toHash: string
  /** Hex RFC 6962 root over the event hashes from..to; the token's messageImprint. */
  root: string
  /** DER TimeStampResp, as the TSA sent it. */
  token: Uint8Array
  /** The nonce sent with the request (hex), which the token must echo. */
  nonce: string
  url: string
  /** TSTInfo.genTime as read from the verified token: a hint for readers; verifiers read the token. */
  genTime: string
}

const HEX64 = /^[0-9a-f]{64}$/

export function anchorPayload (a: AnchorRecord): JsonObject {
  return {
    covered: { from: a.from, to: a.to, count: a.to - a.from + 1, to_hash: a.toHash },
    tree: ANCHOR_TREE,
    merkle_root: a.root,
    trusted_timestamp: {
      authority: authorityOf(a.url),
      url: a.url,
      token: 'base64:' + base64(a.token),
      hash_algorithm: 'sha256',
      data_hash: a.root,
      nonce: a.nonce,
      gen_time: a.genTime,
      status: 'granted',
      token_size_bytes: a.token.length
    }
  }
}

/** Reads an anchor event's payload; ANCHOR_INVALID names the field. `index` is the anchor event's. */
export function parseAnchorPayload (payload: Record<string, unknown>, index: number): AnchorRecord {
  const bad = (field: string, why: string): never => { throw new TsaError('ANCHOR_INVALID', `event ${index}: anchor ${field} ${why}`, { index, field }) }
  const c = payload.covered as Record<string, unknown> | undefined
  if (typeof c !== 'object' || c === null) return bad('covered', 'is missing')
  const from = Number(c.from); const to = Number(c.to)
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || to >= index) return bad('covered', `range ${String(c.from)}..${String(c.to)} is not a range of earlier events`)
  if (Number(c.count) !== to - from + 1) return bad('covered.count', `is ${String(c.count)}, not ${to - from + 1}`)
  if (typeof c.to_hash !== 'string' || !HEX64.test(c.to_hash)) return bad('covered.to_hash', 'is not a hex SHA-256')
  if (payload.tree !== ANCHOR_TREE) return bad('tree', `is ${String(payload.tree)}, not ${ANCHOR_TREE}`)
  if (typeof payload.merkle_root !== 'string' || !HEX64.test(payload.merkle_root)) return bad('merkle_root', 'is not a hex SHA-256')
  const t = payload.trusted_timestamp as Record<string, unknown> | undefined
  if (typeof t !== 'object' || t === null) return bad('trusted_timestamp', 'is missing')
  if (typeof t.token !== 'string' || !t.token.startsWith('base64:')) return bad('trusted_timestamp.token', 'is not "base64:…"')
  let token: Uint8Array
  try { token = unbase64(t.token.slice(7)) } catch { return bad('trusted_timestamp.token', 'is not strict base64') }
  if (typeof t.nonce !== 'string' || !/^[0-9a-f]{1,32}$/.test(t.nonce)) return bad('trusted_timestamp.nonce', 'is not hex')
  return { from, to, toHash: c.to_hash, root: payload.merkle_root, token, nonce: t.nonce, url: String(t.url ?? ''), genTime: String(t.gen_time ?? '') }
}

function authorityOf (url: string): string {
  try { return new URL(url).host } catch { return url }
}

function base64 (b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000))
  return btoa(s)
}

function unbase64 (s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new Error('not strict base64')
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
