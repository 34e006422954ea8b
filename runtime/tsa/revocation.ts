// tsa.md §8 step 10, offline and CRL-only: the caller hands over CRLs (DER) next to the trust roots;
// nothing is fetched. Passing CRLs means "check all": the TSA certificate and every intermediate of the
// validated path must be covered by a CRL from its issuer, trustworthy at genTime. A certificate
// revoked after genTime still proves the token (it was made while the key was good, RFC 3161 §4.1).
// OCSP is not done (README "Trusted time").
import * as pkijs from 'pkijs'
import { decodeDer, nameText } from './asn1.js'
import type { PathFailure } from './cert-path.js'

/** One DER CRL, parsed; throws on bytes that are not one (the caller turns that into TSA_CRL_INVALID). */
export function revocationList (der: Uint8Array): pkijs.CertificateRevocationList {
  const asn = decodeDer(der)
  if (asn === null) throw new Error(`not one DER element (${der.length} bytes)`)
  return new pkijs.CertificateRevocationList({ schema: asn })
}

/** `chain` is the validated path, signer first, trust root last; the root itself is trusted as configured. */
export async function checkRevocation (chain: pkijs.Certificate[], crlDers: Uint8Array[], at: Date): Promise<PathFailure | null> {
  const crls: pkijs.CertificateRevocationList[] = []
  for (const [i, der] of crlDers.entries()) {
    try { crls.push(revocationList(der)) } catch (err) { return { code: 'TSA_CRL_INVALID', message: `CRL #${i + 1} does not parse: ${(err as Error).message}`, field: 'crls' } }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i]!; const issuer = chain[i + 1]!
    const field = i === 0 ? 'signer' : 'chain'
    const own = crls.filter((c) => c.issuer.isEqual(issuer.subject))
    if (own.length === 0) return { code: 'TSA_CRL_MISSING', message: `no CRL from "${nameText(issuer.subject)}" for certificate "${nameText(cert.subject)}": with CRLs given, every certificate of the path is checked`, field }
    for (const crl of own) {
      const bad = await crlProblem(crl, issuer, cert, at)
      if (bad !== null) return { code: 'TSA_CRL_INVALID', message: `the CRL from "${nameText(issuer.subject)}" ${bad}`, field: 'crls' }
      const entry = crl.revokedCertificates?.find((r) => r.userCertificate.isEqual(cert.serialNumber))
      if (entry !== undefined && entry.revocationDate.value.getTime() <= at.getTime()) {
        return { code: 'TSA_CERT_REVOKED', message: `certificate "${nameText(cert.subject)}" was revoked at ${entry.revocationDate.value.toISOString()}, at or before genTime ${at.toISOString()}`, field }
      }
    }
  }
  return null
}

/** Why `crl` cannot speak for `cert` (issued by `issuer`) at `at`, or null. */
async function crlProblem (crl: pkijs.CertificateRevocationList, issuer: pkijs.Certificate, cert: pkijs.Certificate, at: Date): Promise<string | null> {
  let ok = false
  try { ok = await crl.verify({ issuerCertificate: issuer }) } catch { ok = false }
  if (!ok) return 'has a signature that does not verify with the issuer\'s key'
  const t = at.getTime()
  const issued = crl.thisUpdate.value.getTime()
  // One issued before genTime must still be current then (nextUpdate not passed). One issued later lists
  // every revocation up to its issue, the earlier ones included (an auditor's current CRL), but only
  // while the certificate had not expired: a CA drops expired certificates from its lists, so then only
  // evidence captured near genTime can speak (tsa.md §8 step 10).
  if (issued <= t && crl.nextUpdate !== undefined && crl.nextUpdate.value.getTime() < t) return `is not valid at genTime ${at.toISOString()}: nextUpdate ${crl.nextUpdate.value.toISOString()} had passed`
  if (issued > t && issued > cert.notAfter.value.getTime()) return `was issued at ${crl.thisUpdate.value.toISOString()}, after certificate "${nameText(cert.subject)}" expired (${cert.notAfter.value.toISOString()}): it may no longer list it; use a CRL captured near genTime`
  // RFC 5280 §5.2/§5.3: a critical extension we do not process (issuingDistributionPoint of a partial
  // CRL, deltaCRLIndicator, an entry's certificateIssuer) means the list must not be used: it may be
  // silent about a revoked certificate.
  const critical = [...(crl.crlExtensions?.extensions ?? []), ...(crl.revokedCertificates ?? []).flatMap((r) => r.crlEntryExtensions?.extensions ?? [])].find((e) => e.critical)
  if (critical !== undefined) return `carries the critical extension ${critical.extnID}, which this verifier does not process (a partial, delta or indirect CRL)`
  return null
}
