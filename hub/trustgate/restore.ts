// The service after a restart, rebuilt from its journal (the hub chain) alone: the approval queue, the
// recent decisions with their events, the escalation state and the latest policy attestation. Nothing
// else is saved, so what the journal does not show has not happened (service.ts stamps before answering).
import type { AissEvent } from '../../runtime/types.js'
import { POLICY_ATTESTATION_TYPES } from '../../sync/gate-wire.js'
import { nextEscalation } from '../../policy/evaluate.js'
import type { Decision, EscalationState } from '../../policy/types.js'
import { JOURNAL_TYPES, type ApprovalQueue, type PendingApproval, type Resolution } from './queue.js'
import { journalEntryOf, type HubChain } from './journal.js'
import type { DecisionRecords } from './decision-records.js'

export interface Restored { escalation: EscalationState, attestation: AissEvent | null }

/** Replays `hub`'s journal into `records` and `queue`; `pending`/`resolved` mark each record's approval state. */
export async function restoreFromJournal (hub: HubChain, records: DecisionRecords, queue: ApprovalQueue, mark: { pending (item: PendingApproval): void, resolved (res: Resolution): void }): Promise<Restored> {
  let escalation: EscalationState = {}
  let attestation: AissEvent | null = null
  if (hub.events === undefined) return { escalation, attestation }
  const entries = []
  for await (const ev of hub.events()) {
    const entry = journalEntryOf(ev)
    if (entry === null) continue
    const { type, payload } = entry
    entries.push(entry)
    if (type === JOURNAL_TYPES.decision) {
      const decision = payload.decision as unknown as Decision
      escalation = nextEscalation(escalation, decision)
      records.decided(decision, ev)
    } else if ((POLICY_ATTESTATION_TYPES as readonly string[]).includes(type)) attestation = ev
    const id = String(payload.decision_id ?? '')
    if (id) records.noteEvent(type, id, ev)
  }
  queue.restore(entries)
  for (const item of queue.pending()) mark.pending(item)
  for (const rec of records.values()) {
    const r = queue.get(rec.decision.decision_id)
    if (r !== undefined && 'state' in r) mark.resolved(r)
  }
  return { escalation, attestation }
}
