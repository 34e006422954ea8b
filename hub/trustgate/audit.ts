// Reading the journal back: the hub chain's trustgate.* entries for GET /api/audit, and the whole chain
// as an audit export (protocol.md §14) that `pcp verify` checks like any chain.
import { PcpError } from '../../runtime/errors.js'
import { buildAuditExport, type AuditExport } from '../../runtime/audit.js'
import type { AissEvent } from '../../runtime/types.js'
import type { JsonObject } from '../../runtime/value.js'
import { ServiceErrorCodes } from './errors.js'
import { journalEntryOf } from './journal.js'
import type { JournalReader } from './state.js'

export interface AuditQuery { agent_id?: string, outcome?: string, limit?: number }
export interface AuditEntry { seq: number, timestamp: number, type: string, payload: JsonObject }
export interface AuditReport { total: number, chain_valid: boolean | null, entries: AuditEntry[] }

export async function readJournal (hub: JournalReader): Promise<AissEvent[]> {
  if (hub.events === undefined) throw new PcpError(ServiceErrorCodes.JOURNAL_UNAVAILABLE, 'the hub chain cannot be read back (the journal has no events())')
  const out: AissEvent[] = []
  for await (const ev of hub.events()) out.push(ev)
  return out
}

/** Journal entries, newest first, filtered; `chain_valid` is the hub chain's full verification. */
export async function auditJournal (hub: JournalReader, q: AuditQuery = {}): Promise<AuditReport> {
  const events = await readJournal(hub)
  const entries: AuditEntry[] = []
  events.forEach((ev, seq) => {
    const entry = journalEntryOf(ev)
    if (entry === null) return
    const { type, payload } = entry
    const d = (payload.decision ?? {}) as JsonObject
    if (q.agent_id !== undefined && d.agent_id !== q.agent_id) return
    if (q.outcome !== undefined && d.outcome !== q.outcome && payload.final_outcome !== q.outcome) return
    entries.push({ seq, timestamp: ev.timestamp, type, payload })
  })
  entries.reverse()
  const limited = entries.slice(0, q.limit ?? 100)
  const chainValid = hub.verify ? (await hub.verify()).valid : null
  return { total: entries.length, chain_valid: chainValid, entries: limited }
}

export async function exportJournal (hub: JournalReader, now: number): Promise<AuditExport> {
  if (hub.firstIdentityDocument === undefined) throw new PcpError(ServiceErrorCodes.JOURNAL_UNAVAILABLE, 'the journal has no identity document to export')
  return buildAuditExport(await hub.firstIdentityDocument(), await readJournal(hub), { now })
}
