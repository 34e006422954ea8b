// Verifies the anchor events of a chain (README "Trusted time"): fed event by event (the streaming
// verifiers call push()), it keeps the 32-byte hashes, and finish() checks each anchor: its range
// and last hash, the RFC 6962 root recomputed over the covered hashes, the token (every check of
// verify-token.ts, imprint = that root, nonce = the one recorded), and the time: genTime may not
// precede a covered event's timestamp nor follow the anchor event's, beyond a clock tolerance.
// Pure: bytes and events in, one verdict per anchor out.
import type { AissEvent } from '../types.js'
import { merkleRoot } from '../merkle.js'
import { fromHex, toHex } from '../encoding.js'
import { verifyTimestampToken } from '../tsa/verify-token.js'
import { TsaError } from '../tsa/errors.js'
import type { RevocationSources } from '../tsa/revocation-check.js'
import { ANCHOR_EVENT_TYPE, parseAnchorPayload, type AnchorRecord } from './payload.js'

/** Device clocks drift (a Pi without RTC): AISS-1's ±300 s (RFC AISS §8.1). */
export const ANCHOR_CLOCK_TOLERANCE_S = 300

export interface AnchorVerdict {
  /** Index of the anchor event. */
  index: number
  from: number
  to: number
  ok: boolean
  code?: string
  message?: string
  field?: string
  /** From the verified token only. */
  genTime?: Date
  tsa?: string
}

export class AnchorVerifier {
  #hashes: Uint8Array[] = []
  #timestamps: number[] = []
  #anchors: Array<{ index: number, event: AissEvent }> = []
  #trustRoots: Uint8Array[]
  /** TokenCheck's crls/ocsp/fetchRevocation/onFetched: when given, every anchor's TSA path is checked for revocation at its genTime. */
  #revocation: RevocationSources
  /** Chain position of the first event pushed: a hub checks one anchor from its range, not the chain from 0. */
  readonly #start: number

  constructor (opts: { trustRoots: Uint8Array[], start?: number } & RevocationSources) {
    if (!Array.isArray(opts.trustRoots)) throw new TypeError('"trustRoots" expected an array of DER certificates')
    if (opts.crls !== undefined && !Array.isArray(opts.crls)) throw new TypeError('"crls" expected an array of DER CRLs')
    if (opts.ocsp !== undefined && !Array.isArray(opts.ocsp)) throw new TypeError('"ocsp" expected an array of DER OCSP responses')
    const start = opts.start ?? 0
    if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`"start" expected a chain position, got ${String(opts.start)}`)
    this.#trustRoots = opts.trustRoots
    this.#revocation = { crls: opts.crls, ocsp: opts.ocsp, fetchRevocation: opts.fetchRevocation, onFetched: opts.onFetched }
    this.#start = start
  }

  /** Events in chain order from `start`, index = position in the chain; `hash` the hex event hash. */
  push (index: number, event: AissEvent, hash: string): void {
    if (index !== this.#start + this.#hashes.length) throw new RangeError(`"index" expected ${this.#start + this.#hashes.length}, got ${index}`)
    this.#hashes.push(fromHex(hash))
    this.#timestamps.push(typeof event.timestamp === 'number' ? event.timestamp : Number(event.timestamp))
    if (event.payload?.event_type === ANCHOR_EVENT_TYPE) this.#anchors.push({ index, event })
  }

  get anchorCount (): number { return this.#anchors.length }

  async finish (): Promise<AnchorVerdict[]> {
    const out: AnchorVerdict[] = []
    // One fetcher for every anchor of the run: anchors by the same TSA fetch its status once.
    if (this.#revocation.fetchRevocation === true) this.#revocation.fetchRevocation = (await import('../tsa/revocation-fetch.js')).httpRevocationFetcher()
    for (const { index, event } of this.#anchors) out.push(await this.#check(index, event))
    return out
  }

  async #check (index: number, event: AissEvent): Promise<AnchorVerdict> {
    let a: AnchorRecord
    try { a = parseAnchorPayload(event.payload, index) } catch (err) {
      const e = err as TsaError
      return { index, from: -1, to: -1, ok: false, code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) }
    }
    const base = { index, from: a.from, to: a.to }
    const bad = (code: string, message: string, field?: string): AnchorVerdict => ({ ...base, ok: false, code, message: `event ${index}: ${message}`, ...(field ? { field } : {}) })
    const s = this.#start
    if (a.from < s) return bad('ANCHOR_INVALID', `covers events from ${a.from}, before the first event given to this check (${s})`, 'covered.from')
    if (toHex(this.#hashes[a.to - s]!) !== a.toHash) return bad('ANCHOR_ROOT_MISMATCH', `anchors event ${a.to} with hash ${a.toHash}, but this chain's event ${a.to} has ${toHex(this.#hashes[a.to - s]!)}`, 'covered.to_hash')
    const root = merkleRoot(this.#hashes.slice(a.from - s, a.to + 1 - s))
    if (toHex(root) !== a.root) return bad('ANCHOR_ROOT_MISMATCH', `the RFC 6962 root over events ${a.from}..${a.to} is ${toHex(root)}, the anchor names ${a.root}`, 'merkle_root')
    const v = await verifyTimestampToken(a.token, { imprint: root, trustRoots: this.#trustRoots, nonce: BigInt('0x' + a.nonce), ...this.#revocation })
    if (!v.ok) return bad(v.code, `the anchor's token: ${v.message}`, v.field)
    const gen = v.genTime.getTime() / 1000
    let latest = -Infinity
    for (let i = a.from - s; i <= a.to - s; i++) if (this.#timestamps[i]! > latest) latest = this.#timestamps[i]!
    if (gen + ANCHOR_CLOCK_TOLERANCE_S < latest) return bad('ANCHOR_TIME_INCONSISTENT', `genTime ${v.genTime.toISOString()} precedes covered events stamped at ${new Date(latest * 1000).toISOString()}`, 'genTime')
    const own = this.#timestamps[index - s]!
    if (own + ANCHOR_CLOCK_TOLERANCE_S < gen) return bad('ANCHOR_TIME_INCONSISTENT', `the anchor event says ${new Date(own * 1000).toISOString()}, before its token's genTime ${v.genTime.toISOString()}`, 'timestamp')
    return { ...base, ok: true, genTime: v.genTime, tsa: v.tsaSubject }
  }
}
