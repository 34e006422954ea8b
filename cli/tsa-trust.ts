// The TSA trust `pcp verify` and `pcp hub start` take: --tsa-roots (default $PCP_TSA_ROOTS) and
// --tsa-crl, repeatable (default $PCP_TSA_CRLS). Loaded only when asked: pkijs/asn1js stay out of a
// plain command's memory on a Pi.
import { PcpError } from '../runtime/index.js'

export interface TsaTrust { roots: Uint8Array[], crls: Uint8Array[] | undefined }

/** The trust roots and CRLs the options name, or undefined without roots; a CRL without roots is refused (it would check nothing). */
export async function tsaTrustFromOptions (o: Record<string, unknown>): Promise<TsaTrust | undefined> {
  const rootsFile = o.tsaRoots !== undefined ? String(o.tsaRoots) : process.env.PCP_TSA_ROOTS || undefined
  const crlFlags = Array.isArray(o.tsaCrl) ? o.tsaCrl.map(String) : []
  if (crlFlags.length && !rootsFile) throw new PcpError('ARGUMENT_INVALID', '--tsa-crl needs --tsa-roots (or $PCP_TSA_ROOTS): without trust roots no anchor is verified, so no CRL would be checked', { field: 'tsa-crl' })
  if (!rootsFile) return undefined
  const { readTrustRootsFile, readCrlFile } = await import('../runtime/tsa/trust-file.js')
  const crlFiles = crlFlags.length ? crlFlags : process.env.PCP_TSA_CRLS ? [process.env.PCP_TSA_CRLS] : []
  const roots = await readTrustRootsFile(rootsFile)
  const crls = crlFiles.length ? (await Promise.all(crlFiles.map((f) => readCrlFile(f)))).flat() : undefined
  return { roots, crls }
}
