// RFC 3161 / RFC 5652 / RFC 5816 time-stamp token verification: bytes in, verdict out. Each step is
// ../shared/spec/tsa.md §8 in order, and each failure has its own code (runtime/tsa/errors.ts). pkijs
// and asn1js decode; signatures are checked with WebCrypto (through pkijs's engine), so the module is
// pure and runs in Node and in the browser verifier. Untrusted input never throws: it gets a verdict.
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { OID, STRONG_HASHES, SHA256_OID, bytesEqual, toHex, arrayBuffer, decodeDer, embeddedCertificates, nameText, sha1Digest } from './asn1.js'
import { checkTsaProfile, validatePath } from './cert-path.js'
import { checkEssBinding } from './ess.js'
import { checkRevocation, revocationRequested, type RevocationSources } from './revocation-check.js'
import type { TsaErrorCode } from './errors.js'

export interface TokenCheck extends RevocationSources {
  /** The hash the token must cover (for an anchor: the RFC 6962 root, 32 bytes). */
  imprint: Uint8Array
  /** OID of the hash that made `imprint`; SHA-256 by default. */
  hashAlgorithm?: string
  /** Trusted TSA roots, DER (runtime/tsa/trust.ts reads PEM). Required: the web PKI store is never used. */
  trustRoots: Uint8Array[]
  /** Intermediates not shipped in the token, DER. */
  intermediates?: Uint8Array[]
  /** The nonce sent; when given, the token must carry exactly it. */
  nonce?: bigint
  /** Accepted TSA policy OIDs; any when absent. */
  policies?: string[]
  // crls, ocsp, fetchRevocation: step 10 (RevocationSources, runtime/tsa/revocation-check.ts).
}

export interface TokenInfo {
  /** TSTInfo.genTime: the TSA's time, the only time an anchor proves. */
  genTime: Date
  /** genTime exactly as the token spells it (GeneralizedTime, UTC). */
  genTimeText: string
  policy: string
  serialNumber: string
  hashAlgorithm: string
  nonce?: bigint
  /** 0 granted, 1 grantedWithMods; undefined for a bare TimeStampToken. */
  status?: number
  tsaSubject: string
}

export type TokenVerdict = ({ ok: true } & TokenInfo) | { ok: false, code: TsaErrorCode, message: string, field?: string }

const fail = (code: TsaErrorCode, message: string, field?: string): TokenVerdict => ({ ok: false, code, message, ...(field ? { field } : {}) })

export async function verifyTimestampToken (token: Uint8Array, check: TokenCheck): Promise<TokenVerdict> {
  if (!(token instanceof Uint8Array)) throw new TypeError('"token" expected a Uint8Array')
  if (!(check.imprint instanceof Uint8Array)) throw new TypeError('"check.imprint" expected a Uint8Array')
  if (!Array.isArray(check.trustRoots)) throw new TypeError('"check.trustRoots" expected an array of DER certificates')
  if (check.crls !== undefined && (!Array.isArray(check.crls) || !check.crls.every((c) => c instanceof Uint8Array))) throw new TypeError('"check.crls" expected an array of DER CRLs (Uint8Array)')
  if (check.ocsp !== undefined && (!Array.isArray(check.ocsp) || !check.ocsp.every((c) => c instanceof Uint8Array))) throw new TypeError('"check.ocsp" expected an array of DER OCSP responses (Uint8Array)')
  const f = check.fetchRevocation
  if (f !== undefined && typeof f !== 'boolean' && (typeof f?.ocsp !== 'function' || typeof f?.crl !== 'function')) throw new TypeError('"check.fetchRevocation" expected a boolean or a RevocationFetcher { ocsp, crl }')
  if (check.onFetched !== undefined && typeof check.onFetched !== 'function') throw new TypeError(`"check.onFetched" expected a function, got ${typeof check.onFetched}`)
  try {
    return await verify(token, check)
  } catch (err) {
    // pkijs throws on structures it cannot map; that is malformed input, not a crash.
    return fail('TSA_TOKEN_MALFORMED', `the token does not decode: ${(err as Error).message}`)
  }
}

async function verify (token: Uint8Array, check: TokenCheck): Promise<TokenVerdict> {
  if (check.trustRoots.length === 0) return fail('TSA_NO_TRUST_ROOTS', 'no TSA trust root is configured: a token cannot be trusted without one', 'trustRoots')
  // pkijs checks signatures with WebCrypto; without it every good token would read TSA_SIGNATURE_INVALID
  // (a browser page served over plain HTTP has no crypto.subtle). Say what is missing instead.
  if (typeof globalThis.crypto?.subtle?.verify !== 'function') return fail('TSA_CRYPTO_UNAVAILABLE', 'no WebCrypto (crypto.subtle) here, so no token signature can be checked: in a browser, open the page over HTTPS, from localhost or from disk', 'crypto')
  const top = decodeDer(token)
  if (!(top instanceof asn1js.Sequence) || top.valueBlock.value.length === 0) return fail('TSA_TOKEN_MALFORMED', `the token is not a DER TimeStampResp or TimeStampToken (${token.length} bytes)`)
  // §8 step 1: a TimeStampResp starts with PKIStatusInfo (a SEQUENCE), a bare token with an OID.
  let contentInfoAsn: asn1js.AsnType = top
  let status: number | undefined
  if (top.valueBlock.value[0] instanceof asn1js.Sequence) {
    const resp = new pkijs.TimeStampResp({ schema: top })
    status = resp.status.status
    if (status !== 0 && status !== 1) {
      const why = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ')
      const info = resp.status.failInfo ? ` failInfo ${toHex(resp.status.failInfo.valueBlock.valueHexView)}` : ''
      return fail('TSA_STATUS_REJECTED', `the TSA refused: PKIStatus ${status}${info}${why ? ` (${why})` : ''}`, 'status')
    }
    if (resp.timeStampToken === undefined) return fail('TSA_STATUS_REJECTED', `PKIStatus ${status} but no timeStampToken`, 'timeStampToken')
    contentInfoAsn = resp.timeStampToken.toSchema()
  }
  // step 2
  const ci = new pkijs.ContentInfo({ schema: contentInfoAsn })
  if (ci.contentType !== OID.signedData) return fail('TSA_CONTENT_TYPE', `contentType ${ci.contentType} is not id-signedData`, 'contentType')
  const sd = new pkijs.SignedData({ schema: ci.content })
  if (sd.encapContentInfo.eContentType !== OID.tstInfo) return fail('TSA_CONTENT_TYPE', `eContentType ${sd.encapContentInfo.eContentType} is not id-ct-TSTInfo`, 'eContentType')
  const eContent = sd.encapContentInfo.eContent
  if (eContent === undefined) return fail('TSA_CONTENT_TYPE', 'the TSTInfo is detached (no eContent)', 'eContent')
  if (sd.signerInfos.length !== 1) return fail('TSA_SIGNER_COUNT', `${sd.signerInfos.length} SignerInfos; RFC 3161 §2.4.2 requires exactly one`, 'signerInfos')
  const tstBytes = new Uint8Array(eContent.getValue())

  // step 3
  const tstAsn = decodeDer(tstBytes)
  if (!(tstAsn instanceof asn1js.Sequence)) return fail('TSA_TSTINFO_INVALID', 'eContent is not a DER TSTInfo', 'eContent')
  let tst: pkijs.TSTInfo
  try { tst = new pkijs.TSTInfo({ schema: tstAsn }) } catch (err) { return fail('TSA_TSTINFO_INVALID', `TSTInfo does not decode: ${(err as Error).message}`, 'eContent') }
  if (tst.version !== 1) return fail('TSA_TSTINFO_INVALID', `TSTInfo version ${tst.version}, expected 1`, 'version')
  const genTimeText = generalizedTimeText(tstAsn)
  if (genTimeText === null || !/^\d{14}(\.\d+)?Z$/.test(genTimeText)) return fail('TSA_TSTINFO_INVALID', `genTime ${String(genTimeText)} is not a UTC GeneralizedTime`, 'genTime')
  if (check.policies !== undefined && !check.policies.includes(tst.policy)) return fail('TSA_POLICY_REJECTED', `TSA policy ${tst.policy} is not among the accepted [${check.policies.join(', ')}]`, 'policy')
  const imprintAlg = tst.messageImprint.hashAlgorithm.algorithmId
  const wanted = check.hashAlgorithm ?? SHA256_OID
  if (STRONG_HASHES[imprintAlg] === undefined) return fail('TSA_HASH_ALGORITHM', `imprint hash ${imprintAlg} is not an accepted hash (SHA-256/384/512)`, 'messageImprint.hashAlgorithm')
  if (imprintAlg !== wanted) return fail('TSA_HASH_ALGORITHM', `imprint hash ${imprintAlg} is not the one requested (${wanted})`, 'messageImprint.hashAlgorithm')
  const hashed = tst.messageImprint.hashedMessage.valueBlock.valueHexView
  if (!bytesEqual(hashed, check.imprint)) return fail('TSA_IMPRINT_MISMATCH', `the token covers ${toHex(hashed)}, not ${toHex(check.imprint)}`, 'messageImprint')
  const nonce = tst.nonce?.toBigInt()
  if (check.nonce !== undefined && nonce !== check.nonce) return fail('TSA_NONCE_MISMATCH', `nonce ${nonce === undefined ? 'absent' : nonce.toString(16)} in the token, ${check.nonce.toString(16)} sent`, 'nonce')

  // step 4
  const si = sd.signerInfos[0]!
  const certs = embeddedCertificates(ci.content)
  for (const der of check.intermediates ?? []) certs.push({ der, cert: certificate(der) })
  const signer = certs.find((c) => identifies(si.sid, c.cert))
  if (signer === undefined) return fail('TSA_SIGNER_CERT_MISSING', 'no certificate in the token or the configuration matches the SignerIdentifier', 'sid')

  // step 5
  const attrs = si.signedAttrs
  if (attrs === undefined) return fail('TSA_SIGNED_ATTRS_INVALID', 'no signed attributes (RFC 5652 §5.3 requires them for id-ct-TSTInfo)', 'signedAttrs')
  const ct = attrs.attributes.filter((a) => a.type === OID.contentTypeAttr)
  if (ct.length !== 1 || ct[0]!.values.length !== 1 || !(ct[0]!.values[0] instanceof asn1js.ObjectIdentifier) || ct[0]!.values[0].valueBlock.toString() !== OID.tstInfo) {
    return fail('TSA_SIGNED_ATTRS_INVALID', 'the contentType signed attribute is missing or not id-ct-TSTInfo', 'signedAttrs.contentType')
  }
  const digestAlg = STRONG_HASHES[si.digestAlgorithm.algorithmId]
  if (digestAlg === undefined) return fail('TSA_HASH_ALGORITHM', `SignerInfo digest ${si.digestAlgorithm.algorithmId} is not an accepted hash`, 'digestAlgorithm')
  const md = attrs.attributes.filter((a) => a.type === OID.messageDigestAttr)
  const mdValue = md.length === 1 && md[0]!.values.length === 1 && md[0]!.values[0] instanceof asn1js.OctetString ? md[0]!.values[0].valueBlock.valueHexView : null
  if (mdValue === null) return fail('TSA_SIGNED_ATTRS_INVALID', 'the messageDigest signed attribute is missing or malformed', 'signedAttrs.messageDigest')
  if (!bytesEqual(mdValue, digestAlg.fn(tstBytes))) return fail('TSA_MESSAGE_DIGEST_MISMATCH', 'the messageDigest signed attribute is not the digest of the TSTInfo', 'signedAttrs.messageDigest')

  // step 6: over the DER of signedAttrs as a SET OF (pkijs keeps the original bytes, re-tagged 0x31).
  const signedBytes = new Uint8Array(attrs.encodedValue)
  let sigOk = false
  try {
    sigOk = await pkijs.getCrypto(true).verifyWithPublicKey(arrayBuffer(signedBytes), si.signature, signer.cert.subjectPublicKeyInfo, si.signatureAlgorithm, digestAlg.name)
  } catch { sigOk = false }
  if (!sigOk) return fail('TSA_SIGNATURE_INVALID', `the CMS signature (${si.signatureAlgorithm.algorithmId}) over the signed attributes does not verify with the signer certificate's key`, 'signature')

  // step 7
  const ess = checkEssBinding(attrs.attributes, signer.der, signer.cert, sha1Digest)
  if (ess !== null) return fail(ess.code, ess.message, ess.field)
  // step 8
  const profile = checkTsaProfile(signer.cert)
  if (profile !== null) return fail(profile.code, profile.message, profile.field)
  if (tst.tsa !== undefined && tst.tsa.type === 4 && !signer.cert.subject.isEqual(tst.tsa.value)) {
    return fail('TSA_NAME_MISMATCH', `TSTInfo.tsa names "${nameText(tst.tsa.value as pkijs.RelativeDistinguishedNames)}", the signer is "${nameText(signer.cert.subject)}"`, 'tsa')
  }
  // step 9
  let roots: pkijs.Certificate[]
  try { roots = check.trustRoots.map(certificate) } catch (err) { return fail('TSA_TRUST_ROOT_INVALID', `a configured trust root does not parse: ${(err as Error).message}`, 'trustRoots') }
  const path = await validatePath(signer.cert, certs.map((c) => c.cert).filter((c) => c !== signer.cert), roots, tst.genTime)
  if ('code' in path) return fail(path.code, path.message, path.field)
  // step 10, only when asked: CRLs and OCSP responses the caller holds, and fetching if opted in.
  if (revocationRequested(check)) {
    const revoked = await checkRevocation(path.chain, check, tst.genTime)
    if (revoked !== null) return fail(revoked.code, revoked.message, revoked.field)
  }

  return {
    ok: true,
    genTime: tst.genTime,
    genTimeText,
    policy: tst.policy,
    serialNumber: toHex(tst.serialNumber.valueBlock.valueHexView),
    hashAlgorithm: imprintAlg,
    ...(nonce !== undefined ? { nonce } : {}),
    ...(status !== undefined ? { status } : {}),
    tsaSubject: nameText(signer.cert.subject)
  }
}

export function certificate (der: Uint8Array): pkijs.Certificate {
  const asn = decodeDer(der)
  if (asn === null) throw new Error(`not one DER element (${der.length} bytes)`)
  return new pkijs.Certificate({ schema: asn })
}

function identifies (sid: pkijs.SignerInfo['sid'], cert: pkijs.Certificate): boolean {
  if (sid instanceof pkijs.IssuerAndSerialNumber) return cert.issuer.isEqual(sid.issuer) && cert.serialNumber.isEqual(sid.serialNumber)
  // subjectKeyIdentifier [0]: compare with the certificate's SKI extension.
  const ski = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)?.parsedValue
  const want = (sid as asn1js.Constructed).valueBlock?.value?.[0] ?? sid
  const wantBytes = (want as asn1js.OctetString).valueBlock?.valueHexView
  return ski instanceof asn1js.OctetString && wantBytes instanceof Uint8Array && bytesEqual(ski.valueBlock.valueHexView, wantBytes)
}

/** genTime as spelled in the DER: the element after serialNumber (version, policy, imprint, serial, genTime). */
function generalizedTimeText (tst: asn1js.Sequence): string | null {
  const el = tst.valueBlock.value[4]
  if (!(el instanceof asn1js.GeneralizedTime)) return null
  return new TextDecoder().decode(el.valueBlock.valueHexView.length ? el.valueBlock.valueHexView : new Uint8Array(el.valueBeforeDecodeView).subarray(2))
}
