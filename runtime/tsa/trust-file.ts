// Reads TSA trust roots (PEM) and CRLs (PEM or DER) from files: the Node edge of trust.ts (kept apart so the browser
// verifier can bundle trust.ts without node:fs).
import { readFile } from 'node:fs/promises'
import { TsaError } from './errors.js'
import { parseTrustRoots, parseCrls } from './trust.js'

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
