// The service's table of recent decisions: what GET /api/decisions/:id, the gate handler's answer and
// waitForResolution read. A record starts as the journalled decision and follows the approval queue
// (PENDING → APPROVED / REJECTED / TIMED_OUT), carrying the journal event of each step, so an answer can
// always point at the hub-signed event that proves it. Bounded: the oldest resolved records go first;
// a pending one stays until it is answered (the journal keeps everything).
import type { AissEvent } from '../../runtime/types.js'
import type { GateState } from '../../sync/gate-wire.js'
import type { Decision, Outcome } from '../../policy/types.js'
import { JOURNAL_TYPES, type PendingApproval, type Resolution } from './queue.js'
import type { Clearance } from './principals.js'

export type DecisionState = GateState

export interface DecisionRecord {
  decision: Decision
  state: DecisionState
  /** What applies now: the decision's outcome, ALLOW after approval, BLOCK after rejection/timeout. */
  final_outcome: Outcome
  allowed: boolean
  expires_at: number | null
  required_clearance: Clearance | null
  resolution: Resolution | null
  decision_event: AissEvent
  resolution_event: AissEvent | null
}

const ALLOWING: readonly Outcome[] = ['ALLOW', 'ALLOW_WITH_LOG']
const MAX_RECORDS = 10_000

export class DecisionRecords {
  readonly #records = new Map<string, DecisionRecord>()
  readonly #events = new Map<string, AissEvent>() // `${type}:${decision_id}` → the stamped journal event

  /** Remembers the journal event of type `type` about decision `id` (a resolution reads it back). */
  noteEvent (type: string, id: string, ev: AissEvent): void { this.#events.set(`${type}:${id}`, ev) }

  get (id: string): DecisionRecord | undefined { return this.#records.get(id) }

  values (): IterableIterator<DecisionRecord> { return this.#records.values() }

  /** Adds the record of a journalled decision and returns it. */
  decided (decision: Decision, ev: AissEvent): DecisionRecord {
    const rec: DecisionRecord = {
      decision, state: decision.outcome === 'REQUIRE_HUMAN' ? 'PENDING' : 'DECIDED', final_outcome: decision.outcome,
      allowed: ALLOWING.includes(decision.outcome), expires_at: null, required_clearance: null, resolution: null,
      decision_event: ev, resolution_event: null
    }
    this.#records.delete(decision.decision_id)
    this.#records.set(decision.decision_id, rec)
    for (const [id, r] of this.#records) {
      if (this.#records.size <= MAX_RECORDS) break
      if (r.state !== 'PENDING') this.#records.delete(id)
    }
    return rec
  }

  pending (item: PendingApproval): void {
    const rec = this.#records.get(item.decision.decision_id)
    if (rec) Object.assign(rec, { state: 'PENDING', expires_at: item.expires_at, required_clearance: item.required_clearance })
  }

  /** Applies a resolution; returns the record it changed, if it is still held. */
  resolved (res: Resolution): DecisionRecord | undefined {
    const rec = this.#records.get(res.decision_id)
    if (rec === undefined) return undefined
    const type = res.state === 'APPROVED' ? JOURNAL_TYPES.approved : res.state === 'REJECTED' ? JOURNAL_TYPES.rejected : JOURNAL_TYPES.timedOut
    Object.assign(rec, {
      state: res.state, final_outcome: res.final_outcome, allowed: ALLOWING.includes(res.final_outcome), resolution: res,
      resolution_event: this.#events.get(`${type}:${res.decision_id}`) ?? null
    })
    return rec
  }
}
