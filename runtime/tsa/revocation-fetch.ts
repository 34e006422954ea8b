// Fetching revocation status (opt-in: TokenCheck.fetchRevocation, `--tsa-fetch`): an OCSP responder
// named by a certificate's authorityInfoAccess (RFC 6960 Appendix A.1, POST) and CRLs named by its
// cRLDistributionPoints (RFC 5280 §4.2.1.13, GET). Off by default because a verdict that depends on
// the network today cannot be reproduced from the archive tomorrow. Only http: URLs (RFC 5280: https
// and ldap would need their own trust and client); only URLs of certificates that already chain to a
// configured root are ever asked (step 10 runs after step 9), so a token cannot make us fetch at will.
// globalThis.fetch, no Node built-ins. Redirects are followed (distribution points sit behind CDNs):
// what comes back is trusted for its signature, never its origin, and judged exactly as offline evidence.
import * as pkijs from 'pkijs'
import { findExtension } from './asn1.js'
import { TsaError } from './errors.js'

export interface RevocationFetcher {
  /** The DER OCSPResponse an http: responder returns for a DER OCSPRequest. */
  ocsp: (url: string, request: Uint8Array) => Promise<Uint8Array>
  /** The CRL (DER or PEM) at an http: distribution point. */
  crl: (url: string) => Promise<Uint8Array>
}

export interface HttpRevocationFetcherOptions {
  /** Per request, milliseconds; default 10 s like the TSA client. */
  timeoutMs?: number
  /** Largest CRL accepted, bytes; default 10 MiB (a large public CA's full CRL is a few MB). */
  maxCrlBytes?: number
  /** Largest OCSP response accepted, bytes; default 64 KiB (one status and a responder certificate: ~2 KB). */
  maxOcspBytes?: number
  fetch?: typeof globalThis.fetch
}

const OID_AIA = '1.3.6.1.5.5.7.1.1'
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1'
const OID_CDP = '2.5.29.31'
const URI = 6 // GeneralName uniformResourceIdentifier

/** Where `cert` says its status can be fetched: http: URLs only; `skipped` lists the others for the message. */
export function revocationUrls (cert: pkijs.Certificate): { ocsp: string[], crl: string[], skipped: string[] } {
  const out = { ocsp: [] as string[], crl: [] as string[], skipped: [] as string[] }
  const take = (list: string[], name: pkijs.GeneralName): void => {
    if (name.type !== URI) return
    const u = String(name.value)
    if (/^http:\/\//i.test(u)) list.push(u); else out.skipped.push(u)
  }
  const aia = findExtension(cert, OID_AIA)?.parsedValue
  if (aia instanceof pkijs.InfoAccess) for (const d of aia.accessDescriptions) if (d.accessMethod === OID_AD_OCSP) take(out.ocsp, d.accessLocation)
  const cdp = findExtension(cert, OID_CDP)?.parsedValue
  if (cdp instanceof pkijs.CRLDistributionPoints) {
    for (const p of cdp.distributionPoints) {
      // A point for some reasons only, or with another CRL issuer, does not hold a complete CRL by the issuer.
      if (p.reasons !== undefined || p.cRLIssuer !== undefined || !Array.isArray(p.distributionPoint)) continue
      for (const n of p.distributionPoint) take(out.crl, n)
    }
  }
  return out
}

/** The default fetcher; it caches per URL (and request) for its lifetime, which is one verification run. */
export function httpRevocationFetcher (opts: HttpRevocationFetcherOptions = {}): RevocationFetcher {
  const doFetch = opts.fetch ?? globalThis.fetch
  const timeoutMs = opts.timeoutMs ?? 10_000
  const cache = new Map<string, Promise<Uint8Array>>()
  const once = (key: string, get: () => Promise<Uint8Array>): Promise<Uint8Array> => {
    let p = cache.get(key)
    if (p === undefined) { p = get(); cache.set(key, p) }
    return p
  }
  return {
    ocsp: (url, request) => once(`ocsp ${url} ${request.join(',')}`, () => get(doFetch, url, 'OCSP responder', opts.maxOcspBytes ?? 64 * 1024, timeoutMs, {
      method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' }, body: request
    })),
    crl: (url) => once(`crl ${url}`, () => get(doFetch, url, 'CRL distribution point', opts.maxCrlBytes ?? 10 * 1024 * 1024, timeoutMs, { method: 'GET' }))
  }
}

async function get (doFetch: typeof globalThis.fetch, url: string, what: string, max: number, timeoutMs: number, init: RequestInit): Promise<Uint8Array> {
  const fail = (why: string, cause?: unknown): TsaError => new TsaError('TSA_REVOCATION_UNAVAILABLE', `${what} ${url}: ${why}`, { field: 'url', actual: url, ...(cause !== undefined ? { cause } : {}) })
  if (!/^http:\/\//i.test(url)) throw fail('not an http: URL')
  const signal = AbortSignal.timeout(timeoutMs)
  let res: Response
  try { res = await doFetch(url, { ...init, signal }) } catch (err) { throw fail(`unreachable: ${reason(err, timeoutMs)}`, err) }
  if (res.status !== 200) { await res.body?.cancel().catch(() => {}); throw fail(`answered HTTP ${res.status}`) }
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > max) { await res.body?.cancel().catch(() => {}); throw fail(`a ${declared}-byte answer exceeds ${max}`) }
  // Counted while streaming: a server that lies about (or omits) its length cannot make us buffer more.
  const parts: Uint8Array[] = []; let n = 0
  try {
    // Leaving the loop early cancels the stream (the async iterator's return()).
    for await (const chunk of res.body ?? []) {
      n += chunk.length
      if (n > max) break
      parts.push(chunk)
    }
  } catch (err) { throw fail(`the answer was cut: ${reason(err, timeoutMs)}`, err) }
  if (n > max) throw fail(`the answer exceeds ${max} bytes`)
  const out = new Uint8Array(n); let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

function reason (err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string, message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)
}
