// Human-approval queue (trustgate.md §6), with the reference's gaps closed:
//  - the policy's on_timeout is applied (the reference's server always used REJECT: gaps.md #47);
//  - ESCALATE really escalates: the request stays pending with a fresh TTL and needs the next clearance
//    level; past L3 there is nobody left to ask and the request is blocked (fail closed);
//  - require_justification is enforced; an unknown, inactive or under-cleared principal is refused (#44);
//  - expiry is exact (checked on every call and by expire(now)), not a 30 s polling thread.
// Every transition is first handed to `onRecord` (the journal); only when that resolves does the state
// change, so nothing happens that the journal does not show. Calls are serialised. The clock is injected.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { canonicalize } from '../../runtime/canonical.js'
import { parseJson, stringifyJson } from '../../runtime/json.js'
import { PcpError } from '../../runtime/errors.js'
import { TrustGateErrorCodes as Codes } from './errors.js'
import { clearanceRank, nextClearance, requiredClearance, type Clearance, type Principal, type PrincipalDirectory } from './principals.js'
import type { Decision, JsonObject, LoadedPolicy, OnTimeout, Outcome } from '../../policy/types.js'

/** How a pending decision must be answered; taken from the policy that made the decision. */
export interface ApprovalTerms {
  ttlSeconds: number
  onTimeout: OnTimeout
  requireJustification: boolean
  /** If not empty, only these principal ids or names may answer (policy notification.principals). */
  approvers: string[]
}

export function approvalTerms (policy: LoadedPolicy): ApprovalTerms {
  const n = policy.policy.notification
  return { ttlSeconds: n.timeout_seconds, onTimeout: n.on_timeout, requireJustification: n.require_justification, approvers: [...n.principals] }
}

export interface PendingApproval {
  decision: Decision
  decision_hash: string
  terms: ApprovalTerms
  submitted_at: number
  expires_at: number
  required_clearance: Clearance
  escalations: number
}

export type ResolutionState = 'APPROVED' | 'REJECTED' | 'TIMED_OUT'

export interface Resolution {
  decision_id: string
  state: ResolutionState
  /** What the gate does now: ALLOW after an approval, BLOCK otherwise. */
  final_outcome: Outcome
  principal_id: string | null
  justification: string
  at: number
}

/** A journal entry: an event type and payload, ready for Stamper.stamp(type, payload). */
export interface JournalEntry { type: string, payload: JsonObject }

export const JOURNAL_TYPES = {
  decision: 'trustgate.decision',
  pending: 'trustgate.pending',
  approved: 'trustgate.approved',
  rejected: 'trustgate.rejected',
  timedOut: 'trustgate.timed_out',
  escalated: 'trustgate.escalated',
  policyActivated: 'trustgate.policy_activated'
} as const

export interface QueueOptions {
  principals: PrincipalDirectory
  /** Unix seconds. Injected so tests (and replays) control time. */
  clock: () => number
  /** Receives every transition before it takes effect; a rejection aborts the transition. */
  onRecord?: (entry: JournalEntry) => unknown
}

const hashDecision = (d: Decision): string => bytesToHex(sha256(new TextEncoder().encode(canonicalize(d))))
// Lossless: JSON.stringify throws on a payload's big int and turns its 25.0 into 25.
const json = (v: unknown): JsonObject => parseJson(stringifyJson(v as object)) as JsonObject

export class ApprovalQueue {
  private readonly items = new Map<string, PendingApproval>()
  private readonly done = new Map<string, Resolution>()
  private tail: Promise<unknown> = Promise.resolve()

  constructor (private readonly opts: QueueOptions) {
    if (typeof opts?.clock !== 'function') throw new TypeError('"clock" expected a function returning Unix seconds')
    if (typeof opts.principals?.get !== 'function') throw new TypeError('"principals" expected a PrincipalDirectory')
  }

  /** Runs `fn` after every earlier call has finished, so transitions never interleave. */
  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn)
    this.tail = run.catch(() => undefined)
    return run
  }

  private async record (type: string, payload: object): Promise<void> {
    if (this.opts.onRecord) await this.opts.onRecord({ type, payload: json(payload) })
  }

  /** Queues a REQUIRE_HUMAN decision. The TTL runs from the queue's clock, not the decision's timestamp. */
  submit (decision: Decision, terms: ApprovalTerms): Promise<PendingApproval> {
    if (decision?.outcome !== 'REQUIRE_HUMAN') throw new RangeError(`only REQUIRE_HUMAN decisions can be queued, got ${String(decision?.outcome)}`)
    if (!Number.isInteger(terms?.ttlSeconds) || terms.ttlSeconds < 1) throw new RangeError(`"ttlSeconds" expected a positive integer, got ${String(terms?.ttlSeconds)}`)
    return this.serial(async () => {
      const id = decision.decision_id
      if (this.items.has(id) || this.done.has(id)) throw new PcpError(Codes.DECISION_EXISTS, `decision ${id} is already queued or resolved`, { key: id })
      const now = this.opts.clock()
      const item: PendingApproval = {
        decision, decision_hash: hashDecision(decision), terms: { ...terms, approvers: [...terms.approvers] },
        submitted_at: now, expires_at: now + terms.ttlSeconds, required_clearance: requiredClearance(decision.vrs), escalations: 0
      }
      await this.record(JOURNAL_TYPES.pending, item)
      this.items.set(id, item)
      return item
    })
  }

  approve (id: string, principalId: string, justification = ''): Promise<Resolution> {
    return this.serial(async () => this.answer(id, principalId, justification, 'APPROVED'))
  }

  reject (id: string, principalId: string, reason = ''): Promise<Resolution> {
    return this.serial(async () => this.answer(id, principalId, reason, 'REJECTED'))
  }

  /** Applies on_timeout to every request whose TTL has passed at `now`; returns what changed. */
  expire (now?: number): Promise<Array<Resolution | PendingApproval>> {
    return this.serial(async () => this.expireDue(now ?? this.opts.clock()))
  }

  pending (): PendingApproval[] {
    return [...this.items.values()].sort((a, b) => a.expires_at - b.expires_at || (a.decision.decision_id < b.decision.decision_id ? -1 : 1))
  }

  get (id: string): PendingApproval | Resolution | undefined { return this.items.get(id) ?? this.done.get(id) }

  private checkPrincipal (item: PendingApproval, principalId: string, state: ResolutionState): Principal {
    const id = item.decision.decision_id
    const p = typeof principalId === 'string' ? this.opts.principals.get(principalId) : undefined
    if (p === undefined) throw new PcpError(Codes.PRINCIPAL_UNKNOWN, `unknown principal "${String(principalId)}"`, { key: String(principalId) })
    if (!p.active) throw new PcpError(Codes.PRINCIPAL_INACTIVE, `principal ${p.id} is inactive`, { key: p.id })
    const listed = item.terms.approvers
    if (listed.length > 0 && !listed.includes(p.id) && !listed.includes(p.name)) {
      throw new PcpError(Codes.PRINCIPAL_NOT_ALLOWED, `principal ${p.id} is not among the policy's principals for decision ${id}`, { key: p.id })
    }
    // Refusing is always safe, so any known, active, listed principal may reject; approving needs clearance.
    if (state === 'APPROVED' && clearanceRank(p.clearance) < clearanceRank(item.required_clearance)) {
      throw new PcpError(Codes.PRINCIPAL_NOT_ALLOWED, `principal ${p.id} has clearance ${p.clearance}; decision ${id} needs ${item.required_clearance}`, { key: p.id, expected: item.required_clearance, actual: p.clearance })
    }
    return p
  }

  private async answer (id: string, principalId: string, justification: string, state: 'APPROVED' | 'REJECTED'): Promise<Resolution> {
    if (typeof justification !== 'string') throw new TypeError('"justification" expected a string')
    const now = this.opts.clock()
    await this.expireDue(now) // an answer that arrives late finds the request already timed out or escalated
    const item = this.items.get(id)
    if (item === undefined) {
      const done = this.done.get(id)
      if (done === undefined) throw new PcpError(Codes.DECISION_NOT_FOUND, `no pending decision ${id}`, { key: id })
      if (done.state === 'TIMED_OUT') throw new PcpError(Codes.DECISION_TIMED_OUT, `decision ${id} timed out at ${done.at}`, { key: id })
      throw new PcpError(Codes.DECISION_RESOLVED, `decision ${id} was already ${done.state.toLowerCase()}`, { key: id })
    }
    const p = this.checkPrincipal(item, principalId, state)
    if (item.terms.requireJustification && justification.trim() === '') {
      throw new PcpError(Codes.JUSTIFICATION_REQUIRED, `the policy requires a justification to answer decision ${id}`, { key: id })
    }
    const res: Resolution = { decision_id: id, state, final_outcome: state === 'APPROVED' ? 'ALLOW' : 'BLOCK', principal_id: p.id, justification, at: now }
    await this.record(state === 'APPROVED' ? JOURNAL_TYPES.approved : JOURNAL_TYPES.rejected, {
      ...res, decision_hash: item.decision_hash, principal_name: p.name, clearance: p.clearance, required_clearance: item.required_clearance
    })
    this.items.delete(id)
    this.done.set(id, res)
    return res
  }

  private async expireDue (now: number): Promise<Array<Resolution | PendingApproval>> {
    const changed: Array<Resolution | PendingApproval> = []
    for (const item of this.pending()) {
      if (!(now > item.expires_at)) continue // "timed out" means strictly after expires_at, as the reference
      const id = item.decision.decision_id
      const up = item.terms.onTimeout === 'ESCALATE' ? nextClearance(item.required_clearance) : null
      if (up !== null) {
        const next: PendingApproval = { ...item, required_clearance: up, expires_at: now + item.terms.ttlSeconds, escalations: item.escalations + 1 }
        await this.record(JOURNAL_TYPES.escalated, { decision_id: id, decision_hash: item.decision_hash, from: item.required_clearance, to: up, expires_at: next.expires_at, at: now })
        this.items.set(id, next)
        changed.push(next)
        continue
      }
      const why = item.terms.onTimeout === 'ESCALATE' ? 'escalation exhausted at L3 — blocked' : `on_timeout ${item.terms.onTimeout} — blocked`
      const res: Resolution = { decision_id: id, state: 'TIMED_OUT', final_outcome: 'BLOCK', principal_id: null, justification: `timeout: ${why}`, at: now }
      await this.record(JOURNAL_TYPES.timedOut, { ...res, decision_hash: item.decision_hash, expires_at: item.expires_at })
      this.items.delete(id)
      this.done.set(id, res)
      changed.push(res)
    }
    return changed
  }

  /**
   * Rebuilds the queue's state from its journal (oldest first), e.g. after a restart. Entries are trusted
   * to be the queue's own (the caller verified the journal chain first); they are not re-journaled.
   */
  restore (entries: Iterable<JournalEntry>): void {
    for (const { type, payload } of entries) {
      const id = String(payload.decision_id ?? (payload.decision as JsonObject | undefined)?.decision_id ?? '')
      if (type === JOURNAL_TYPES.pending) this.items.set(id, payload as unknown as PendingApproval)
      else if (type === JOURNAL_TYPES.escalated) {
        const item = this.items.get(id)
        if (item) this.items.set(id, { ...item, required_clearance: payload.to as Clearance, expires_at: payload.expires_at as number, escalations: item.escalations + 1 })
      } else if (type === JOURNAL_TYPES.approved || type === JOURNAL_TYPES.rejected || type === JOURNAL_TYPES.timedOut) {
        const { decision_id, state, final_outcome, principal_id, justification, at } = payload as unknown as Resolution
        this.items.delete(id)
        this.done.set(id, { decision_id, state, final_outcome, principal_id, justification, at })
      }
    }
  }
}
