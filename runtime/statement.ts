// Signed statements: what a device's key attests that is not an event of its chain — a TrustGate request
// (sync/gate-wire.ts), a broker login (sync/broker-auth.ts). Pure.
//
// Domain separation is the invariant: an event's signature covers its canonical JSON, which starts with
// `{`; a statement's signed bytes start with STATEMENT_PREFIX and name their purpose. So no statement
// can ever be presented as an event (or the other way round), and a gate request's signature can never
// be replayed as a broker login. The body is canonical JSON (runtime/canonical.ts), so both sides derive
// the same bytes from the same fields.
import { canonicalBytes } from './canonical.js'
import { crypto } from './crypto.js'
import type { JsonObject } from './value.js'

export const STATEMENT_PREFIX = 'PCP-STATEMENT-v1\n'
const PURPOSE = /^[a-z][a-z0-9.-]{0,63}$/

/** Whatever can sign a statement: an Agent, or an Identity wrapped by statementSigner(). */
export interface StatementSigner {
  /** The key's agent_id (after a rotation, the new key's). */
  readonly agentId: string
  /** The key's public half: what a verifier checks the signature with. */
  readonly publicKey: Uint8Array
  signStatement (purpose: string, body: JsonObject): Uint8Array
}

/** The bytes a statement's signature covers: prefix, purpose, newline, canonical JSON of `body`. */
export function statementBytes (purpose: string, body: JsonObject): Uint8Array {
  if (typeof purpose !== 'string' || !PURPOSE.test(purpose)) throw new TypeError(`"purpose" expected 1-64 of [a-z0-9.-], got ${JSON.stringify(purpose)}`)
  const head = new TextEncoder().encode(`${STATEMENT_PREFIX}${purpose}\n`)
  const json = canonicalBytes(body)
  const out = new Uint8Array(head.length + json.length)
  out.set(head); out.set(json, head.length)
  return out
}

/** Signs with anything that has `sign(bytes)` (an Identity). */
export function signStatement (key: { sign (message: Uint8Array): Uint8Array }, purpose: string, body: JsonObject): Uint8Array {
  return key.sign(statementBytes(purpose, body))
}

/** An Identity as a StatementSigner (for processes that hold the key but not the Agent, e.g. `pcp sync run`). */
export function statementSigner (identity: { agentId: string, publicKey: Uint8Array, sign (message: Uint8Array): Uint8Array }): StatementSigner {
  return { agentId: identity.agentId, publicKey: identity.publicKey, signStatement: (purpose, body) => signStatement(identity, purpose, body) }
}

/** True when `signature` (64 bytes) is `publicKey`'s over this statement. Never throws for bad input. */
export function verifyStatement (signature: unknown, purpose: string, body: JsonObject, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false
  let bytes: Uint8Array
  try { bytes = statementBytes(purpose, body) } catch { return false }
  try { return crypto().verify(signature, bytes, publicKey) } catch { return false }
}
