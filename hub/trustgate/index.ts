// TrustGate core: policy loading, deterministic evaluation, versioning, approval queue, journal.
export * from './types.js'
export { TrustGateErrorCodes, type TrustGateErrorCode } from './errors.js'
export { parsePolicy, loadPolicy, policyHash, versionIdOf, MAX_POLICY_BYTES } from './policy.js'
export type { PolicyProblem } from './schema.js'
export { evaluate, evaluateAndRecord, nextEscalation, recentAlerts, decisionCanonical, ESCALATION_WINDOW_SECONDS } from './evaluate.js'
export { toolVerdict, globMatch, domainAllowedBy } from './rules.js'
export { compilePattern, search, MAX_STATES, type CompiledPattern } from './nfa.js'
export { PatternSyntaxError, MAX_REPEAT } from './regex.js'
export { PolicyVersionStore, diffPolicies, type ActivationRecord, type PolicyChange, type IntegrityProblem } from './versions.js'
export {
  ApprovalQueue, approvalTerms, JOURNAL_TYPES, type ApprovalTerms, type PendingApproval, type Resolution,
  type ResolutionState, type JournalEntry, type QueueOptions
} from './queue.js'
export {
  CLEARANCES, CLEARANCE_CEILING, requiredClearance, nextClearance, clearanceRank, staticDirectory,
  type Clearance, type Principal, type PrincipalDirectory
} from './principals.js'
export { StamperJournal, decisionEntry, activationEntry, journalEntries } from './journal.js'
export { PROFILE_NAMES, profilePath, loadProfile, type ProfileName } from './profiles.js'
