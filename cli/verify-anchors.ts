// `pcp verify --tsa-roots/--tsa-crl/--against`: the trusted-time checks of an audit export (runtime/anchor/).
// A second pass over the file, parsed whole: anchors need the covered hashes, and a second history
// needs the first's. The streamed pass (runtime/audit-stream.ts) has already judged the chain itself.
import { readFileSync } from 'node:fs'
import { parseJson } from '../runtime/json.js'
import { eventHash } from '../runtime/event.js'
import { AnchorVerifier, type AnchorVerdict } from '../runtime/anchor/verify-anchors.js'
import { ANCHOR_EVENT_TYPE } from '../runtime/anchor/payload.js'
import { forkAfterFinalization, divergence, type FinalityFork } from '../runtime/anchor/finality.js'
import type { AissEvent } from '../runtime/types.js'

export interface ExportAnchors {
  hashes: string[]
  anchorCount: number
  /** Empty when no trust roots were given (anchors present but unverified). */
  verdicts: AnchorVerdict[]
}

function exportEvents (file: string): AissEvent[] {
  const doc = parseJson(readFileSync(file, 'utf8'), file) as { events?: unknown }
  return Array.isArray(doc.events) ? doc.events as unknown as AissEvent[] : []
}

export async function exportAnchors (file: string, trustRoots: Uint8Array[] | undefined, crls?: Uint8Array[]): Promise<ExportAnchors> {
  const events = exportEvents(file)
  const hashes = events.map((e) => eventHash(e))
  const anchorCount = events.filter((e) => e?.payload?.event_type === ANCHOR_EVENT_TYPE).length
  if (trustRoots === undefined || anchorCount === 0) return { hashes, anchorCount, verdicts: [] }
  const v = new AnchorVerifier({ trustRoots, ...(crls ? { crls } : {}) })
  events.forEach((e, i) => v.push(i, e, hashes[i]!))
  return { hashes, anchorCount, verdicts: await v.finish() }
}

export function compareHistories (first: ExportAnchors, second: ExportAnchors): { divergence: number, faf: FinalityFork[] } {
  return { divergence: divergence(first.hashes, second.hashes), faf: forkAfterFinalization({ hashes: first.hashes, anchors: first.verdicts }, { hashes: second.hashes, anchors: second.verdicts }) }
}
