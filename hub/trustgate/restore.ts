// The service's state rebuilt from its journal alone: the approval queue, the recent decisions with their
// events, the escalation state and the latest policy attestation. Nothing else is saved, so what the
// journal does not show has not happened (service.ts stamps before answering). Applied in order: all of
// it after a restart, and on a shared journal (pg-state.ts) what the other hubs appended since.
import type { AissEvent } from '../../runtime/types.js'
import { POLICY_ATTESTATION_TYPES } from '../../sync/gate-wire.js'
import { nextEscalation } from '../../policy/evaluate.js'
import type { Decision, EscalationState } from '../../policy/types.js'
import { JOURNAL_TYPES, type ApprovalQueue, type PendingApproval, type Resolution } from './queue.js'
import { journalEntryOf } from './journal.js'
import type { DecisionRecords } from './decision-records.js'

export interface Restored { escalation: EscalationState, attestation: AissEvent | null, activated: boolean }

export interface ReplayTarget {
  records: DecisionRecords
  queue: ApprovalQueue
  /** Mark each touched record's approval state. */
  pending (item: PendingApproval): void
  resolved (res: Resolution): void
}

/** Applies `events` (oldest first) on top of `from`; `activated`: one of them activated a policy. */
export function applyJournal (events: Iterable<AissEvent>, t: ReplayTarget, from: { escalation: EscalationState, attestation: AissEvent | null }): Restored {
  let { escalation, attestation } = from
  let activated = false
  const entries = []
  const touched = new Set<string>()
  for (const ev of events) {
    const entry = journalEntryOf(ev)
    if (entry === null) continue
    const { type, payload } = entry
    entries.push(entry)
    if (type === JOURNAL_TYPES.decision) {
      const decision = payload.decision as unknown as Decision
      escalation = nextEscalation(escalation, decision)
      t.records.decided(decision, ev)
      touched.add(decision.decision_id)
    } else if ((POLICY_ATTESTATION_TYPES as readonly string[]).includes(type)) {
      attestation = ev
      if (type === JOURNAL_TYPES.policyActivated) activated = true
    }
    const id = String(payload.decision_id ?? (payload.decision as { decision_id?: string } | undefined)?.decision_id ?? '')
    if (id) { t.records.noteEvent(type, id, ev); touched.add(id) }
  }
  t.queue.restore(entries)
  for (const id of touched) {
    const q = t.queue.get(id)
    if (q === undefined) continue
    if ('state' in q) t.resolved(q)
    else t.pending(q)
  }
  return { escalation, attestation, activated }
}

/** Replays a whole journal into `t`. */
export async function restoreFromJournal (events: AsyncIterable<AissEvent> | undefined, t: ReplayTarget): Promise<Restored> {
  const all: AissEvent[] = []
  if (events !== undefined) for await (const ev of events) all.push(ev)
  return applyJournal(all, t, { escalation: {}, attestation: null })
}
