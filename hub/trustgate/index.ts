// TrustGate core: policy loading, deterministic evaluation (both from policy/, the engine device code shares),
// versioning, approval queue, journal.
export * from '../../policy/index.js'
export { TrustGateErrorCodes, type TrustGateErrorCode } from './errors.js'
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
export { FileTrustGateState, type TrustGateState, type PolicyVersions, type JournalReader } from './state.js'
