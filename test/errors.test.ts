// Error codes are a documented contract (README "Error codes"): this test lists them, so renaming or
// dropping one fails here first. Each table lives with its module; a code may appear in two tables
// only with the same meaning (e.g. PORT_IN_USE for the broker and the HTTP APIs).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, PcpError } from '../runtime/index.js'
import { A2AErrorCodes } from '../runtime/a2a/errors.js'
import { RpiErrorCodes } from '../rpi/errors.js'
import { Ros2ErrorCodes } from '../ros2/auditor.js'
import { TrustGateErrorCodes } from '../hub/trustgate/errors.js'
import { ServiceErrorCodes } from '../hub/trustgate/service.js'
import { PrincipalErrorCodes } from '../hub/trustgate/principal-store.js'
import { BrokerErrorCodes } from '../hub/broker.js'
import { HttpErrorCodes } from '../hub/http-common.js'
import { PoolErrorCodes } from '../hub/verify-pool.js'
import { ALERT_NOT_FOUND } from '../hub/vigil/alerts.js'
import { ROOT } from './helpers.js'

const Errors = suite('errors')

const tables: Record<string, Record<string, string>> = {
  ErrorCodes, A2AErrorCodes, RpiErrorCodes, Ros2ErrorCodes, TrustGateErrorCodes, ServiceErrorCodes, PrincipalErrorCodes,
  BrokerErrorCodes, HttpErrorCodes, PoolErrorCodes, VigilErrorCodes: { ALERT_NOT_FOUND }
}

Errors('every table maps each code to itself (the code is the stable string)', () => {
  for (const [name, table] of Object.entries(tables)) {
    for (const [k, v] of Object.entries(table)) assert.is(v, k, `${name}.${k}`)
  }
})

Errors('the contract: the codes of the protocol core', () => {
  assert.equal(Object.keys(ErrorCodes).sort(), [
    'AGENT_ID_MISMATCH', 'AGENT_NAME_INVALID', 'CANONICAL_UNSUPPORTED', 'CHAIN_LINK_BROKEN', 'EVENT_MALFORMED', 'EXPORT_HASH_MISMATCH',
    'EXPORT_MALFORMED', 'FORK_DETECTED', 'IDENTITY_EXISTS', 'IDENTITY_INVALID', 'IDENTITY_NOT_FOUND', 'JSON_INVALID', 'KEY_FILE_CORRUPTED',
    'KEY_PASSPHRASE_REQUIRED', 'KEY_PASSPHRASE_WRONG', 'NONCE_REPLAYED', 'ROTATION_INVALID', 'SIGNATURE_ENCODING', 'SIGNATURE_INVALID',
    'STORE_CLOSED', 'STORE_CORRUPTED', 'STORE_LOCKED', 'TIMESTAMP_BACKWARDS'
  ])
})

Errors('every code of every table is documented in the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const missing = Object.values(tables).flatMap((t) => Object.keys(t)).filter((c) => !readme.includes('`' + c + '`'))
  assert.equal([...new Set(missing)], [])
})

Errors('PcpError carries code, index, field and cause', () => {
  const cause = new Error('disk')
  const e = new PcpError(ErrorCodes.CHAIN_LINK_BROKEN, 'event 3: link', { index: 3, field: 'previous_hash', expected: 'a', actual: 'b', cause })
  assert.is(e.code, 'CHAIN_LINK_BROKEN'); assert.is(e.index, 3); assert.is(e.field, 'previous_hash')
  assert.is(e.expected, 'a'); assert.is(e.actual, 'b'); assert.is(e.cause, cause)
  assert.instance(e, Error)
})

Errors.run()
