// Small ASN.1 helpers shared by the token verifier and the request builder: hash algorithms by OID,
// original DER of embedded certificates, name rendering. Pure (no Node built-ins): the browser
// verifier bundles this path.
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import { sha1 } from '@noble/hashes/legacy.js'

export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentTypeAttr: '1.2.840.113549.1.9.3',
  messageDigestAttr: '1.2.840.113549.1.9.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  extKeyUsage: '2.5.29.37',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  timeStamping: '1.3.6.1.5.5.7.3.8'
} as const

/** Hashes a TSA may use for an imprint or a digest: SHA-1 and MD5 are refused (tsa.md §8 step 3). */
export const STRONG_HASHES: Record<string, { name: 'SHA-256' | 'SHA-384' | 'SHA-512', fn: (b: Uint8Array) => Uint8Array }> = {
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', fn: sha256 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', fn: sha384 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', fn: sha512 }
}
export const SHA256_OID = '2.16.840.1.101.3.4.2.1'

/** ESSCertID (v1) is defined with SHA-1 (RFC 2634 §5.4.1): accepted there only, to identify a certificate. */
export function sha1Digest (b: Uint8Array): Uint8Array { return sha1(b) }

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!
  return d === 0
}

export function toHex (b: Uint8Array): string {
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}

/** A fresh copy as a plain ArrayBuffer (asn1js/pkijs take ArrayBuffers; a Buffer's may be pooled). */
export function arrayBuffer (b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer
}

/** Decodes exactly one DER element filling `bytes`, or null. */
export function decodeDer (bytes: Uint8Array): asn1js.AsnType | null {
  if (bytes.length < 2) return null
  const r = asn1js.fromBER(arrayBuffer(bytes))
  if (r.offset === -1 || r.offset !== bytes.length) return null
  return r.result
}

/**
 * The certificates of a SignedData with their original DER. ESSCertID hashes the bytes the TSA
 * embedded; re-encoding a parsed certificate could differ, so the bytes are taken from the input.
 */
export function embeddedCertificates (signedData: asn1js.AsnType): Array<{ der: Uint8Array, cert: pkijs.Certificate }> {
  const out: Array<{ der: Uint8Array, cert: pkijs.Certificate }> = []
  if (!(signedData instanceof asn1js.Sequence)) return out
  for (const el of signedData.valueBlock.value) {
    // certificates [0] IMPLICIT CertificateSet
    if (el.idBlock.tagClass !== 3 || el.idBlock.tagNumber !== 0) continue
    const items = (el as asn1js.Constructed).valueBlock.value ?? []
    for (const it of items) {
      if (!(it instanceof asn1js.Sequence)) continue // other CertificateChoices (attribute certs) are not signers
      const der = new Uint8Array(it.valueBeforeDecodeView)
      try { out.push({ der, cert: new pkijs.Certificate({ schema: it }) }) } catch { /* not an X.509 certificate */ }
    }
  }
  return out
}

/** "CN=Test TSA, O=…" for reports; values only as the certificate spells them. */
export function nameText (name: pkijs.RelativeDistinguishedNames): string {
  const short: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST' }
  return name.typesAndValues.map((t) => `${short[t.type] ?? t.type}=${String(t.value.valueBlock.value)}`).join(', ')
}

export function findExtension (cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid)
}
