// Shapes of TrustGate: the policy (trustgate.md §1), the evaluation context and the decision (§3).
// Plain JSON-able objects, so a decision's canonical form can be hashed, journaled and compared byte for byte.
import type { JsonObject, JsonValue } from '../runtime/value.js'
import type { CompiledPattern } from './match.js'

/** Every outcome of the reference (§3.1). QUARANTINE is never produced by evaluate(), as in the reference. */
export const OUTCOMES = ['ALLOW', 'ALLOW_WITH_LOG', 'RESTRICTED', 'REQUIRE_HUMAN', 'BLOCK', 'QUARANTINE'] as const
export type Outcome = typeof OUTCOMES[number]
/** Outcomes a policy may assign to the TSI rules. */
export const GATE_OUTCOMES = ['ALLOW', 'REQUIRE_HUMAN', 'BLOCK', 'RESTRICTED'] as const
export type GateOutcome = typeof GATE_OUTCOMES[number]
export const ON_TIMEOUT = ['REJECT', 'BLOCK', 'ESCALATE'] as const
export type OnTimeout = typeof ON_TIMEOUT[number]
export const TSI_STATES = ['STABLE', 'WATCH', 'UNSTABLE', 'CRITICAL', 'ALERT'] as const
export type TsiState = typeof TSI_STATES[number]

/** Outcomes that stop the action (§3.1 is_blocking, plus RESTRICTED as the bridges treat it). */
export const BLOCKING: readonly Outcome[] = ['REQUIRE_HUMAN', 'BLOCK', 'QUARANTINE', 'RESTRICTED']

export interface RolePolicy { allowed_tools: string[], blocked_tools: string[] }

export interface Policy {
  version: string
  name: string
  profile: string
  author: string
  description: string
  created_at: number | null
  thresholds: { vrs_require_human: number, vrs_block: number, tsi_unstable_action: GateOutcome, tsi_critical_action: GateOutcome }
  roles: { [role: string]: RolePolicy }
  escalation: { max_watch_events: number, auto_restrict_after: number, restrict_duration_minutes: number }
  network: { allowed_domains: string[], block_external: boolean, log_external_calls: boolean }
  notification: {
    timeout_seconds: number
    on_timeout: OnTimeout
    require_justification: boolean
    channels: JsonObject[]
    /** If not empty: the only principals (by id or name) who may approve under this policy. */
    principals: string[]
  }
  dangerous_patterns: string[]
  /** Extension: the bound on the work of the pattern scan (issue 8). */
  limits: { max_payload_chars: number, max_scan_steps: number }
}

/** Reference defaults (§1); created_at has none here, because "now" would make loading impure. */
export const DEFAULT_POLICY: Policy = {
  version: '1.0', name: 'default', profile: 'custom', author: '', description: '', created_at: null,
  thresholds: { vrs_require_human: 0.6, vrs_block: 0.85, tsi_unstable_action: 'REQUIRE_HUMAN', tsi_critical_action: 'BLOCK' },
  roles: {},
  escalation: { max_watch_events: 3, auto_restrict_after: 5, restrict_duration_minutes: 60 },
  network: { allowed_domains: [], block_external: true, log_external_calls: true },
  notification: { timeout_seconds: 300, on_timeout: 'REJECT', require_justification: false, channels: [], principals: [] },
  dangerous_patterns: [],
  limits: { max_payload_chars: 65_536, max_scan_steps: 4_000_000 }
}

/** A validated policy together with what was derived from its bytes. Immutable once loaded. */
export interface LoadedPolicy {
  readonly policy: Policy
  /** SHA-256 hex of the raw file bytes, exactly as read (no newline or BOM normalisation; gaps.md #52). */
  readonly hash: string
  /** `name@version`, without doubling a version that already starts with `name@` (gaps.md #48). */
  readonly versionId: string
  readonly patterns: readonly CompiledPattern[]
  readonly warnings: readonly string[]
  readonly text: string
}

/** What the caller knows about the action. Untrusted: evaluate() checks it and fails closed. */
export interface EvaluationContext {
  agent_id: string
  agent_name?: string
  role: string
  action: string
  payload: JsonObject
  vrs: number
  tsi_state: TsiState | string
  a2c_score?: number | null
  trust_score?: number | null
  target_domain?: string | null
  /** Unix seconds, supplied by the caller: evaluate() never reads a clock. */
  timestamp: number
  /** Caller's id for this request; the decision id derives from it (or from the whole context if absent). */
  request_id?: string
}

export type RuleName =
  | 'invalid_context' | 'vrs_block' | 'scan_limit' | 'dangerous_pattern' | 'unknown_role' | 'role_violation'
  | 'tsi_critical' | 'network' | 'vrs_require_human' | 'tsi_unstable' | 'escalation' | 'tsi_watch' | 'default'

export interface Decision {
  decision_id: string
  agent_id: string
  agent_name: string
  role: string
  action: string
  /** SHA-256 hex of the payload's canonical JSON (the reference kept 16 hex of a Python dump). */
  payload_hash: string
  vrs: number | null
  tsi_state: string
  a2c_score: number | null
  trust_score: number | null
  target_domain: string | null
  outcome: Outcome
  reason: string
  /** Which rule decided (first match wins) and what in it matched (pattern, tool entry, domain…). */
  rule: RuleName
  rule_detail: string | null
  policy_version: string
  policy_hash: string
  timestamp: number
  /** For REQUIRE_HUMAN: when the request lapses (timestamp + notification.timeout_seconds). */
  timeout_at: number | null
}

/** Recent blocking decisions per agent, for the escalation rule (§3 step 8). Passed in, returned: never global. */
export interface EscalationState { [agentId: string]: number[] }

export type { JsonObject, JsonValue }
