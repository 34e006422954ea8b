// The TSA trust `pcp verify` and `pcp hub start` take: --tsa-roots (default $PCP_TSA_ROOTS), --tsa-crl,
// repeatable (default $PCP_TSA_CRLS), --tsa-ocsp, repeatable (default $PCP_TSA_OCSP, a list split like
// $PATH), --tsa-fetch (default $PCP_TSA_FETCH=1) and, for `pcp verify`, --tsa-save-evidence. A CRL or
// OCSP path that is a directory stands for its *.crl / *.ocsp files (what --tsa-save-evidence writes). Loaded only when asked: pkijs/asn1js stay out of a
// plain command's memory on a Pi. registerTsaTrustOptions declares them once for both commands.
import type { Command } from 'commander'
import { delimiter } from 'node:path'
import { PcpError } from '../runtime/index.js'
import type { RevocationSources } from '../runtime/tsa/revocation-check.js'
import { EvidenceSaver, expandEvidencePaths } from './tsa-evidence.js'

export interface TsaTrust {
  roots: Uint8Array[]
  revocation: RevocationSources
  /** --tsa-save-evidence: collects what the run fetches; its save() writes it at the end. */
  evidence?: EvidenceSaver | undefined
}

const collect = (v: string, acc: string[]): string[] => [...acc, v]

/** `what` ends the --tsa-roots help: what the roots do for this command. `saveEvidence` adds --tsa-save-evidence (`pcp verify`). */
export function registerTsaTrustOptions (cmd: Command, what: string, saveEvidence = false): Command {
  cmd
    .option('--tsa-roots <pem>', `TSA trust roots (PEM file; default $PCP_TSA_ROOTS): ${what}`)
    .option('--tsa-crl <file|dir>', 'with --tsa-roots: check the TSA certificate and intermediates for revocation against these CRLs (DER or PEM, repeatable; a directory: its *.crl files; default $PCP_TSA_CRLS); every certificate of the path then needs a CRL or an OCSP response', collect, [] as string[])
    .option('--tsa-ocsp <file|dir>', 'with --tsa-roots: OCSP responses (DER, as `openssl ocsp -respout` writes; repeatable; a directory: its *.ocsp files; default $PCP_TSA_OCSP, a list separated like $PATH), used like --tsa-crl', collect, [] as string[])
    .option('--tsa-fetch', 'with --tsa-roots: fetch the status --tsa-crl/--tsa-ocsp leave uncovered from the certificates\' OCSP responders and CRL distribution points (http: only; default $PCP_TSA_FETCH=1). Off by default: the verdict then depends on the network, not only on the archive')
  if (saveEvidence) cmd.option('--tsa-save-evidence <dir>', 'with --tsa-fetch: write every CRL and OCSP response fetched and used for a verdict to <dir> (DER, <issuer-hash>-<thisUpdate>.crl, <serial>-<producedAt>.ocsp); later `--tsa-crl <dir> --tsa-ocsp <dir>` without --tsa-fetch gives the same verdicts offline')
  return cmd
}

/** The trust roots and revocation sources the options name, or undefined without roots; revocation options without roots are refused (they would check nothing). */
export async function tsaTrustFromOptions (o: Record<string, unknown>): Promise<TsaTrust | undefined> {
  const rootsFile = o.tsaRoots !== undefined ? String(o.tsaRoots) : process.env.PCP_TSA_ROOTS || undefined
  const crlFlags = Array.isArray(o.tsaCrl) ? o.tsaCrl.map(String) : []
  const ocspFlags = Array.isArray(o.tsaOcsp) ? o.tsaOcsp.map(String) : []
  const fetch = o.tsaFetch === true || process.env.PCP_TSA_FETCH === '1'
  const saveDir = o.tsaSaveEvidence !== undefined ? String(o.tsaSaveEvidence) : undefined
  for (const [given, flag] of [[crlFlags.length > 0, 'tsa-crl'], [ocspFlags.length > 0, 'tsa-ocsp'], [o.tsaFetch === true, 'tsa-fetch'], [saveDir !== undefined, 'tsa-save-evidence']] as const) {
    if (given && !rootsFile) throw new PcpError('ARGUMENT_INVALID', `--${flag} needs --tsa-roots (or $PCP_TSA_ROOTS): without trust roots no anchor is verified, so no revocation would be checked`, { field: flag })
  }
  // Without fetching there is nothing to save: the evidence is already the files given.
  if (saveDir !== undefined && !fetch) throw new PcpError('ARGUMENT_INVALID', '--tsa-save-evidence needs --tsa-fetch (or $PCP_TSA_FETCH=1): it saves what the run fetches, and without fetching nothing is', { field: 'tsa-save-evidence' })
  if (!rootsFile) return undefined
  const { readTrustRootsFile, readCrlFile, readOcspFile } = await import('../runtime/tsa/trust-file.js')
  const crlPaths = crlFlags.length ? crlFlags : process.env.PCP_TSA_CRLS ? [process.env.PCP_TSA_CRLS] : []
  const ocspPaths = ocspFlags.length ? ocspFlags : (process.env.PCP_TSA_OCSP ?? '').split(delimiter).filter((f) => f !== '')
  const crlFiles = await expandEvidencePaths(crlPaths, 'crl'); const ocspFiles = await expandEvidencePaths(ocspPaths, 'ocsp')
  const roots = await readTrustRootsFile(rootsFile)
  // A directory without such files still asks for the check ("check all"): an evidence directory may hold only OCSP answers.
  const crls = crlPaths.length ? (await Promise.all(crlFiles.map((f) => readCrlFile(f)))).flat() : undefined
  const ocsp = ocspPaths.length ? await Promise.all(ocspFiles.map((f) => readOcspFile(f))) : undefined
  const evidence = saveDir !== undefined ? new EvidenceSaver(saveDir) : undefined
  return { roots, revocation: { crls, ocsp, fetchRevocation: fetch || undefined, onFetched: evidence?.record }, evidence }
}
