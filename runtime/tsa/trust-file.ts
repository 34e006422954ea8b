// Reads TSA trust roots (PEM), CRLs (PEM or DER) and OCSP responses (DER) from files: the Node edge of trust.ts (kept apart so the browser
// verifier can bundle trust.ts without node:fs).
import { readFile } from 'node:fs/promises'
import { TsaError } from './errors.js'
import { parseTrustRoots, parseCrls, parseOcspResponse } from './trust.js'

export async function readTrustRootsFile (path: string): Promise<Uint8Array[]> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) {
    throw new TsaError('TSA_TRUST_ROOT_INVALID', `cannot read the TSA trust roots ${path}: ${(err as Error).message}`, { file: path, cause: err })
  }
  return parseTrustRoots(text, path)
}

/** One CRL file (`--tsa-crl` / $PCP_TSA_CRLS): a DER CRL, or PEM with one or more X509 CRL blocks. */
export async function readCrlFile (path: string): Promise<Uint8Array[]> {
  let bytes: Uint8Array
  try { bytes = new Uint8Array(await readFile(path)) } catch (err) {
    throw new TsaError('TSA_CRL_INVALID', `cannot read the CRL file ${path}: ${(err as Error).message}`, { file: path, cause: err })
  }
  return parseCrls(bytes, path)
}

/** One OCSP response file (`--tsa-ocsp` / $PCP_TSA_OCSP): DER, as `openssl ocsp -respout` writes it. */
export async function readOcspFile (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try { bytes = new Uint8Array(await readFile(path)) } catch (err) {
    throw new TsaError('TSA_OCSP_INVALID', `cannot read the OCSP response file ${path}: ${(err as Error).message}`, { file: path, cause: err })
  }
  return parseOcspResponse(bytes, path)
}
