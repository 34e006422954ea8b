// TSA trust roots: an explicit list (never the web PKI store), given as PEM text, a PEM file
// (`--tsa-root` / $PCP_TSA_ROOTS, README "Trusted time"), or DER. Parsing is pure; reading the file is
// the caller's edge (trust-file.ts is the Node helper).
import { TsaError } from './errors.js'
import { certificate } from './verify-token.js'

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

function base64Decode (s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
