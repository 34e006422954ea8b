// `pcp verify --tsa-roots/--tsa-crl/--tsa-ocsp/--tsa-fetch/--against`: the trusted-time checks of an audit export (runtime/anchor/).
// A second pass over the file, parsed whole: anchors need the covered hashes, and a second history
// needs the first's. The streamed pass (runtime/audit-stream.ts) has already judged the chain itself.
// The checks are runtime/anchor/export-anchors.ts, which the browser verifier page runs too.
import { readFileSync } from 'node:fs'
import { parseJson } from '../runtime/json.js'
import { eventHash } from '../runtime/event.js'
import { exportAnchors as checkAnchors, type ExportAnchors } from '../runtime/anchor/export-anchors.js'
import type { AissEvent } from '../runtime/types.js'
import type { TsaTrust } from './tsa-trust.js'

export { compareHistories, anchorProblems, anchorsJson, type ExportAnchors } from '../runtime/anchor/export-anchors.js'

function exportEvents (file: string): AissEvent[] {
  const doc = parseJson(readFileSync(file, 'utf8'), file) as { events?: unknown }
  return Array.isArray(doc.events) ? doc.events as unknown as AissEvent[] : []
}

export async function exportAnchors (file: string, trust: TsaTrust | undefined): Promise<ExportAnchors> {
  const events = exportEvents(file)
  return checkAnchors(events, events.map((e) => eventHash(e)), trust === undefined ? undefined : { trustRoots: trust.roots, ...trust.revocation })
}
