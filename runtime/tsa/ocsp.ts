// tsa.md §8 step 10 by OCSP (RFC 6960). A response speaks for a certificate of the TSA's path when a
// SingleResponse's CertID names it under its issuer, the response is signed by that issuer or by a
// responder the issuer delegated (§4.2.2.2: issued directly by it, id-kp-OCSPSigning), and its
// thisUpdate/nextUpdate fit genTime by the rule CRLs follow (revocation.ts, statusTimeProblem). pkijs
// decodes and checks the signature; the authorization is ours, judged at the response's producedAt,
// because pkijs's BasicOCSPResponse.verify validates the responder's chain at the current time.
// The delegated responder's own revocation is not checked (such certificates carry id-pkix-ocsp-nocheck).
// Pure: bytes in, evidence out; the HTTP edge is revocation-fetch.ts.
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { sha1 } from '@noble/hashes/legacy.js'
import { OID, STRONG_HASHES, arrayBuffer, bytesEqual, decodeDer, findExtension, nameText } from './asn1.js'
import { statusTimeProblem, type Evidence } from './revocation.js'

const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1'
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'
const SHA1_OID = '1.3.14.3.2.26'
const STATUS_NAMES = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(4)', 'sigRequired', 'unauthorized']

/** The BasicOCSPResponse inside one DER OCSPResponse; throws on bytes that are not a successful one. */
export function ocspResponse (der: Uint8Array): pkijs.BasicOCSPResponse {
  const asn = decodeDer(der)
  if (asn === null) throw new Error(`not one DER element (${der.length} bytes)`)
  const resp = new pkijs.OCSPResponse({ schema: asn })
  const status = resp.responseStatus.valueBlock.valueDec
  if (status !== 0) throw new Error(`responseStatus ${STATUS_NAMES[status] ?? status}, not successful: it carries no certificate status`)
  if (resp.responseBytes?.responseType !== OCSP_BASIC) throw new Error(`responseType ${String(resp.responseBytes?.responseType)} is not id-pkix-ocsp-basic`)
  const inner = decodeDer(resp.responseBytes.response.valueBlock.valueHexView)
  if (inner === null) throw new Error('the BasicOCSPResponse is not one DER element')
  return new pkijs.BasicOCSPResponse({ schema: inner })
}

/** A DER OCSPRequest for `cert` (SHA-1 CertID: what RFC 5019 responders index by; it identifies, the signature protects). */
export function ocspRequest (cert: pkijs.Certificate, issuer: pkijs.Certificate): Uint8Array {
  const req = new pkijs.OCSPRequest()
  req.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId(cert, issuer, SHA1_OID)! })]
  return new Uint8Array(req.toSchema(true).toBER())
}

/**
 * What `responses` say about `cert` at `at`: 'none' when no SingleResponse names it, 'good' when one
 * says good (or revoked after `at`), else the failure. Every response naming it must hold up: a
 * forged one is not outvoted by a good one beside it.
 */
export async function ocspEvidence (cert: pkijs.Certificate, issuer: pkijs.Certificate, responses: pkijs.BasicOCSPResponse[], at: Date, field: string): Promise<Evidence> {
  let found = false
  const who = `"${nameText(cert.subject)}"`
  for (const basic of responses) {
    const singles = basic.tbsResponseData.responses.filter((s) => { const id = certId(cert, issuer, s.certID.hashAlgorithm.algorithmId); return id !== null && id.isEqual(s.certID) })
    if (singles.length === 0) continue
    found = true
    const unauthorized = await signerProblem(basic, issuer)
    if (unauthorized !== null) return { code: 'TSA_OCSP_INVALID', message: `the OCSP response for ${who} ${unauthorized}`, field: 'ocsp' }
    const critical = [...(basic.tbsResponseData.responseExtensions ?? []), ...singles.flatMap((s) => s.singleExtensions ?? [])].find((e) => e.critical)
    if (critical !== undefined) return { code: 'TSA_OCSP_INVALID', message: `the OCSP response for ${who} carries the critical extension ${critical.extnID}, which this verifier does not process`, field: 'ocsp' }
    for (const s of singles) {
      const late = statusTimeProblem(s.thisUpdate, s.nextUpdate, cert, at)
      if (late !== null) return { code: 'TSA_OCSP_INVALID', message: `the OCSP response for ${who} (thisUpdate ${s.thisUpdate.toISOString()}) ${late}`, field: 'ocsp' }
      const st = s.certStatus as asn1js.BaseBlock
      if (st.idBlock.tagNumber === 2) return { code: 'TSA_OCSP_UNKNOWN', message: `the OCSP responder of "${nameText(issuer.subject)}" says the status of ${who} is unknown`, field }
      if (st.idBlock.tagNumber === 1) {
        const when = revocationTime(st)
        if (when === null) return { code: 'TSA_OCSP_INVALID', message: `the OCSP response for ${who} says revoked without a revocationTime`, field: 'ocsp' }
        if (when.getTime() <= at.getTime()) return { code: 'TSA_CERT_REVOKED', message: `certificate ${who} was revoked at ${when.toISOString()}, at or before genTime ${at.toISOString()} (OCSP)`, field }
      }
    }
  }
  return found ? 'good' : 'none'
}

/** The CertID of `cert` under `issuer` with hash `oid`, or null for a hash we do not compute. */
function certId (cert: pkijs.Certificate, issuer: pkijs.Certificate, oid: string): pkijs.CertID | null {
  const h = oid === SHA1_OID ? sha1 : STRONG_HASHES[oid]?.fn
  if (h === undefined) return null
  // RFC 6960 §4.1.1: the issuer's name as the checked certificate spells it; the key without tag and length.
  const name = new Uint8Array(cert.issuer.toSchema().toBER())
  return new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: oid, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: arrayBuffer(h(name)) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: arrayBuffer(h(publicKeyBits(issuer))) }),
    serialNumber: cert.serialNumber
  })
}

function publicKeyBits (c: pkijs.Certificate): Uint8Array { return c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView }

function revocationTime (st: asn1js.BaseBlock): Date | null {
  const t = (st as asn1js.Constructed).valueBlock.value?.[0]
  return t instanceof asn1js.GeneralizedTime ? t.toDate() : null
}

/** Why the response's signer may not speak for `issuer`'s certificates, or null (RFC 6960 §4.2.2.2). */
async function signerProblem (basic: pkijs.BasicOCSPResponse, issuer: pkijs.Certificate): Promise<string | null> {
  const rid = basic.tbsResponseData.responderID
  const named = [issuer, ...(basic.certs ?? [])].filter((c) => rid instanceof pkijs.RelativeDistinguishedNames
    ? c.subject.isEqual(rid)
    : rid instanceof asn1js.OctetString && bytesEqual(sha1(publicKeyBits(c)), rid.valueBlock.valueHexView))
  let why = `is signed by a responder (${rid instanceof pkijs.RelativeDistinguishedNames ? `"${nameText(rid)}"` : 'by key'}) that is neither the issuer "${nameText(issuer.subject)}" nor a certificate the response carries`
  for (const c of named) {
    let ok = false
    try { ok = await pkijs.getCrypto(true).verifyWithPublicKey(basic.tbsResponseData.tbsView, basic.signature, c.subjectPublicKeyInfo, basic.signatureAlgorithm) } catch { ok = false }
    if (!ok) { why = 'has a signature that does not verify with its responder\'s key'; continue }
    if (c.subject.isEqual(issuer.subject) && bytesEqual(publicKeyBits(c), publicKeyBits(issuer))) return null
    const delegated = await delegationProblem(c, issuer, basic.tbsResponseData.producedAt)
    if (delegated === null) return null
    why = `is signed by "${nameText(c.subject)}", ${delegated}`
  }
  return why
}

async function delegationProblem (responder: pkijs.Certificate, issuer: pkijs.Certificate, producedAt: Date): Promise<string | null> {
  let issued = false
  try { issued = responder.issuer.isEqual(issuer.subject) && await responder.verify(issuer) } catch { issued = false }
  if (!issued) return `which the issuer "${nameText(issuer.subject)}" did not certify (a delegated responder must be issued by it directly)`
  const eku = findExtension(responder, OID.extKeyUsage)?.parsedValue
  if (!(eku instanceof pkijs.ExtKeyUsage) || !eku.keyPurposes.includes(OCSP_SIGNING)) return 'a delegated responder without the id-kp-OCSPSigning extendedKeyUsage'
  const ku = findExtension(responder, OID.keyUsage)?.parsedValue
  if (ku instanceof asn1js.BitString && ((ku.valueBlock.valueHexView[0] ?? 0) & 0x80) === 0) return 'a delegated responder whose keyUsage does not allow digitalSignature'
  const t = producedAt.getTime()
  if (t < responder.notBefore.value.getTime() || t > responder.notAfter.value.getTime()) return `a delegated responder whose certificate was not valid at producedAt ${producedAt.toISOString()}`
  return null
}
