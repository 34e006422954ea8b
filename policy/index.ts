// The policy engine (trustgate.md §1–§3): load and validate a policy, evaluate a request against it. Pure
// apart from loadPolicy's file read: no clock, no network, no hub. Both the hub's TrustGate
// (hub/trustgate/) and the device gate's offline fallback (sync/gate.ts) import it from here, so device
// code never depends on the hub (test/layering.test.ts holds that line).
export * from './types.js'
export { PolicyErrorCodes, type PolicyErrorCode } from './errors.js'
export { parsePolicy, loadPolicy, policyHash, versionIdOf, MAX_POLICY_BYTES } from './load.js'
export type { PolicyProblem } from './schema.js'
export { evaluate, evaluateAndRecord, nextEscalation, recentAlerts, decisionCanonical, ESCALATION_WINDOW_SECONDS } from './evaluate.js'
export { toolVerdict, globMatch, domainAllowedBy } from './rules.js'
export { compilePattern, search, MAX_STATES, STEP_STATES, type CompiledPattern } from './match.js'
export { PatternSyntaxError, MAX_REPEAT, translatePattern } from './pattern.js'
