// Over 300 lines (370): every operation here stamps the journal before it answers, and keeping them
// together keeps that order visible; what is not ordering lives beside it (context.ts, restore.ts,
// decision-records.ts, simulator.ts, journal.ts, queue.ts, versions.ts, agent-states.ts, audit.ts,
// state.ts and shared-ops.ts for where the journal lives and how several hubs take turns on it).
// The TrustGate service: what the HTTP API, the MQTT gate handler and the hub share. It owns the active
// policy (from the version store), the escalation state, the approval queue with its expiry timer, the
// journal (a PCP chain of the hub's own identity: every decision, queue transition and activation is
// stamped there BEFORE anyone is answered, so nothing takes effect that the journal does not show), the
// Vigil state intake (agent-states.ts), journal reading (audit.ts), and the hub-signed copy of the active
// policy that devices cache for offline use.
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { PcpError } from '../../runtime/errors.js'
import type { AuditExport } from '../../runtime/audit.js'
import type { AissEvent } from '../../runtime/types.js'
import type { JsonObject } from '../../runtime/value.js'
import type { SignedPolicy } from '../../sync/gate-wire.js'
import { evaluate, evaluateAndRecord } from '../../policy/evaluate.js'
import { withSimulateCeilings } from './simulate-task.js'
import { Simulator } from './simulator.js'
import { parsePolicy } from '../../policy/load.js'
import { loadProfile, type ProfileName } from './profiles.js'
import type { ActivationRecord } from './versions.js'
import { ApprovalQueue, approvalTerms, type PendingApproval, type Resolution } from './queue.js'
import { activationEntry, decisionEntry, type HubChain } from './journal.js'
import { FileTrustGateState, type PolicyVersions, type TrustGateState } from './state.js'
import { auditJournal, exportJournal, readJournal, type AuditQuery, type AuditReport } from './audit.js'
import { AgentStates, type AgentState, type AgentStateUpdate } from './agent-states.js'
import { clearanceRank, type Clearance, type Principal } from './principals.js'
import { PrincipalStore, type Principals } from './principal-store.js'
import { ServiceErrorCodes, TrustGateErrorCodes } from './errors.js'
import { DecisionRecords, type DecisionRecord } from './decision-records.js'
import { evaluationContext, type EvaluateInput } from './context.js'
import { applyJournal, restoreFromJournal, type ReplayTarget } from './restore.js'
import { SharedOps } from './shared-ops.js'
import type { Decision, EscalationState, EvaluationContext, LoadedPolicy } from '../../policy/types.js'

export { ServiceErrorCodes } from './errors.js'
export type { DecisionRecord, DecisionState } from './decision-records.js'
export type { HubChain } from './journal.js'
export type { AgentState } from './agent-states.js'
export type { EvaluateInput } from './context.js'

export interface TrustGateServiceOptions {
  /** State directory: policy versions (versions/, activations.jsonl) and principals.json. */
  dir: string
  /** The hub's chain: the journal, unless `state` keeps it. */
  hub?: HubChain
  /** Where versions and the journal live; default FileTrustGateState(dir, hub). The service closes it. */
  state?: TrustGateState
  principals?: Principals
  /** Milliseconds since the epoch. */
  clock?: () => number
  /** Activated (by principal "hub") only when no version is active yet. */
  initialPolicy?: Uint8Array | string | { profile: ProfileName }
  /** How often pending approvals are checked for their TTL; 0 = only on demand (tests). Default 1000. */
  expiryIntervalMs?: number
  /** Vigil's state for an agent is used for this long (reference: 120 s). */
  agentStateTtlSeconds?: number
  /** Clearance needed to activate policies and create principals. Default L3. */
  adminClearance?: Clearance
  /** Each new decision, once journalled: seconds since evaluate() was called (the hub's pcp_gate_decision_seconds). */
  onDecided?: (d: { source: string, outcome: string, seconds: number, decision: Decision }) => void
}

export class TrustGateService extends EventEmitter {
  readonly versions: PolicyVersions
  readonly principals: Principals
  readonly queue: ApprovalQueue
  readonly state: TrustGateState
  readonly #clock: () => number
  readonly #opts: TrustGateServiceOptions
  #active: { record: ActivationRecord, policy: LoadedPolicy } | null = null
  #attestation: AissEvent | null = null
  #escalation: EscalationState = {}
  readonly #simulator = new Simulator()
  readonly #records = new DecisionRecords()
  readonly #agents: AgentStates
  readonly #target: ReplayTarget
  #timer: NodeJS.Timeout | undefined
  // Shared state: operations run one at a time, each on the journal as the other hubs left it.
  readonly #ops: SharedOps

  private constructor (opts: TrustGateServiceOptions) {
    super()
    this.#opts = opts
    this.#clock = opts.clock ?? Date.now
    this.state = opts.state ?? new FileTrustGateState(opts.dir, opts.hub!)
    this.versions = this.state.versions
    this.#ops = new SharedOps(this.state.shared, () => this.#catchUp())
    this.principals = opts.principals ?? this.state.principals ?? PrincipalStore.open(opts.dir)
    this.#agents = new AgentStates(opts.agentStateTtlSeconds ?? 120)
    this.queue = new ApprovalQueue({
      principals: this.principals,
      clock: () => this.now(),
      onRecord: async (entry) => {
        const ev = await this.state.append(entry)
        this.#records.noteEvent(entry.type, String(entry.payload.decision_id ?? (entry.payload.decision as JsonObject | undefined)?.decision_id), ev)
      }
    })
    this.#target = { records: this.#records, queue: this.queue, pending: (item) => this.#markPending(item), resolved: (res) => this.#markResolved(res) }
  }

  /** Whole Unix seconds, from the injected clock. */
  now (): number { return Math.floor(this.#clock() / 1000) }

  static async open (opts: TrustGateServiceOptions): Promise<TrustGateService> {
    if (opts?.state === undefined && typeof opts?.hub?.stamp !== 'function') throw new TypeError('"hub" expected a Stamper (the hub\'s Agent)')
    const s = new TrustGateService(opts)
    await s.#restore()
    s.#active = s.versions.active()
    if (s.#active === null && opts.initialPolicy !== undefined) {
      const ip = opts.initialPolicy
      const bytes = typeof ip === 'object' && !(ip instanceof Uint8Array) ? new TextEncoder().encode(loadProfile(ip.profile).text) : ip
      await s.#activate(bytes, 'hub', 'initial policy', true)
    }
    await s.#op(() => s.#ensureAttestation())
    // Another hub appended (or may have: the connection was lost meanwhile): read it now, not at the next call.
    s.state.onChange(() => { s.sync().catch((err) => s.emit('error', err)) })
    const every = opts.expiryIntervalMs ?? 1000
    if (every > 0) {
      s.#timer = setInterval(() => { s.expire().catch((err) => s.emit('error', err)) }, every)
      s.#timer.unref()
    }
    return s
  }

  /** Rebuilds queue, recent decisions, escalation state and the policy attestation from the journal. */
  async #restore (): Promise<void> {
    // A shared journal is read through readNew, which then continues where the restore ended.
    const restored = await restoreFromJournal(this.state.shared ? undefined : this.state.events?.(), this.#target)
    this.#escalation = restored.escalation
    this.#attestation = restored.attestation
    if (this.state.shared) await this.#catchUp()
  }

  /** An operation that journals (shared-ops.ts): on a shared journal, alone and on the journal as it is. */
  async #op<T> (fn: () => Promise<T>): Promise<T> { return await this.#ops.run(fn) }

  /** Applies what the other hubs appended to the shared journal since this hub last read or wrote it. */
  async #catchUp (): Promise<void> {
    const events = await this.state.readNew()
    if (events.length === 0) return
    const r = applyJournal(events, this.#target, { escalation: this.#escalation, attestation: this.#attestation })
    this.#escalation = r.escalation
    this.#attestation = r.attestation
    if (r.activated) {
      this.#active = this.versions.active()
      if (this.#active !== null) this.emit('policy', this.#active.record)
    }
  }

  /** Shared state: reads what other hubs appended (the API calls it before answering). One hub: nothing to read. */
  async sync (): Promise<void> {
    if (this.state.shared) await this.#ops.exclusive(() => this.#catchUp())
  }

  #markPending (item: PendingApproval): void { this.#records.pending(item) }

  #markResolved (res: Resolution): void {
    const rec = this.#records.resolved(res)
    if (rec !== undefined) this.emit('resolved', rec)
  }

  // ---- policy ----

  get policy (): LoadedPolicy | null { return this.#active?.policy ?? null }
  get activation (): ActivationRecord | null { return this.#active?.record ?? null }

  #requirePolicy (): LoadedPolicy {
    if (this.#active === null) throw new PcpError(ServiceErrorCodes.NO_ACTIVE_POLICY, 'no policy is active: activate one with pcp trustgate activate-policy FILE')
    return this.#active.policy
  }

  /** Refuses a principal who may not administer TrustGate (activate policies, create principals). */
  requireAdmin (p: Principal | undefined): Principal {
    if (p === undefined) throw new PcpError(ServiceErrorCodes.PRINCIPAL_AUTH_REQUIRED, 'this operation needs principal credentials')
    if (!p.active) throw new PcpError(TrustGateErrorCodes.PRINCIPAL_INACTIVE, `principal ${p.id} is inactive`, { key: p.id })
    const need = this.#opts.adminClearance ?? 'L3'
    if (clearanceRank(p.clearance) < clearanceRank(need)) {
      throw new PcpError(TrustGateErrorCodes.PRINCIPAL_NOT_ALLOWED, `principal ${p.id} has clearance ${p.clearance}; this operation needs ${need}`, { key: p.id, expected: need, actual: p.clearance })
    }
    return p
  }

  /** Stores a new version (never overwriting anything: gaps.md #52) and makes it active. */
  async activatePolicy (bytes: Uint8Array | string, by: { principal: Principal | undefined, comment?: string }): Promise<{ record: ActivationRecord, created: boolean, warnings: readonly string[] }> {
    await this.principals.refresh?.()
    const p = this.requireAdmin(by.principal === undefined ? undefined : this.principals.get(by.principal.id) ?? by.principal)
    return (await this.#activate(bytes, p.id, by.comment ?? ''))!
  }

  async #activate (bytes: Uint8Array | string, principal: string, comment: string, onlyIfNone = false): Promise<{ record: ActivationRecord, created: boolean, warnings: readonly string[] } | null> {
    const { id, policy, created } = await this.state.addVersion(bytes, 'submitted policy')
    return await this.#op(async () => {
      if (onlyIfNone && this.#active !== null) return null // another hub of a shared store was first
      // The activation log line is written before the journal event, which needs its seq and link; a
      // crash in between leaves an activation without its journal event, re-attested at the next start.
      const record = await this.state.activationRecord(id, { principal, comment, at: this.now() })
      this.#attestation = await this.state.append(activationEntry(record))
      this.#active = { record, policy }
      this.emit('policy', record)
      return { record, created, warnings: policy.warnings }
    })
  }

  /** After a restart the latest activation's event may be missing from the chain (or unreadable): re-sign. */
  async #ensureAttestation (): Promise<void> {
    const a = this.#active
    if (a === null || (this.#attestation !== null && this.#attestation.payload.version === a.record.version)) return
    this.#attestation = await this.state.append({
      type: 'trustgate.policy_attested',
      payload: { version: a.record.version, policy_version: a.record.policy_version, seq: a.record.seq, at: this.now() }
    })
  }

  /** The active policy's bytes and the hub's signed event naming their hash: what devices cache. */
  signedPolicy (): SignedPolicy | null {
    if (this.#active === null || this.#attestation === null) return null
    return { text: new TextEncoder().encode(this.#active.policy.text), attestation: this.#attestation }
  }

  // ---- decisions ----

  #context (input: EvaluateInput, decisionId: string): EvaluationContext {
    return evaluationContext(input, decisionId, (id) => this.agentState(id), () => this.now())
  }

  /**
   * Decides, journals the decision, and queues a REQUIRE_HUMAN for approval. `decisionId` defaults to a
   * random one; the gate handler passes one derived from the device's request id, which makes a
   * re-sent request (MQTT QoS 1 may deliver twice) return the first decision instead of a second one.
   */
  async evaluate (input: EvaluateInput, opts: { source: string, decisionId?: string }): Promise<DecisionRecord> {
    const t0 = performance.now()
    this.#requirePolicy()
    const decisionId = opts.decisionId ?? 'dec-' + randomBytes(20).toString('hex')
    const existing = this.lookup(decisionId)
    if (existing !== undefined) return existing
    const made = await this.#op(async () => {
      // Shared: another hub may have decided this request (a resend that reached it) since the look above.
      const known = this.lookup(decisionId)
      if (known !== undefined) return { rec: known, policy: null }
      const policy = this.#requirePolicy()
      const { decision, escalation } = evaluateAndRecord(this.#context(input, decisionId), policy, this.#escalation)
      const entry = decisionEntry(decision)
      const ev = await this.state.append({ type: entry.type, payload: { ...entry.payload, source: opts.source } })
      this.#escalation = escalation
      return { rec: this.#records.decided(decision, ev), policy }
    })
    const { rec, policy } = made
    if (policy === null) return rec
    const decision = rec.decision
    if (decision.outcome === 'REQUIRE_HUMAN') this.#markPending(await this.#op(() => this.queue.submit(decision, approvalTerms(policy))))
    this.#opts.onDecided?.({ source: opts.source, outcome: decision.outcome, seconds: (performance.now() - t0) / 1000, decision })
    return rec
  }

  /** Evaluates without recording anything (no journal, no escalation update, no queue). */
  /** On this thread, with SIMULATE_LIMITS (for callers in-process; the HTTP API uses simulateOffThread). */
  simulate (input: EvaluateInput, policyText?: string): Decision {
    const policy = policyText === undefined ? this.#requirePolicy() : parsePolicy(policyText, 'simulated policy')
    return evaluate(this.#context(input, 'sim-' + randomBytes(8).toString('hex')), withSimulateCeilings(policy), this.#escalation)
  }

  /**
   * The same decision, computed on a worker thread (hub/trustgate/simulate-task.ts), so that a costly
   * simulation never holds the thread that serves ingest and /health; the policy text is parsed there
   * too, and a POLICY_INVALID comes back with its problems. At most SIMULATE_QUEUE requests wait (simulator.ts).
   */
  async simulateOffThread (input: EvaluateInput, policyText?: string): Promise<Decision> {
    const text = policyText === undefined ? this.#requirePolicy().text : policyText
    if (typeof text !== 'string') throw new TypeError('"policyText" expected YAML text')
    const context = this.#context(input, 'sim-' + randomBytes(8).toString('hex'))
    return await this.#simulator.run(text, context, this.#escalation)
  }

  lookup (id: string): DecisionRecord | undefined {
    return this.#records.get(id)
  }

  pending (): PendingApproval[] { return this.queue.pending() }

  async approve (id: string, principal: Principal | undefined, justification = ''): Promise<DecisionRecord> {
    return await this.#answer(id, principal, justification, 'approve')
  }

  async reject (id: string, principal: Principal | undefined, reason = ''): Promise<DecisionRecord> {
    return await this.#answer(id, principal, reason, 'reject')
  }

  async #answer (id: string, principal: Principal | undefined, text: string, how: 'approve' | 'reject'): Promise<DecisionRecord> {
    if (principal === undefined) throw new PcpError(ServiceErrorCodes.PRINCIPAL_AUTH_REQUIRED, `to ${how} a decision, authenticate as a principal (X-TrustGate-Principal header)`)
    await this.principals.refresh?.() // shared: deactivated through another hub a moment ago?
    try {
      const res = await this.#op(() => how === 'approve' ? this.queue.approve(id, principal.id, text) : this.queue.reject(id, principal.id, text))
      this.#markResolved(res)
    } finally {
      await this.#afterExpiry() // the call may have timed the request out instead
    }
    const rec = this.#records.get(id)
    if (rec === undefined) throw new PcpError(TrustGateErrorCodes.DECISION_NOT_FOUND, `no decision ${id}`, { key: id })
    return rec
  }

  /** Applies on_timeout to every lapsed request (the timer calls this; tests call it with their clock). */
  async expire (): Promise<void> {
    // Shared: what the others appended first (this is also the poll when a notification was lost).
    const changed = await this.#op(async () => await this.queue.expire(this.now()))
    for (const c of changed) {
      if ('state' in c) this.#markResolved(c)
      else this.#markPending(c)
    }
  }

  async #afterExpiry (): Promise<void> {
    for (const rec of this.#records.values()) {
      if (rec.state !== 'PENDING') continue
      const q = this.queue.get(rec.decision.decision_id)
      if (q !== undefined && 'state' in q) this.#markResolved(q)
      else if (q !== undefined) this.#markPending(q)
    }
  }

  /** Resolves with the record once it is no longer PENDING, or as it is after `ms`. */
  async waitForResolution (id: string, ms: number): Promise<DecisionRecord | undefined> {
    if (this.state.shared) await this.sync() // decided, or answered, through another hub
    const rec = this.lookup(id)
    if (rec === undefined || rec.state !== 'PENDING' || ms <= 0) return rec
    return await new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); this.off('resolved', onResolved); resolve(this.lookup(id)) }
      const onResolved = (r: DecisionRecord): void => { if (r.decision.decision_id === id) done() }
      const timer = setTimeout(done, ms)
      this.on('resolved', onResolved)
    })
  }

  // ---- Vigil intake (POST /api/vigil/agent-state) ----

  ingestAgentState (u: AgentStateUpdate): AgentState { return this.#agents.ingest(u, this.now()) }

  /** Vigil's latest state for an agent while it is fresh. */
  agentState (agentId: string): AgentState | undefined { return this.#agents.get(agentId, this.now()) }

  agents (): AgentState[] { return this.#agents.list() }

  // ---- audit ----

  async journalEvents (): Promise<AissEvent[]> { return await readJournal(this.state) }

  /** Journal entries, newest first, filtered; `chain_valid` is the hub chain's full verification. */
  async audit (q: AuditQuery = {}): Promise<AuditReport> { return await auditJournal(this.state, q) }

  /** The whole hub chain as an audit export (protocol.md §14): `pcp verify` checks it like any chain. */
  async auditExport (): Promise<AuditExport> { return await exportJournal(this.state, this.now()) }

  async close (): Promise<void> {
    await this.#simulator.close()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.removeAllListeners('resolved')
    await this.#ops.idle()
    await this.state.close()
  }
}

/** Opens the service (restoring from the hub chain, activating `initialPolicy` on a fresh store). */
export async function createTrustGateService (opts: TrustGateServiceOptions): Promise<TrustGateService> {
  return await TrustGateService.open(opts)
}
