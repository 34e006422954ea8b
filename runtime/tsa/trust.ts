// TSA trust roots: an explicit list (never the web PKI store), given as PEM text, a PEM file
// (`--tsa-root` / $PCP_TSA_ROOTS, README "Trusted time"), or DER. Parsing is pure; reading the file is
// the caller's edge (trust-file.ts is the Node helper).
import { TsaError } from './errors.js'
import { certificate } from './verify-token.js'
import { revocationList } from './revocation.js'
import { ocspResponse } from './ocsp.js'

const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g

/** Every CERTIFICATE block of a PEM text, as DER; throws TSA_TRUST_ROOT_INVALID when none parses. */
export function parseTrustRoots (pem: string, source = 'PEM'): Uint8Array[] {
  if (typeof pem !== 'string') throw new TypeError('"pem" expected a string')
  const out: Uint8Array[] = []
  for (const m of pem.matchAll(PEM_CERT)) {
    const b64 = m[1]!.replace(/\s+/g, '')
    const der = base64Decode(b64)
    try { certificate(der) } catch (err) {
      throw new TsaError('TSA_TRUST_ROOT_INVALID', `${source}: certificate #${out.length + 1} does not parse: ${(err as Error).message}`, { file: source, index: out.length, cause: err })
    }
    out.push(der)
  }
  if (out.length === 0) throw new TsaError('TSA_TRUST_ROOT_INVALID', `${source}: no "BEGIN CERTIFICATE" block`, { file: source })
  return out
}

const PEM_CRL = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g

/**
 * CRLs for TokenCheck.crls: every X509 CRL block of a PEM text (`openssl ca -gencrl` writes one), or the
 * bytes of one DER CRL. Throws TSA_CRL_INVALID when one does not parse or there is none.
 */
export function parseCrls (input: string | Uint8Array, source = 'CRL'): Uint8Array[] {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw new TypeError('"input" expected PEM text or DER bytes')
  const ders: Uint8Array[] = []
  if (input instanceof Uint8Array && input[0] === 0x30) ders.push(input)
  else for (const m of (typeof input === 'string' ? input : new TextDecoder().decode(input)).matchAll(PEM_CRL)) ders.push(base64Decode(m[1]!.replace(/\s+/g, '')))
  if (ders.length === 0) throw new TsaError('TSA_CRL_INVALID', `${source}: neither a DER CRL nor a "BEGIN X509 CRL" block`, { file: source })
  for (const [i, der] of ders.entries()) {
    try { revocationList(der) } catch (err) {
      throw new TsaError('TSA_CRL_INVALID', `${source}: CRL #${i + 1} does not parse: ${(err as Error).message}`, { file: source, index: i, cause: err })
    }
  }
  return ders
}

/**
 * One OCSP response for TokenCheck.ocsp: the DER OCSPResponse `openssl ocsp -respout` writes (a
 * responder's reply as is). Throws TSA_OCSP_INVALID when it does not parse or is not successful.
 */
export function parseOcspResponse (der: Uint8Array, source = 'OCSP response'): Uint8Array {
  if (!(der instanceof Uint8Array)) throw new TypeError('"der" expected the bytes of a DER OCSPResponse')
  try { ocspResponse(der) } catch (err) {
    throw new TsaError('TSA_OCSP_INVALID', `${source}: not a usable OCSP response: ${(err as Error).message}`, { file: source, cause: err })
  }
  return der
}

function base64Decode (s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
