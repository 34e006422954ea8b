// Codes of the trusted-time layer (RFC 3161 tokens, RFC 6962 Merkle proofs, anchors). A documented
// contract like runtime/errors.ts (test/errors.test.ts lists them; README "Trusted time" explains each).
// Token verification returns a verdict carrying one of these codes, never throws on untrusted bytes.
import { PcpError, type PcpErrorFields } from '../errors.js'

export const TsaErrorCodes = {
  // token verification (runtime/tsa/verify-token.ts), in the order of ../shared/spec/tsa.md §8
  TSA_TOKEN_MALFORMED: 'TSA_TOKEN_MALFORMED', // not DER, not a TimeStampResp/TimeStampToken (e.g. the forged "MAA=")
  TSA_STATUS_REJECTED: 'TSA_STATUS_REJECTED', // PKIStatus other than granted/grantedWithMods, or no token in the response
  TSA_CONTENT_TYPE: 'TSA_CONTENT_TYPE', // not signedData, eContentType not id-ct-TSTInfo, or eContent detached
  TSA_SIGNER_COUNT: 'TSA_SIGNER_COUNT', // RFC 3161 §2.4.2: exactly one SignerInfo
  TSA_TSTINFO_INVALID: 'TSA_TSTINFO_INVALID', // TSTInfo undecodable, version ≠ 1, genTime not UTC GeneralizedTime
  TSA_HASH_ALGORITHM: 'TSA_HASH_ALGORITHM', // imprint/digest hash weak (SHA-1, MD5), unknown, or not the one requested
  TSA_IMPRINT_MISMATCH: 'TSA_IMPRINT_MISMATCH', // messageImprint.hashedMessage ≠ the anchored root
  TSA_POLICY_REJECTED: 'TSA_POLICY_REJECTED', // policy not in the configured accepted set
  TSA_NONCE_MISMATCH: 'TSA_NONCE_MISMATCH', // nonce absent or different from the one sent
  TSA_SIGNER_CERT_MISSING: 'TSA_SIGNER_CERT_MISSING', // no certificate matches the SignerIdentifier
  TSA_SIGNED_ATTRS_INVALID: 'TSA_SIGNED_ATTRS_INVALID', // signedAttrs absent, or contentType attribute missing/wrong
  TSA_MESSAGE_DIGEST_MISMATCH: 'TSA_MESSAGE_DIGEST_MISMATCH', // messageDigest attribute ≠ digest of the TSTInfo
  TSA_SIGNATURE_INVALID: 'TSA_SIGNATURE_INVALID', // the CMS signature over the signed attributes does not verify
  TSA_ESS_MISSING: 'TSA_ESS_MISSING', // neither signingCertificate nor signingCertificateV2 (RFC 3161 §2.4.1, RFC 5816)
  TSA_ESS_MISMATCH: 'TSA_ESS_MISMATCH', // ESSCertID(v2) certHash/issuerSerial does not name the signer certificate
  TSA_EKU_INVALID: 'TSA_EKU_INVALID', // extendedKeyUsage absent, not critical, or not exactly id-kp-timeStamping
  TSA_KEY_USAGE_INVALID: 'TSA_KEY_USAGE_INVALID', // keyUsage present without digitalSignature/nonRepudiation
  TSA_NAME_MISMATCH: 'TSA_NAME_MISMATCH', // TSTInfo.tsa names someone else than the signer certificate's subject
  TSA_CERT_EXPIRED: 'TSA_CERT_EXPIRED', // a certificate of the path is not valid at genTime
  TSA_CHAIN_UNTRUSTED: 'TSA_CHAIN_UNTRUSTED', // no path from the signer to a configured trust root
  // step 10, only when CRLs or OCSP responses are given or fetching is asked (runtime/tsa/revocation-check.ts)
  TSA_CERT_REVOKED: 'TSA_CERT_REVOKED', // a CRL from its issuer or an OCSP response says a path certificate was revoked at or before genTime
  TSA_CRL_INVALID: 'TSA_CRL_INVALID', // a CRL does not parse or verify with its issuer's key, is not valid at genTime, or has a critical extension
  TSA_CRL_MISSING: 'TSA_CRL_MISSING', // only CRLs given, but none from the issuer of a certificate of the path
  TSA_OCSP_INVALID: 'TSA_OCSP_INVALID', // an OCSP response does not parse, is not successful, is signed by neither the issuer nor its delegated responder, is not valid at genTime, or a fetched one names another certificate
  TSA_OCSP_UNKNOWN: 'TSA_OCSP_UNKNOWN', // the issuer's OCSP responder says the status of a path certificate is unknown
  TSA_REVOCATION_MISSING: 'TSA_REVOCATION_MISSING', // OCSP or fetching asked, but neither a CRL nor an OCSP response covers a certificate of the path
  TSA_REVOCATION_UNAVAILABLE: 'TSA_REVOCATION_UNAVAILABLE', // fetching asked: every OCSP responder / CRL distribution point of an uncovered certificate failed (unreachable, timeout, HTTP status, size cap); the message names each URL
  TSA_CRYPTO_UNAVAILABLE: 'TSA_CRYPTO_UNAVAILABLE', // no WebCrypto (crypto.subtle) to check a token's signature with (environment, not the token)
  TSA_NO_TRUST_ROOTS: 'TSA_NO_TRUST_ROOTS', // verification asked with an empty trust-root set (configuration)
  TSA_TRUST_ROOT_INVALID: 'TSA_TRUST_ROOT_INVALID', // a configured trust root (PEM file/option) does not parse
  // the TSA client (runtime/tsa/client.ts)
  TSA_UNAVAILABLE: 'TSA_UNAVAILABLE', // connect/DNS failure or timeout: the anchor stays pending
  TSA_HTTP_ERROR: 'TSA_HTTP_ERROR', // the TSA answered with an HTTP status other than 200
  // Merkle proofs and anchor events (runtime/merkle.ts, runtime/anchor/)
  MERKLE_PROOF_INVALID: 'MERKLE_PROOF_INVALID', // an RFC 6962 inclusion proof does not lead to the root
  ANCHOR_INVALID: 'ANCHOR_INVALID', // an anchor event's payload is malformed or its range does not fit the chain
  ANCHOR_ROOT_MISMATCH: 'ANCHOR_ROOT_MISMATCH', // the recomputed RFC 6962 root over the covered events ≠ the anchored root
  ANCHOR_TIME_INCONSISTENT: 'ANCHOR_TIME_INCONSISTENT', // genTime before a covered event was signed, or after the anchor event
  FORK_AFTER_FINALIZATION: 'FORK_AFTER_FINALIZATION' // two histories diverge at or before an anchored (final) event
} as const

export type TsaErrorCode = typeof TsaErrorCodes[keyof typeof TsaErrorCodes]

export class TsaError extends PcpError {
  constructor (code: TsaErrorCode, message: string, fields: PcpErrorFields = {}) {
    super(code, message, fields)
    this.name = 'TsaError'
  }
}
