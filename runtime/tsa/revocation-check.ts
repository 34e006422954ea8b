// tsa.md §8 step 10 over the validated path: asking for revocation (CRLs, OCSP responses, or fetching)
// means "check all": the TSA certificate and every intermediate must be covered by a CRL from its
// issuer (revocation.ts) or an OCSP response for it (ocsp.ts), either one trustworthy at genTime; the
// configured root is trusted as configured. Evidence the caller holds is used first, so an archive
// with its CRLs/OCSP responses verifies the same way offline forever; only what it leaves uncovered is
// fetched, and only when the caller opted in (revocation-fetch.ts): the responder first, then the
// distribution points. A certificate covered by nothing fails: TSA_CRL_MISSING when only CRLs were
// given (the contract before OCSP), TSA_REVOCATION_MISSING otherwise.
import type * as pkijs from 'pkijs'
import { nameText, toHex } from './asn1.js'
import type { PathFailure } from './cert-path.js'
import { revocationList, crlEvidence } from './revocation.js'
import { ocspResponse, ocspEvidence, ocspRequest } from './ocsp.js'
import { parseCrls } from './trust.js'
import type { RevocationFetcher } from './revocation-fetch.js'

/** TokenCheck's revocation fields, taken as one by AnchorVerifier, the hub's FinalityCheck and the CLI. With none, revocation is not checked. */
export interface RevocationSources {
  /** CRLs, DER (runtime/tsa/trust.ts reads PEM): each covers the certificates its issuer issued. */
  crls?: Uint8Array[] | undefined
  /** OCSP responses, DER (`openssl ocsp -respout`): each covers the certificates its CertIDs name. */
  ocsp?: Uint8Array[] | undefined
  /**
   * Opt-in: fetch status for what crls/ocsp leave uncovered, from each certificate's OCSP responder
   * (authorityInfoAccess) or cRLDistributionPoints (http: only; revocation-fetch.ts); true for the
   * default HTTP fetcher. Off by default: a verdict that depends on today's network cannot be
   * reproduced offline from an archive.
   */
  fetchRevocation?: boolean | RevocationFetcher | undefined
  /**
   * Called with each fetched CRL or OCSP response that decided a certificate's status (good, revoked or
   * refused), never with one that failed in transit or spoke of someone else: what an archive keeps so
   * that the same verification runs offline from `crls`/`ocsp` (`pcp verify --tsa-save-evidence`).
   */
  onFetched?: ((evidence: FetchedEvidence) => void) | undefined
}

/** One fetched CRL (DER; `issuer` is the DER Name it is from) or OCSP response (DER OCSPResponse, about `serial`, hex). */
export type FetchedEvidence =
  | { kind: 'crl', url: string, der: Uint8Array, issuer: Uint8Array, thisUpdate: Date }
  | { kind: 'ocsp', url: string, der: Uint8Array, serial: string, producedAt: Date }

export function revocationRequested (s: RevocationSources): boolean {
  return s.crls !== undefined || s.ocsp !== undefined || (s.fetchRevocation !== undefined && s.fetchRevocation !== false)
}

/** `chain` is the validated path, signer first, trust root last. */
export async function checkRevocation (chain: pkijs.Certificate[], sources: RevocationSources, at: Date): Promise<PathFailure | null> {
  const crls: pkijs.CertificateRevocationList[] = []
  for (const [i, der] of (sources.crls ?? []).entries()) {
    try { crls.push(revocationList(der)) } catch (err) { return { code: 'TSA_CRL_INVALID', message: `CRL #${i + 1} does not parse: ${(err as Error).message}`, field: 'crls' } }
  }
  const responses: pkijs.BasicOCSPResponse[] = []
  for (const [i, der] of (sources.ocsp ?? []).entries()) {
    try { responses.push(ocspResponse(der)) } catch (err) { return { code: 'TSA_OCSP_INVALID', message: `OCSP response #${i + 1} does not parse: ${(err as Error).message}`, field: 'ocsp' } }
  }
  let fetcher: RevocationFetcher | undefined
  if (sources.fetchRevocation === true) fetcher = (await import('./revocation-fetch.js')).httpRevocationFetcher()
  else if (sources.fetchRevocation) fetcher = sources.fetchRevocation
  const crlOnly = sources.ocsp === undefined && fetcher === undefined
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i]!; const issuer = chain[i + 1]!
    const field = i === 0 ? 'signer' : 'chain'
    const byCrl = await crlEvidence(cert, issuer, crls, at, field)
    if (typeof byCrl === 'object') return byCrl
    const byOcsp = await ocspEvidence(cert, issuer, responses, at, field)
    if (typeof byOcsp === 'object') return byOcsp
    if (byCrl === 'good' || byOcsp === 'good') continue
    const what = `certificate "${nameText(cert.subject)}" (issued by "${nameText(issuer.subject)}")`
    if (crlOnly) return { code: 'TSA_CRL_MISSING', message: `no CRL from "${nameText(issuer.subject)}" for certificate "${nameText(cert.subject)}": with CRLs given, every certificate of the path is checked`, field }
    if (fetcher === undefined) return { code: 'TSA_REVOCATION_MISSING', message: `neither a CRL nor an OCSP response covers ${what}: with revocation asked, every certificate of the path is checked`, field }
    const fetched = await fetchedEvidence(cert, issuer, fetcher, at, field, what, sources.onFetched ?? (() => {}))
    if (fetched !== null) return fetched
  }
  return null
}

/**
 * Status fetched for one certificate: null when covered. A transport failure (or an answer that is no
 * OCSP response / CRL at all) moves on to the next URL; a signed answer that does not hold up fails
 * at once, naming its URL, as offline evidence would.
 */
async function fetchedEvidence (cert: pkijs.Certificate, issuer: pkijs.Certificate, fetcher: RevocationFetcher, at: Date, field: string, what: string, used: (e: FetchedEvidence) => void): Promise<PathFailure | null> {
  const urls = (await import('./revocation-fetch.js')).revocationUrls(cert)
  const tried: string[] = []
  const fromUrl = (url: string, f: PathFailure): PathFailure => ({ ...f, message: `${url}: ${f.message}` })
  for (const url of urls.ocsp) {
    let basic: pkijs.BasicOCSPResponse; let der: Uint8Array
    try { der = await fetcher.ocsp(url, ocspRequest(cert, issuer)); basic = ocspResponse(der) } catch (err) { tried.push(message(err, url)); continue }
    const e = await ocspEvidence(cert, issuer, [basic], at, field)
    if (e === 'none') return { code: 'TSA_OCSP_INVALID', message: `the OCSP responder ${url} answered for another certificate than ${what}`, field: 'ocsp' }
    used({ kind: 'ocsp', url, der, serial: toHex(cert.serialNumber.valueBlock.valueHexView), producedAt: basic.tbsResponseData.producedAt })
    if (e !== 'good') return fromUrl(url, e)
    return null
  }
  for (const url of urls.crl) {
    let ders: Uint8Array[]; let list: pkijs.CertificateRevocationList[]
    try { ders = parseCrls(await fetcher.crl(url), url); list = ders.map(revocationList) } catch (err) { tried.push(message(err, url)); continue }
    const e = await crlEvidence(cert, issuer, list, at, field)
    if (e === 'none') return { code: 'TSA_CRL_INVALID', message: `the CRL at ${url} is not from "${nameText(issuer.subject)}", the issuer of ${what}`, field: 'crls' }
    // Only the issuer's lists spoke (a PEM may bundle others'); offline, another CA's list would speak for its own certificates.
    list.forEach((c, j) => { if (c.issuer.isEqual(issuer.subject)) used({ kind: 'crl', url, der: ders[j]!, issuer: new Uint8Array(c.issuer.toSchema().toBER()), thisUpdate: c.thisUpdate.value }) })
    if (e !== 'good') return fromUrl(url, e)
    return null
  }
  const skipped = urls.skipped.length ? ` (not fetched, not http: ${urls.skipped.join(', ')})` : ''
  if (tried.length === 0) return { code: 'TSA_REVOCATION_MISSING', message: `no CRL or OCSP response covers ${what}, and it names no http: OCSP responder or CRL distribution point to fetch one from${skipped}`, field }
  return { code: 'TSA_REVOCATION_UNAVAILABLE', message: `no revocation status for ${what} could be fetched: ${tried.join('; ')}${skipped}`, field }
}

function message (err: unknown, url: string): string {
  const m = (err as Error).message
  return m.includes(url) ? m : `${url}: ${m}`
}
