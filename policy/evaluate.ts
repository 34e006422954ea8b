// evaluate(context, policy): the gate's decision, a pure function. No clock (the timestamp is in the
// context), no randomness (the decision id derives from the request), no module state (the escalation
// history is an argument; nextEscalation() returns the updated copy). Same input → same Decision, byte for
// byte of its canonical JSON. Rule order and reason strings follow the reference (trustgate.md §3), first
// match wins, with fail-closed additions where the reference failed open (gaps.md #43, #50):
//   0. an unusable context (missing field, NaN score, unknown TSI state, payload JSON cannot hold) → BLOCK
//   2a. a payload too large to scan, or a scan over its step budget → BLOCK
//   3. an unknown role → BLOCK, reported as its own rule
import { createHash } from 'node:crypto'
import { canonicalize, pyFloatRepr } from '../runtime/canonical.js'
import { domainAllowedBy, normaliseDomain, toolVerdict } from './rules.js'
import { scanPayload } from './scan.js'
import {
  TSI_STATES, type Decision, type EscalationState, type EvaluationContext, type LoadedPolicy, type Outcome, type RuleName
} from './types.js'

/** Window of the escalation rule: the reference counts blocking decisions of the last hour. */
export const ESCALATION_WINDOW_SECONDS = 3600
/** Outcomes that count towards escalation (the reference's evaluate() recorded exactly these). */
const ESCALATING: readonly Outcome[] = ['REQUIRE_HUMAN', 'BLOCK', 'QUARANTINE']

// node:crypto rather than @noble/hashes: a third of the evaluation's time went to hashing the payload in JS.
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

const emptyText = (v: unknown): boolean => typeof v !== 'string' || v === ''
const optionalScore = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v))
const TSI_SET: ReadonlySet<string> = new Set(TSI_STATES)

/** The first problem that makes the context unusable, or null. */
function contextProblem (c: EvaluationContext): string | null {
  if (c === null || typeof c !== 'object') return 'context is not an object'
  const missing = emptyText(c.agent_id) ? 'agent_id' : emptyText(c.role) ? 'role' : emptyText(c.action) ? 'action' : null
  if (missing !== null) return `${missing} must be a non-empty string`
  if (c.agent_name !== undefined && typeof c.agent_name !== 'string') return 'agent_name must be a string'
  if (c.payload === null || typeof c.payload !== 'object' || Array.isArray(c.payload)) return 'payload must be an object'
  if (typeof c.vrs !== 'number' || !(c.vrs >= 0 && c.vrs <= 1)) return `vrs must be a number in [0, 1], got ${String(c.vrs)}`
  if (!TSI_SET.has(c.tsi_state)) return `tsi_state must be one of ${TSI_STATES.join(', ')}, got ${String(c.tsi_state)}`
  if (!optionalScore(c.a2c_score)) return 'a2c_score must be a finite number or null'
  if (!optionalScore(c.trust_score)) return 'trust_score must be a finite number or null'
  if (c.target_domain !== undefined && c.target_domain !== null && (typeof c.target_domain !== 'string' || c.target_domain === '')) return 'target_domain must be a non-empty string or null'
  if (typeof c.timestamp !== 'number' || !Number.isFinite(c.timestamp) || c.timestamp < 0) return 'timestamp must be a non-negative number of seconds'
  if (c.request_id !== undefined && (typeof c.request_id !== 'string' || c.request_id === '' || c.request_id.length > 128)) return 'request_id must be a string of 1 to 128 characters'
  return null
}

function safeCanonical (value: unknown): string | null {
  try { return canonicalize(value) } catch { return null } // also a stack overflow on absurd nesting
}

/** Counts `agentId`'s escalating decisions in the hour up to `now`. */
export function recentAlerts (state: EscalationState | undefined, agentId: string, now: number): number {
  const list = state !== undefined && Object.hasOwn(state, agentId) ? state[agentId]! : []
  let n = 0
  for (const t of list) if (t <= now && now - t < ESCALATION_WINDOW_SECONDS) n++
  return n
}

/**
 * The escalation history after `decision`: a new object (the input is not modified) in which the decision
 * is recorded if it escalates, and entries outside the window are dropped. At most `keep` entries are
 * kept per agent — the rule only asks whether the count reaches auto_restrict_after (≤ 1000).
 */
export function nextEscalation (state: EscalationState | undefined, decision: Decision, keep = 1000): EscalationState {
  const next: EscalationState = {}
  const now = decision.timestamp
  for (const [agent, list] of Object.entries(state ?? {})) {
    const live = list.filter((t) => now - t < ESCALATION_WINDOW_SECONDS)
    if (live.length > 0) next[agent] = live
  }
  if (ESCALATING.includes(decision.outcome) && decision.rule !== 'invalid_context') {
    const list = [...(next[decision.agent_id] ?? []), now].sort((a, b) => a - b)
    next[decision.agent_id] = list.slice(-keep)
  }
  return next
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '')
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function decision (c: EvaluationContext, loaded: LoadedPolicy, canonicalPayload: string | null, outcome: Outcome, rule: RuleName, reason: string, detail: string | null): Decision {
  const ts = num(c.timestamp) ?? 0
  const idSource = typeof c.request_id === 'string' && c.request_id !== '' && c.request_id.length <= 128 ? null : safeCanonical(c)
  return {
    decision_id: idSource === null ? c.request_id! : 'dec-' + sha256Hex(loaded.hash + ':' + idSource).slice(0, 32),
    agent_id: text(c.agent_id),
    agent_name: text(c.agent_name) || text(c.agent_id),
    role: text(c.role),
    action: text(c.action),
    payload_hash: sha256Hex(canonicalPayload ?? safeCanonical(c.payload) ?? ''),
    vrs: num(c.vrs),
    tsi_state: text(c.tsi_state),
    a2c_score: num(c.a2c_score),
    trust_score: num(c.trust_score),
    target_domain: typeof c.target_domain === 'string' ? c.target_domain : null,
    outcome,
    reason,
    rule,
    rule_detail: detail,
    policy_version: loaded.versionId,
    policy_hash: loaded.hash,
    timestamp: ts,
    timeout_at: outcome === 'REQUIRE_HUMAN' ? ts + loaded.policy.notification.timeout_seconds : null
  }
}

/** Evaluates one action request against a loaded policy. Never throws on bad context: it blocks. */
export function evaluate (context: EvaluationContext, loaded: LoadedPolicy, escalation?: EscalationState): Decision {
  if (loaded === null || typeof loaded !== 'object' || typeof loaded.hash !== 'string' || !Array.isArray(loaded.patterns)) {
    throw new TypeError('"policy" expected a LoadedPolicy from parsePolicy() or loadPolicy()')
  }
  const c = (context ?? {}) as EvaluationContext
  let problem = contextProblem(c)
  const canonicalPayload = problem === null ? safeCanonical(c.payload) : null
  if (problem === null && canonicalPayload === null) problem = 'payload cannot be written as canonical JSON'
  // The decision is built in decision(), a function of its own; this closure only binds the request.
  const decide = (outcome: Outcome, rule: RuleName, reason: string, detail: string | null = null): Decision => decision(c, loaded, canonicalPayload, outcome, rule, reason, detail)

  const p = loaded.policy
  if (problem !== null) return decide('BLOCK', 'invalid_context', `Invalid evaluation context: ${problem} — blocked (fail-closed)`, problem)
  const vrs = c.vrs
  const t = p.thresholds

  // 1. VRS at or above the block threshold
  if (vrs >= t.vrs_block) {
    return decide('BLOCK', 'vrs_block', `VRS ${vrs.toFixed(3)} >= block threshold ${pyFloatRepr(t.vrs_block)} [ANSSI R9 / NIST MANAGE 1.3]`)
  }
  // 2. dangerous patterns over the whole payload (bounded work; see scan.ts)
  const scan = scanPayload(c.payload, canonicalPayload!, loaded.patterns, p.limits)
  if (scan.kind === 'match') {
    return decide('BLOCK', 'dangerous_pattern', `Dangerous pattern matched: '${scan.pattern}' [ANSSI R25 / NIST MAP 5.1]`, scan.pattern)
  }
  if (scan.kind === 'too_large') {
    return decide('BLOCK', 'scan_limit', `Payload too large to scan: ${scan.chars} characters > limit ${scan.limit} — blocked (fail-closed)`, 'max_payload_chars')
  }
  if (scan.kind === 'budget') {
    return decide('BLOCK', 'scan_limit', `Dangerous-pattern scan exceeded its budget of ${scan.limit} steps — blocked (fail-closed)`, 'max_scan_steps')
  }
  // 3. least privilege: the role must exist and allow the action
  const roleReason = `Action '${c.action}' not permitted for role '${c.role}' [ANSSI R26/R30 — least privilege / NIST GOVERN 1.2]`
  if (!Object.hasOwn(p.roles, c.role)) return decide('BLOCK', 'unknown_role', roleReason, null)
  const tool = toolVerdict(p.roles[c.role]!, c.action)
  if (!tool.allowed) return decide('BLOCK', 'role_violation', roleReason, tool.entry)
  // 4. TSI critical
  if (c.tsi_state === 'CRITICAL') {
    return decide(t.tsi_critical_action, 'tsi_critical', 'TSI state CRITICAL — agent shows critical temporal drift [NIST MEASURE 2.5 / AI Act Art.9]')
  }
  // 5. network: only when the caller names the target domain
  if (typeof c.target_domain === 'string' && p.network.block_external && domainAllowedBy(p.network.allowed_domains, c.target_domain) === null) {
    return decide('BLOCK', 'network', `Domain '${c.target_domain}' not in allowed_domains whitelist [ANSSI R28 — Zero Trust network / NIST GOVERN 4.1]`, normaliseDomain(c.target_domain))
  }
  // 6. VRS at or above the human threshold
  if (vrs >= t.vrs_require_human) {
    return decide('REQUIRE_HUMAN', 'vrs_require_human', `VRS ${vrs.toFixed(3)} >= human threshold ${pyFloatRepr(t.vrs_require_human)} [ANSSI R9 / AI Act Art.14 — human oversight required]`)
  }
  // 7. TSI unstable; Vigil's push also sends "ALERT" (vigil.md §7.1), which we treat as UNSTABLE rather than ignore
  if (c.tsi_state === 'UNSTABLE' || c.tsi_state === 'ALERT') {
    const reason = c.tsi_state === 'UNSTABLE'
      ? 'TSI state UNSTABLE — agent Trust Score shows significant drift [NIST MEASURE 2.5]'
      : 'TSI state ALERT — treated as UNSTABLE [NIST MEASURE 2.5]'
    return decide(t.tsi_unstable_action, 'tsi_unstable', reason)
  }
  // 8. progressive restriction after repeated blocking decisions
  const k = p.escalation.auto_restrict_after
  const n = recentAlerts(escalation, c.agent_id, c.timestamp)
  if (n >= k) {
    return decide('RESTRICTED', 'escalation', `Escalation threshold reached: ${n} alerts in last hour (threshold=${k}) [ANSSI R27 — progressive restriction]`)
  }
  // 9. TSI watch
  if (c.tsi_state === 'WATCH') return decide('ALLOW_WITH_LOG', 'tsi_watch', 'TSI state WATCH — action allowed with enhanced logging [NIST MEASURE 2.5]')
  return decide('ALLOW', 'default', 'All policy checks passed')
}

/** evaluate() followed by nextEscalation(): the usual call for a gate that keeps escalation state. */
export function evaluateAndRecord (context: EvaluationContext, loaded: LoadedPolicy, escalation?: EscalationState): { decision: Decision, escalation: EscalationState } {
  const decision = evaluate(context, loaded, escalation)
  return { decision, escalation: nextEscalation(escalation, decision) }
}

/** The bytes that identify a decision: its canonical JSON (what tests compare and the journal hashes). */
export function decisionCanonical (d: Decision): string {
  return canonicalize(d)
}
