// Reads TSA trust roots from a PEM file: the Node edge of trust.ts (kept apart so the browser
// verifier can bundle trust.ts without node:fs).
import { readFile } from 'node:fs/promises'
import { TsaError } from './errors.js'
import { parseTrustRoots } from './trust.js'

export async function readTrustRootsFile (path: string): Promise<Uint8Array[]> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) {
    throw new TsaError('TSA_TRUST_ROOT_INVALID', `cannot read the TSA trust roots ${path}: ${(err as Error).message}`, { file: path, cause: err })
  }
  return parseTrustRoots(text, path)
}
