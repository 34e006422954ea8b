// The policy engine's error codes: loading and validating a policy, and its integrity. Same contract as
// runtime/errors.ts ErrorCodes (stable strings, listed by test/errors.test.ts). hub/trustgate/errors.ts
// spreads this table into TrustGateErrorCodes, so a hub client sees the same codes it always saw.
export const PolicyErrorCodes = {
  POLICY_LOAD_FAILED: 'POLICY_LOAD_FAILED', // missing/unreadable file, unsupported extension, too large, not UTF-8
  POLICY_INVALID: 'POLICY_INVALID', // YAML or schema problems; `problems: [{path, line, column, message}]`
  POLICY_INTEGRITY: 'POLICY_INTEGRITY' // bytes do not hash to the expected value
} as const

export type PolicyErrorCode = typeof PolicyErrorCodes[keyof typeof PolicyErrorCodes]
