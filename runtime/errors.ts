// Every operational error of pcp-edge, with a stable `code` (a documented contract: test/errors.test.ts
// lists them) and the offending values as fields. Programmer mistakes throw TypeError/RangeError instead.

export interface PcpErrorFields {
  index?: number
  field?: string
  file?: string
  agent?: string
  key?: string
  expected?: unknown
  actual?: unknown
  cause?: unknown
  [more: string]: unknown
}

export class PcpError extends Error {
  readonly code: string
  readonly index?: number
  readonly field?: string
  readonly file?: string
  readonly agent?: string
  readonly key?: string
  readonly expected?: unknown
  readonly actual?: unknown

  constructor (code: string, message: string, fields: PcpErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'PcpError'
    this.code = code
    const { cause: _cause, ...rest } = fields
    Object.assign(this, rest)
  }
}

/** Codes, grouped by concern. Adding one is fine; renaming one breaks users' error handling. */
export const ErrorCodes = {
  // canonical form and JSON
  CANONICAL_UNSUPPORTED: 'CANONICAL_UNSUPPORTED', // NaN, Infinity, lone surrogate, a value JSON cannot hold
  CANONICAL_TOO_DEEP: 'CANONICAL_TOO_DEEP', // arrays/objects nested deeper than MAX_DEPTH (runtime/value.ts)
  EVENT_TOO_LARGE: 'EVENT_TOO_LARGE', // stamp(): more canonical bytes than the agent's maxEventBytes (runtime/agent-stamp.ts)
  JSON_INVALID: 'JSON_INVALID',
  // keys and identities
  KEY_FILE_CORRUPTED: 'KEY_FILE_CORRUPTED',
  KEY_PASSPHRASE_WRONG: 'KEY_PASSPHRASE_WRONG',
  KEY_PASSPHRASE_REQUIRED: 'KEY_PASSPHRASE_REQUIRED',
  IDENTITY_INVALID: 'IDENTITY_INVALID',
  IDENTITY_NOT_FOUND: 'IDENTITY_NOT_FOUND',
  IDENTITY_EXISTS: 'IDENTITY_EXISTS',
  AGENT_NAME_INVALID: 'AGENT_NAME_INVALID',
  // chain verification (one per kind of fault; see runtime/verify.ts)
  EVENT_MALFORMED: 'EVENT_MALFORMED',
  SIGNATURE_ENCODING: 'SIGNATURE_ENCODING',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  AGENT_ID_MISMATCH: 'AGENT_ID_MISMATCH',
  CHAIN_LINK_BROKEN: 'CHAIN_LINK_BROKEN',
  TIMESTAMP_BACKWARDS: 'TIMESTAMP_BACKWARDS',
  NONCE_REPLAYED: 'NONCE_REPLAYED',
  FORK_DETECTED: 'FORK_DETECTED',
  ROTATION_INVALID: 'ROTATION_INVALID',
  // AISS-2 profile (runtime/aiss2-event.ts, runtime/profile.ts)
  PROFILE_MISMATCH: 'PROFILE_MISMATCH', // an AISS-2.0 event without a valid post-quantum half, wrong labels, or no bound ML-DSA key
  PROFILE_DOWNGRADE: 'PROFILE_DOWNGRADE', // an AISS-1.0 event where the chain's recorded profile requires AISS-2.0
  PROFILE_UPGRADE_INVALID: 'PROFILE_UPGRADE_INVALID', // a profile_upgrade event whose payload cannot be taken (key, policy)
  PQ_SIGNATURE_ROUND3: 'PQ_SIGNATURE_ROUND3', // a 3293-byte round-3 Dilithium3 signature where FIPS 204 ML-DSA-65 (3309) is required
  PQ_UNAVAILABLE: 'PQ_UNAVAILABLE', // no ML-DSA backend installed in this process: the event is refused, not skipped
  // audit exports
  EXPORT_MALFORMED: 'EXPORT_MALFORMED',
  EXPORT_HASH_MISMATCH: 'EXPORT_HASH_MISMATCH',
  // files written whole or not at all (runtime/fsutil.ts): exports, state files, key output
  FILE_WRITE_FAILED: 'FILE_WRITE_FAILED', // could not be written in full (disk full, read-only, limit): `file` names it, `cause` the errno; nothing was replaced
  // device store
  STORE_LOCKED: 'STORE_LOCKED',
  STORE_CORRUPTED: 'STORE_CORRUPTED',
  STORE_CLOSED: 'STORE_CLOSED',
  STORE_NO_SPACE: 'STORE_NO_SPACE', // disk full (ENOSPC/EDQUOT): `file` is the store directory, `needed` the bytes to free
  STORE_WRITE_FAILED: 'STORE_WRITE_FAILED', // any other write error; writes are refused until the store is reopened
  // a reference agent directory's own history (runtime/reference-history.ts)
  HISTORY_UNREADABLE: 'HISTORY_UNREADABLE',
  HISTORY_INVALID: 'HISTORY_INVALID',
  HISTORY_LOCKED: 'HISTORY_LOCKED',
  HISTORY_PASSPHRASE_WRONG: 'HISTORY_PASSPHRASE_WRONG',
  HISTORY_CONFLICT: 'HISTORY_CONFLICT'
} as const

export type ErrorCode = typeof ErrorCodes[keyof typeof ErrorCodes]
