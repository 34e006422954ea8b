// tsa.md §8 step 10 by CRL: what the CRLs from a certificate's issuer say about it at genTime. Which
// certificates must be covered, and by what, is revocation-check.ts's; OCSP follows the time rule
// here (ocsp.ts). A certificate revoked after genTime still proves the token (it was made while the
// key was good, RFC 3161 §4.1).
import * as pkijs from 'pkijs'
import { decodeDer, nameText } from './asn1.js'
import type { PathFailure } from './cert-path.js'

/** What one kind of evidence says about one certificate: nothing, not revoked at genTime, or a failure. */
export type Evidence = 'none' | 'good' | PathFailure

/** One DER CRL, parsed; throws on bytes that are not one (the caller turns that into TSA_CRL_INVALID). */
export function revocationList (der: Uint8Array): pkijs.CertificateRevocationList {
  const asn = decodeDer(der)
  if (asn === null) throw new Error(`not one DER element (${der.length} bytes)`)
  return new pkijs.CertificateRevocationList({ schema: asn })
}

/**
 * Whether status issued at `thisUpdate` (a CRL, an OCSP SingleResponse) can speak for `cert` at `at`.
 * Issued before genTime it must still be current then (nextUpdate not passed). Issued later it reports
 * every revocation up to its issue, the earlier ones included (an auditor's current CRL, a fetched OCSP
 * answer), but only while the certificate had not expired: a CA drops expired certificates from its
 * lists and responders, so then only evidence captured near genTime can speak (tsa.md §8 step 10).
 */
export function statusTimeProblem (thisUpdate: Date, nextUpdate: Date | undefined, cert: pkijs.Certificate, at: Date): string | null {
  const t = at.getTime(); const issued = thisUpdate.getTime()
  if (issued <= t && nextUpdate !== undefined && nextUpdate.getTime() < t) return `is not valid at genTime ${at.toISOString()}: nextUpdate ${nextUpdate.toISOString()} had passed`
  if (issued > t && issued > cert.notAfter.value.getTime()) return `was issued at ${thisUpdate.toISOString()}, after certificate "${nameText(cert.subject)}" expired (${cert.notAfter.value.toISOString()}): it may no longer list it; use evidence captured near genTime`
  return null
}

/** 'none' when no CRL is from `issuer`; each one from it must hold up (a forged list is not outvoted by a good one). */
export async function crlEvidence (cert: pkijs.Certificate, issuer: pkijs.Certificate, crls: pkijs.CertificateRevocationList[], at: Date, field: string): Promise<Evidence> {
  const own = crls.filter((c) => c.issuer.isEqual(issuer.subject))
  if (own.length === 0) return 'none'
  for (const crl of own) {
    const bad = await crlProblem(crl, issuer, cert, at)
    if (bad !== null) return { code: 'TSA_CRL_INVALID', message: `the CRL from "${nameText(issuer.subject)}" ${bad}`, field: 'crls' }
    const entry = crl.revokedCertificates?.find((r) => r.userCertificate.isEqual(cert.serialNumber))
    if (entry !== undefined && entry.revocationDate.value.getTime() <= at.getTime()) {
      return { code: 'TSA_CERT_REVOKED', message: `certificate "${nameText(cert.subject)}" was revoked at ${entry.revocationDate.value.toISOString()}, at or before genTime ${at.toISOString()}`, field }
    }
  }
  return 'good'
}

/** Why `crl` cannot speak for `cert` (issued by `issuer`) at `at`, or null. */
async function crlProblem (crl: pkijs.CertificateRevocationList, issuer: pkijs.Certificate, cert: pkijs.Certificate, at: Date): Promise<string | null> {
  let ok = false
  try { ok = await crl.verify({ issuerCertificate: issuer }) } catch { ok = false }
  if (!ok) return 'has a signature that does not verify with the issuer\'s key'
  const late = statusTimeProblem(crl.thisUpdate.value, crl.nextUpdate?.value, cert, at)
  if (late !== null) return late
  // RFC 5280 §5.2/§5.3: a critical extension we do not process (issuingDistributionPoint of a partial
  // CRL, deltaCRLIndicator, an entry's certificateIssuer) means the list must not be used: it may be
  // silent about a revoked certificate.
  const critical = [...(crl.crlExtensions?.extensions ?? []), ...(crl.revokedCertificates ?? []).flatMap((r) => r.crlEntryExtensions?.extensions ?? [])].find((e) => e.critical)
  if (critical !== undefined) return `carries the critical extension ${critical.extnID}, which this verifier does not process (a partial, delta or indirect CRL)`
  return null
}
