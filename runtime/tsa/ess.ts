// ESS certificate binding (RFC 3161 §2.4.1, RFC 2634 §5.4 ESSCertID, RFC 5035/5816 ESSCertIDv2): the
// signed attributes name the signer certificate by hash, so a certificate swapped into the token after
// signing (certificate substitution) is detected even when its key is the same.
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { OID, STRONG_HASHES, SHA256_OID, bytesEqual, toHex } from './asn1.js'
import type { PathFailure } from './cert-path.js'

export function checkEssBinding (attributes: pkijs.Attribute[], certDer: Uint8Array, cert: pkijs.Certificate, sha1: (b: Uint8Array) => Uint8Array): PathFailure | null {
  const v2 = attributes.find((a) => a.type === OID.signingCertificateV2)
  const v1 = attributes.find((a) => a.type === OID.signingCertificate)
  const attr = v2 ?? v1
  if (attr === undefined) return { code: 'TSA_ESS_MISSING', message: 'neither signingCertificate nor signingCertificateV2 is among the signed attributes', field: 'signedAttrs.signingCertificate' }
  const field = v2 ? 'signedAttrs.signingCertificateV2' : 'signedAttrs.signingCertificate'
  const bad = (why: string): PathFailure => ({ code: 'TSA_ESS_MISMATCH', message: `${v2 ? 'ESSCertIDv2' : 'ESSCertID'}: ${why}`, field })
  // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }
  const sc = attr.values[0]
  const certs = sc instanceof asn1js.Sequence ? sc.valueBlock.value[0] : undefined
  const first = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined
  if (!(first instanceof asn1js.Sequence)) return bad('no certificate entry')
  const parts = first.valueBlock.value
  let i = 0
  let hash: (b: Uint8Array) => Uint8Array = sha1
  if (v2) {
    // hashAlgorithm AlgorithmIdentifier DEFAULT sha256: present only when it is not SHA-256.
    let alg = SHA256_OID
    if (parts[0] instanceof asn1js.Sequence) {
      const id = parts[0].valueBlock.value[0]
      alg = id instanceof asn1js.ObjectIdentifier ? id.valueBlock.toString() : ''
      i++
    }
    const h = STRONG_HASHES[alg]
    if (h === undefined) return bad(`hash ${alg} is not accepted`)
    hash = h.fn
  }
  const certHash = parts[i]
  if (!(certHash instanceof asn1js.OctetString)) return bad('certHash is missing')
  const actual = hash(certDer)
  if (!bytesEqual(certHash.valueBlock.valueHexView, actual)) return bad(`certHash ${toHex(certHash.valueBlock.valueHexView)} is not the hash of the signer certificate (${toHex(actual)})`)
  // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }
  const issuerSerial = parts[i + 1]
  if (issuerSerial instanceof asn1js.Sequence) {
    const [names, serial] = issuerSerial.valueBlock.value
    if (!(serial instanceof asn1js.Integer) || !serial.isEqual(cert.serialNumber)) return bad('issuerSerial names another serial number')
    const gn = names instanceof asn1js.Sequence ? names.valueBlock.value.map((n) => new pkijs.GeneralName({ schema: n })) : []
    if (!gn.some((n) => n.type === 4 && cert.issuer.isEqual(n.value))) return bad('issuerSerial names another issuer')
  }
  return null
}
