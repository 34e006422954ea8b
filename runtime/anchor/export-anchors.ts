// The trusted-time verdict of one audit export, shared by `pcp verify` (cli/verify-anchors.ts) and the
// browser verifier page (runtime/tsa/browser.ts, loaded by hub/vigil/dashboard/export-check.js), so the
// two read the same export and roots the same way and report in one shape. Pure: events, their hashes
// and the trust in, verdicts out. The event hashes come from the caller because hashing an event needs
// the crypto backend, which the CLI and the browser's main verifier bundle each own; the anchor bundle
// then carries no second backend.
import { AnchorVerifier, type AnchorVerdict } from './verify-anchors.js'
import { isAnchorEvent } from './payload.js'
import { forkAfterFinalization, divergence, type FinalityFork } from './finality.js'
import type { AissEvent } from '../types.js'
import type { RevocationSources } from '../tsa/revocation-check.js'

export interface ExportAnchors {
  hashes: readonly string[]
  anchorCount: number
  /** Empty when no trust roots were given (anchors present but unverified). */
  verdicts: AnchorVerdict[]
}

/** The roots, and the revocation sources (crls, ocsp, fetchRevocation) that make step 10 part of each verdict. */
export interface AnchorTrust extends RevocationSources { trustRoots: Uint8Array[] }

/** One problem in `pcp verify --json`'s `errors` (and the page's list): a failed anchor or a final fork. */
export interface AnchorProblem { code: string, index: number, message: string, [k: string]: unknown }

/** How many anchor events the chain holds: the page loads the anchor bundle only when there is one. */
export function countAnchors (events: readonly unknown[]): number {
  if (!Array.isArray(events)) throw new TypeError('"events" expected an array')
  return events.filter(isAnchorEvent).length
}

/** Every anchor of the export checked against `trust`; none checked (verdicts empty) without it. */
export async function exportAnchors (events: readonly AissEvent[], hashes: readonly string[], trust?: AnchorTrust): Promise<ExportAnchors> {
  if (!Array.isArray(events)) throw new TypeError('"events" expected an array')
  if (!Array.isArray(hashes) || hashes.length !== events.length) throw new RangeError(`"hashes" expected one hash per event (${events.length}), got ${Array.isArray(hashes) ? hashes.length : typeof hashes}`)
  const anchorCount = countAnchors(events)
  if (trust === undefined || anchorCount === 0) return { hashes, anchorCount, verdicts: [] }
  const v = new AnchorVerifier({ trustRoots: trust.trustRoots, crls: trust.crls, ocsp: trust.ocsp, fetchRevocation: trust.fetchRevocation, onFetched: trust.onFetched })
  events.forEach((e, i) => v.push(i, e, hashes[i]!))
  return { hashes, anchorCount, verdicts: await v.finish() }
}

export function compareHistories (first: ExportAnchors, second: ExportAnchors): { divergence: number, faf: FinalityFork[] } {
  return { divergence: divergence(first.hashes, second.hashes), faf: forkAfterFinalization({ hashes: first.hashes, anchors: first.verdicts }, { hashes: second.hashes, anchors: second.verdicts }) }
}

/** The failed anchors, then the final forks, as `pcp verify --json` appends them to the chain's errors. */
export function anchorProblems (anchors: ExportAnchors, fork?: { faf: FinalityFork[] }): AnchorProblem[] {
  const out: AnchorProblem[] = []
  for (const a of anchors.verdicts) if (!a.ok) out.push({ code: a.code!, index: a.index, message: a.message! })
  for (const f of fork?.faf ?? []) out.push({ code: f.code, index: f.index, message: f.message, anchor_index: f.anchorIndex, anchored_to: f.anchoredTo, gen_time: f.genTime, held_by: f.heldBy })
  return out
}

/** `pcp verify --json`'s `anchors` object: `verified` is false when no trust roots were given. */
export function anchorsJson (anchors: ExportAnchors, verified: boolean): { count: number, verified: boolean, results: Array<Record<string, unknown>> } {
  return {
    count: anchors.anchorCount,
    verified,
    results: anchors.verdicts.map((a) => ({ index: a.index, from: a.from, to: a.to, ok: a.ok, ...(a.code ? { code: a.code } : {}), ...(a.genTime ? { gen_time: a.genTime.toISOString(), tsa: a.tsa } : {}) }))
  }
}
