// Error codes are a documented contract (README "Error codes"): this test lists them, so renaming or
// dropping one fails here first. Each table lives with its module; a code may appear in two tables
// only with the same meaning (e.g. PORT_IN_USE for the broker and the HTTP APIs).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, PcpError } from '../runtime/index.js'
import { A2AErrorCodes } from '../runtime/a2a/errors.js'
import { RpiErrorCodes } from '../rpi/errors.js'
import { Ros2ErrorCodes } from '../ros2/auditor.js'
import { PolicyErrorCodes } from '../policy/errors.js'
import { TrustGateErrorCodes } from '../hub/trustgate/errors.js'
import { ServiceErrorCodes } from '../hub/trustgate/service.js'
import { PrincipalErrorCodes } from '../hub/trustgate/principal-store.js'
import { BrokerErrorCodes } from '../hub/broker.js'
import { HttpErrorCodes } from '../hub/http-common.js'
import { PoolErrorCodes } from '../hub/verify-pool.js'
import { SyncErrorCodes } from '../sync/errors.js'
import { RegistryErrorCodes } from '../hub/registry.js'
import { HubStoreErrorCodes } from '../hub/store/level.js'
import { GateAuthCodes } from '../hub/trustgate/gate-auth.js'
import { TsaErrorCodes } from '../runtime/tsa/errors.js'
import { ROOT } from './helpers.js'

const Errors = suite('errors')

const tables: Record<string, Record<string, string>> = {
  ErrorCodes, A2AErrorCodes, RpiErrorCodes, Ros2ErrorCodes, PolicyErrorCodes, TrustGateErrorCodes, ServiceErrorCodes, PrincipalErrorCodes,
  BrokerErrorCodes, HttpErrorCodes, PoolErrorCodes, SyncErrorCodes, RegistryErrorCodes, HubStoreErrorCodes, GateAuthCodes, TsaErrorCodes
}

/** Codes thrown as literals (HTTP routes, CLI) rather than through a table: found in the sources. */
function literalCodes (): string[] {
  const found = new Set<string>()
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f)
      if (statSync(p).isDirectory()) { if (f !== 'examples') walk(p); continue }
      if (!p.endsWith('.ts')) continue
      const text = readFileSync(p, 'utf8')
      for (const m of text.matchAll(/PcpError\('([A-Z0-9_]+)'/g)) found.add(m[1]!)
      for (const m of text.matchAll(/httpError\(\d+, '([A-Z0-9_]+)'/g)) found.add(m[1]!)
      for (const m of text.matchAll(/export const ([A-Z_]+) = '([A-Z][A-Z0-9_]+)'/g)) if (m[1] === m[2]) found.add(m[2]!)
    }
  }
  for (const d of ['runtime', 'policy', 'hub', 'sync', 'rpi', 'ros2', 'cli']) walk(join(ROOT, d))
  return [...found]
}

Errors('every table maps each code to itself (the code is the stable string)', () => {
  for (const [name, table] of Object.entries(tables)) {
    for (const [k, v] of Object.entries(table)) assert.is(v, k, `${name}.${k}`)
  }
})

Errors('the contract: the codes of the protocol core', () => {
  assert.equal(Object.keys(ErrorCodes).sort(), [
    'AGENT_ID_MISMATCH', 'AGENT_NAME_INVALID', 'CANONICAL_TOO_DEEP', 'CANONICAL_UNSUPPORTED', 'CHAIN_LINK_BROKEN', 'EVENT_MALFORMED', 'EVENT_TOO_LARGE', 'EXPORT_HASH_MISMATCH',
    'EXPORT_MALFORMED', 'FILE_WRITE_FAILED', 'FORK_DETECTED', 'HISTORY_CONFLICT', 'HISTORY_INVALID', 'HISTORY_LOCKED', 'HISTORY_PASSPHRASE_WRONG', 'HISTORY_UNREADABLE', 'IDENTITY_EXISTS', 'IDENTITY_INVALID', 'IDENTITY_NOT_FOUND', 'JSON_INVALID', 'KEY_FILE_CORRUPTED',
    'KEY_PASSPHRASE_REQUIRED', 'KEY_PASSPHRASE_WRONG', 'NONCE_REPLAYED', 'PQ_SIGNATURE_ROUND3', 'PQ_UNAVAILABLE', 'PROFILE_DOWNGRADE', 'PROFILE_MISMATCH', 'PROFILE_UPGRADE_INVALID', 'ROTATION_INVALID', 'SIGNATURE_ENCODING', 'SIGNATURE_INVALID',
    'STORE_CLOSED', 'STORE_CORRUPTED', 'STORE_LOCKED', 'STORE_NO_SPACE', 'STORE_WRITE_FAILED', 'TIMESTAMP_BACKWARDS'
  ])
})

Errors('every code of every table is documented in the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const all = [...Object.values(tables).flatMap((t) => Object.keys(t)), ...literalCodes()]
  assert.ok(all.length > 100, `found ${all.length} codes`)
  const missing = all.filter((c) => !readme.includes('`' + c + '`'))
  assert.equal([...new Set(missing)], [])
})

Errors('the contract: the codes of trusted time (runtime/tsa/errors.ts)', () => {
  assert.equal(Object.keys(TsaErrorCodes).sort(), [
    'ANCHOR_INVALID', 'ANCHOR_ROOT_MISMATCH', 'ANCHOR_TIME_INCONSISTENT', 'FORK_AFTER_FINALIZATION', 'MERKLE_PROOF_INVALID',
    'TSA_CERT_EXPIRED', 'TSA_CERT_REVOKED', 'TSA_CHAIN_UNTRUSTED', 'TSA_CONTENT_TYPE', 'TSA_CRL_INVALID', 'TSA_CRL_MISSING', 'TSA_CRYPTO_UNAVAILABLE', 'TSA_EKU_INVALID', 'TSA_ESS_MISMATCH', 'TSA_ESS_MISSING', 'TSA_HASH_ALGORITHM',
    'TSA_HTTP_ERROR', 'TSA_IMPRINT_MISMATCH', 'TSA_KEY_USAGE_INVALID', 'TSA_MESSAGE_DIGEST_MISMATCH', 'TSA_NAME_MISMATCH', 'TSA_NONCE_MISMATCH',
    'TSA_NO_TRUST_ROOTS', 'TSA_OCSP_INVALID', 'TSA_OCSP_UNKNOWN', 'TSA_POLICY_REJECTED', 'TSA_REVOCATION_MISSING', 'TSA_REVOCATION_UNAVAILABLE', 'TSA_SIGNATURE_INVALID', 'TSA_SIGNED_ATTRS_INVALID', 'TSA_SIGNER_CERT_MISSING', 'TSA_SIGNER_COUNT',
    'TSA_STATUS_REJECTED', 'TSA_TOKEN_MALFORMED', 'TSA_TRUST_ROOT_INVALID', 'TSA_TSTINFO_INVALID', 'TSA_UNAVAILABLE'
  ])
})

Errors('PcpError carries code, index, field and cause', () => {
  const cause = new Error('disk')
  const e = new PcpError(ErrorCodes.CHAIN_LINK_BROKEN, 'event 3: link', { index: 3, field: 'previous_hash', expected: 'a', actual: 'b', cause })
  assert.is(e.code, 'CHAIN_LINK_BROKEN'); assert.is(e.index, 3); assert.is(e.field, 'previous_hash')
  assert.is(e.expected, 'a'); assert.is(e.actual, 'b'); assert.is(e.cause, cause)
  assert.instance(e, Error)
})

Errors.run()
