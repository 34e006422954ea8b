// The TSA certificate profile (RFC 3161 §2.3) and the path from it to a configured trust root
// (RFC 5280 §6, reduced to what a TSA chain needs: signatures, name chaining, CA constraints on
// issuers and validity at genTime). Revocation is revocation.ts's, over the path returned here.
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { OID, findExtension } from './asn1.js'
import type { TsaErrorCode } from './errors.js'

export interface PathFailure { code: TsaErrorCode, message: string, field: string }
/** The validated path: signer first, the configured trust root last. */
export interface ValidPath { chain: pkijs.Certificate[] }

const MAX_PATH = 8

/** tsa.md §8 step 8: EKU present, critical, exactly id-kp-timeStamping; keyUsage (if any) allows signing. */
export function checkTsaProfile (cert: pkijs.Certificate): PathFailure | null {
  const eku = findExtension(cert, OID.extKeyUsage)
  if (eku === undefined) return { code: 'TSA_EKU_INVALID', message: 'the TSA certificate has no extendedKeyUsage (RFC 3161 §2.3 requires id-kp-timeStamping)', field: 'extendedKeyUsage' }
  if (eku.critical !== true) return { code: 'TSA_EKU_INVALID', message: 'the TSA certificate\'s extendedKeyUsage is not critical (RFC 3161 §2.3)', field: 'extendedKeyUsage' }
  const purposes = eku.parsedValue instanceof pkijs.ExtKeyUsage ? eku.parsedValue.keyPurposes : []
  if (purposes.length !== 1 || purposes[0] !== OID.timeStamping) {
    return { code: 'TSA_EKU_INVALID', message: `the TSA certificate's extendedKeyUsage is [${purposes.join(', ')}], not exactly id-kp-timeStamping (${OID.timeStamping})`, field: 'extendedKeyUsage' }
  }
  const ku = findExtension(cert, OID.keyUsage)
  if (ku !== undefined) {
    const bits = ku.parsedValue instanceof asn1js.BitString ? ku.parsedValue.valueBlock.valueHexView : new Uint8Array()
    // digitalSignature is bit 0 (0x80), nonRepudiation bit 1 (0x40) of the first byte.
    if (((bits[0] ?? 0) & 0xc0) === 0) return { code: 'TSA_KEY_USAGE_INVALID', message: 'the TSA certificate\'s keyUsage allows neither digitalSignature nor nonRepudiation', field: 'keyUsage' }
  }
  return null
}

function validAt (cert: pkijs.Certificate, at: Date): boolean {
  const t = at.getTime()
  return cert.notBefore.value.getTime() <= t && t <= cert.notAfter.value.getTime()
}

function isCa (cert: pkijs.Certificate): boolean {
  const bc = findExtension(cert, OID.basicConstraints)
  if (!(bc?.parsedValue instanceof pkijs.BasicConstraints) || bc.parsedValue.cA !== true) return false
  const ku = findExtension(cert, OID.keyUsage)
  if (ku === undefined) return true
  const bits = ku.parsedValue instanceof asn1js.BitString ? ku.parsedValue.valueBlock.valueHexView : new Uint8Array()
  return ((bits[0] ?? 0) & 0x04) !== 0 // keyCertSign, bit 5
}

async function signedBy (cert: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  if (!cert.issuer.isEqual(issuer.subject)) return false
  try { return await cert.verify(issuer) } catch { return false }
}

/**
 * Walks from the signer to a trust root. Intermediates come from the token (or configuration); only
 * a configured root ends the path, so a self-signed root shipped inside the token proves nothing.
 * Every certificate of the path, the root included, must be valid at genTime (tsa.md §8 step 9).
 */
export async function validatePath (signer: pkijs.Certificate, intermediates: pkijs.Certificate[], roots: pkijs.Certificate[], at: Date): Promise<PathFailure | ValidPath> {
  let current = signer
  const chain = [signer]
  const used = new Set<pkijs.Certificate>([signer])
  for (let depth = 0; depth < MAX_PATH; depth++) {
    if (!validAt(current, at)) {
      return { code: 'TSA_CERT_EXPIRED', message: `certificate "${subjectCn(current)}" is not valid at genTime ${at.toISOString()} (valid ${current.notBefore.value.toISOString()} to ${current.notAfter.value.toISOString()})`, field: depth === 0 ? 'signer' : 'chain' }
    }
    for (const root of roots) {
      if (await signedBy(current, root)) {
        if (!validAt(root, at)) return { code: 'TSA_CERT_EXPIRED', message: `trust root "${subjectCn(root)}" is not valid at genTime ${at.toISOString()}`, field: 'trustRoot' }
        return { chain: [...chain, root] }
      }
    }
    let next: pkijs.Certificate | undefined
    for (const c of intermediates) {
      if (used.has(c) || !isCa(c)) continue
      if (await signedBy(current, c)) { next = c; break }
    }
    if (next === undefined) break
    used.add(next)
    chain.push(next)
    current = next
  }
  return { code: 'TSA_CHAIN_UNTRUSTED', message: `the TSA certificate "${subjectCn(signer)}" does not chain to a configured trust root`, field: 'chain' }
}

function subjectCn (cert: pkijs.Certificate): string {
  const cn = cert.subject.typesAndValues.find((t) => t.type === '2.5.4.3')
  return cn ? String(cn.value.valueBlock.value) : '(no CN)'
}
