// Verifies an audit export file in bounded memory (issue 13, "Streaming verification"): parsing a
// 100k-event export whole took 841 MB, 17× the file, so a Pi could not check a large one. The file is
// read in chunks; a byte scanner finds each top-level member and each element of "events" (structural
// bytes are ASCII, so UTF-8 needs no decoding to find them), and every piece goes through parseJson, the
// same lossless parser as before, so numbers and strings are read exactly as the in-memory verifier
// reads them. Events are checked one at a time by ChainVerifier; what must outlive an event is small: the
// chain head, a running chain_integrity_hash, one offset per event, and the replay and fork indexes as
// 8-byte fingerprint slots (runtime/fingerprint-index.ts) whose candidates are confirmed by re-reading
// the earlier event, so the verdicts are exactly verifyAuditExport's (test/audit-stream.test.ts).
import { openSync, readSync, closeSync, fstatSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { parseJson } from './json.js'
import { PcpError, ErrorCodes, type ErrorCode } from './errors.js'
import { MAX_DOCUMENT_DEPTH, setOwnKey } from './value.js'
import { ChainVerifier, identityFrom, nonceKey, type ChainProblem } from './verify.js'
import { FingerprintIndex } from './fingerprint-index.js'
import { checkExportShape, exportReport, verifyAuditExport, type ExportReport, type ExportChainResult } from './audit.js'

export type ExportFileVerdict =
  | { usable: true, report: ExportReport }
  | { usable: false, code: 'JSON_INVALID' | 'EXPORT_MALFORMED', reason: string }

const CHUNK = 1 << 20
const SIZING_SAMPLE = 1024
const WS = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
// A scalar ends at a structural byte or whitespace; what it holds is then parseJson's to judge.
const DELIM = new Uint8Array(256)
for (const c of [0x20, 0x0a, 0x0d, 0x09, 0x2c, 0x5d, 0x7d, 0x22, 0x7b, 0x5b, 0x3a]) DELIM[c] = 1

class Syntax extends Error {}
/** The file cannot be handled by the scanner exactly as the whole-file parser would: use that one. */
class Fallback extends Error {}

/**
 * End (exclusive) of the JSON value starting at buf[i]: -1 when it runs past `len` and more may come,
 * -2 when it nests deeper than the document allows. The value itself is not validated here.
 */
function scanValue (buf: Uint8Array, i: number, len: number, depthBase: number, eof: boolean): number {
  const c = buf[i]
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (; i < len; i++) {
      const b = buf[i]!
      if (b === 0x22) {
        for (i++; i < len; i++) {
          const s = buf[i]!
          if (s === 0x5c) i++
          else if (s === 0x22) break
        }
      } else if (b === 0x7b || b === 0x5b) {
        if (++depth + depthBase > MAX_DOCUMENT_DEPTH) return -2
      } else if (b === 0x7d || b === 0x5d) {
        if (--depth === 0) return i + 1
      }
    }
    return eof ? len : -1
  }
  if (c === 0x22) {
    for (i++; i < len; i++) {
      const s = buf[i]!
      if (s === 0x5c) i++
      else if (s === 0x22) return i + 1
    }
    return eof ? len : -1
  }
  for (; i < len; i++) if (DELIM[buf[i]!]) return i
  return eof ? len : -1
}

/** A forward window over a file. Positions are absolute file offsets. */
class Reader {
  buf: Buffer
  base = 0
  len = 0
  eof = false
  constructor (readonly fd: number, from = 0, size = CHUNK) { this.base = from; this.buf = Buffer.allocUnsafe(size) }

  at (p: number): number {
    while (p - this.base >= this.len) {
      if (this.eof) return -1
      this.more(p)
    }
    return this.buf[p - this.base]!
  }

  /** Reads on, keeping bytes from `keep` on (grows the window when one value is larger than it). */
  more (keep: number): void {
    const drop = Math.min(keep, this.base + this.len) - this.base
    if (drop > 0) { this.buf.copy(this.buf, 0, drop, this.len); this.base += drop; this.len -= drop }
    if (this.len === this.buf.length) { const b = Buffer.allocUnsafe(this.buf.length * 2); this.buf.copy(b, 0, 0, this.len); this.buf = b }
    const n = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, this.base + this.len)
    if (n === 0) this.eof = true
    this.len += n
  }

  skipWs (p: number): number {
    for (;;) { const c = this.at(p); if (c === -1 || !WS(c)) return p; p++ }
  }

  valueEnd (p: number, depthBase: number): number {
    this.at(p)
    for (;;) {
      const r = scanValue(this.buf, p - this.base, this.len, depthBase, this.eof)
      if (r === -2) throw new PcpError(ErrorCodes.CANONICAL_TOO_DEEP, `nests deeper than ${MAX_DOCUMENT_DEPTH} arrays/objects (in the value at byte ${p})`)
      if (r >= 0) return r + this.base
      this.more(p)
    }
  }

  text (from: number, to: number): string { return this.buf.toString('utf8', from - this.base, to - this.base) }
}

function parseAt (r: Reader, from: number, to: number): unknown {
  const text = r.text(from, to)
  try { return parseJson(text, 'value') } catch (err) {
    throw new Syntax(`at byte ${from}: ${(err as Error).message.replace(/^value is not valid JSON: /, '')}`)
  }
}

/** Calls `each(start, end)` for every element of the array at `p` ('['); returns the offset after ']'. */
function elements (r: Reader, p: number, each: (start: number, end: number) => void): number {
  p = r.skipWs(p + 1)
  if (r.at(p) === 0x5d) return p + 1
  for (;;) {
    const end = r.valueEnd(p, 2)
    each(p, end)
    p = r.skipWs(end)
    const c = r.at(p)
    if (c === 0x2c) { p = r.skipWs(p + 1); continue }
    if (c === 0x5d) return p + 1
    throw new Syntax(`at byte ${p}: expected ',' or ']' after an element of "events"`)
  }
}

/** The chain check of verifyChain, one event at a time, with compact indexes confirmed from the file. */
class StreamChain {
  readonly errors: ChainProblem[] = []
  count = 0
  #verifier: ChainVerifier | null = null
  #identityProblem = false
  #agentId: string | null = null
  #hashed = true
  #cih = createHash('sha256')
  #pending = ''
  // Where every 16th event starts: an earlier event is found again by scanning at most 15 more.
  #starts = new Float64Array(1 << 10)
  #indexes: FingerprintIndex[] = []
  readonly #fd: number
  readonly #fileSize: number

  constructor (fd: number, identity: unknown, fingerprint?: (key: string) => number) {
    this.#fd = fd
    this.#fileSize = fstatSync(fd).size
    let id: { agentId: string, publicKey: Uint8Array }
    try { id = identityFrom(identity) } catch (err) {
      const e = err as PcpError
      this.errors.push({ code: (e.code ?? ErrorCodes.IDENTITY_INVALID) as ErrorCode, index: -1, message: e.message, ...(e.field ? { field: e.field } : {}) })
      this.#identityProblem = true
      return
    }
    this.#agentId = id.agentId
    // Only for a fingerprint match: the event is read back and its key compared (runs are already validated).
    const reread = (index: number): Record<string, unknown> | null => {
      const r = new Reader(this.#fd, this.#starts[index >> 4]!, 4096)
      let p = r.base
      for (let k = index & 15; k > 0; k--) p = r.skipWs(r.skipWs(r.valueEnd(p, 2)) + 1)
      const v = parseAt(r, p, r.valueEnd(p, 2))
      return v !== null && typeof v === 'object' ? v as Record<string, unknown> : null
    }
    const opts = fingerprint ? { fingerprint } : {}
    this.#indexes = [
      new FingerprintIndex((index, key) => { const ev = reread(index); return ev !== null && nonceKey(ev) === key }, opts),
      new FingerprintIndex((index, key) => reread(index)?.previous_hash === key, opts)
    ]
    this.#verifier = new ChainVerifier(id, undefined, { nonces: this.#indexes[0], successors: this.#indexes[1] })
  }

  push (event: unknown, start: number): void {
    const index = this.count++
    if (!this.#verifier) return
    // Once the first events show their size, the indexes are sized for the whole file in one step.
    if (index === SIZING_SAMPLE) {
      const estimate = Math.ceil((this.#fileSize - this.#starts[0]!) / ((start - this.#starts[0]!) / SIZING_SAMPLE) * 1.05)
      for (const ix of this.#indexes) ix.reserve(estimate)
    }
    if ((index & 15) === 0) {
      if (index >> 4 >= this.#starts.length) { const s = new Float64Array(this.#starts.length * 2); s.set(this.#starts); this.#starts = s }
      this.#starts[index >> 4] = start
    }
    const { problems, hash } = this.#verifier.push(event)
    for (const p of problems) this.errors.push(p)
    if (hash) {
      this.#pending += hash
      if (this.#pending.length >= 64 * 1024) { this.#cih.update(this.#pending); this.#pending = '' }
    } else this.#hashed = false
  }

  result (): ExportChainResult {
    // As verifyChain: with an unusable identity no event is hashed, so only an empty list has a hash.
    const all = this.#identityProblem ? this.count === 0 : this.#hashed
    const recomputed = all ? this.#cih.update(this.#pending).digest('hex') : null
    return { errors: this.errors, eventCount: this.count, agentId: this.#agentId, recomputed }
  }
}

/**
 * Verifies the audit export at `path` as verifyAuditExport(parseJson(file)) would, without holding it.
 * Throws only when the file cannot be read (the fs error).
 */
export interface StreamOptions {
  /** Bytes read at a time (default 1 MiB); tests use tiny ones to cross every boundary. */
  chunkSize?: number
  /** Replaces the replay/fork indexes' keyed hash, for tests that force fingerprint collisions. */
  fingerprint?: (key: string) => number
  /** Sees each event once, in order, as parsed (pcp verify counts the anchors it was given no roots for). */
  onEvent?: (event: unknown) => void
}

export function verifyAuditExportFile (path: string, opts: StreamOptions = {}): ExportFileVerdict {
  const fd = openSync(path, 'r')
  try {
    return verifyOpen(fd, opts)
  } catch (err) {
    if (err instanceof Fallback) return verifyWhole(path, opts)
    if (err instanceof Syntax || (err instanceof PcpError && (err.code === ErrorCodes.CANONICAL_TOO_DEEP || err.code === ErrorCodes.JSON_INVALID))) {
      return { usable: false, code: 'JSON_INVALID', reason: err.message }
    }
    throw err
  } finally { closeSync(fd) }
}

/** The whole-file path, for layouts the scanner does not take on (not an object, repeated keys). */
function verifyWhole (path: string, opts: StreamOptions): ExportFileVerdict {
  let doc: unknown
  try { doc = parseJson(readFileSync(path, 'utf8'), path) } catch (err) {
    return { usable: false, code: 'JSON_INVALID', reason: (err as Error).message.replace(`${path} is not valid JSON: `, '') }
  }
  const r = verifyAuditExport(doc)
  const events = (doc as { events?: unknown } | null)?.events
  if (r.usable && opts.onEvent && Array.isArray(events)) events.forEach((e) => opts.onEvent!(e))
  return r.usable ? r : { usable: false, code: 'EXPORT_MALFORMED', reason: r.reason }
}

function verifyOpen (fd: number, opts: StreamOptions): ExportFileVerdict {
  if (fstatSync(fd).size === 0) throw new Fallback()
  const r = new Reader(fd, 0, opts.chunkSize)
  let p = r.skipWs(0)
  if (r.at(p) !== 0x7b) throw new Fallback()
  const top: Record<string, unknown> = {}
  const seen = new Set<string>()
  let chain: StreamChain | null = null
  let deferred: number | null = null // where "events" starts when the identity came after it
  let eventCount = 0
  p = r.skipWs(p + 1)
  if (r.at(p) !== 0x7d) {
    for (;;) {
      if (r.at(p) !== 0x22) throw new Syntax(`at byte ${p}: expected a quoted key`)
      const keyEnd = r.valueEnd(p, 1)
      const key = parseAt(r, p, keyEnd) as string
      if (seen.has(key)) throw new Fallback() // a repeated key: lossless-json's rule (equal values only) decides
      seen.add(key)
      p = r.skipWs(keyEnd)
      if (r.at(p) !== 0x3a) throw new Syntax(`at byte ${p}: expected ':' after key ${JSON.stringify(key)}`)
      p = r.skipWs(p + 1)
      if (key === 'events' && r.at(p) === 0x5b) {
        setOwnKey(top, key, [])
        const identity = top.agent_identity
        if (identity !== undefined && identity !== null) chain = new StreamChain(fd, identity, opts.fingerprint)
        else deferred = p
        p = elements(r, p, (s, e) => {
          const ev = parseAt(r, s, e)
          if (chain) { chain.push(ev, s); opts.onEvent?.(ev) } else eventCount++
        })
      } else {
        const end = r.valueEnd(p, 1)
        setOwnKey(top, key, parseAt(r, p, end))
        p = end
      }
      p = r.skipWs(p)
      const c = r.at(p)
      if (c === 0x2c) { p = r.skipWs(p + 1); continue }
      if (c === 0x7d) break
      throw new Syntax(`at byte ${p}: expected ',' or '}' after the value of ${JSON.stringify(key)}`)
    }
  }
  p = r.skipWs(p + 1)
  if (r.at(p) !== -1) throw new Syntax(`at byte ${p}: expected the end of the file after the top-level object`)

  const shape = checkExportShape(top)
  if (!shape.ok) return { usable: false, code: 'EXPORT_MALFORMED', reason: shape.reason }
  if (chain === null) {
    // The identity came after the events (or is only under "identity"): a second pass over them.
    chain = new StreamChain(fd, shape.identity, opts.fingerprint)
    const again = new Reader(fd, deferred!, opts.chunkSize)
    elements(again, deferred!, (s, e) => { const ev = parseAt(again, s, e); chain!.push(ev, s); opts.onEvent?.(ev) })
    if (chain.count !== eventCount) throw new Error('events changed between the two passes')
  }
  return { usable: true, report: exportReport(top, shape.identity, chain.result()) }
}
