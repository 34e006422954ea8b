// The TrustGate gate protocol over MQTT, shared by the device (sync/gate.ts) and the hub
// (hub/trustgate/gate-handler.ts). Pure: envelopes in and out, no I/O.
//
// On the agent's `up` topic (sync/topics.ts), CBOR envelopes `{ v: 1, kind, corr, auth, ... }`:
//   gate         { action, payload, request_id, target_domain?, policy_hash? }   ask for a decision
//   gate_wait    { decision_id, wait_ms }                       long-poll a REQUIRE_HUMAN decision
//   gate_policy  { policy_hash? }                               fetch the hub-signed active policy
// Every request is signed by the device: `auth: { ts, nonce, sig }`, where `sig` is the device's current
// key over the statement gateStatement() builds (runtime/statement.ts, purpose GATE_STATEMENT): the topic's
// agent id, the kind, `corr`, `ts` (Unix seconds), `nonce` (random hex) and the request's own fields (the
// payload by its hash). The hub checks it against the key its registry holds for that agent, refuses a
// `ts` more than GATE_WINDOW_SECONDS from its clock, and refuses a nonce it has already seen inside the
// window (hub/trustgate/gate-auth.ts). There is no `role`: the hub takes it from its registry, set when an
// operator approves the device (`pcp hub approve --role`); a `role` field that arrives is ignored.
// On the agent's `down` topic, with the request's `corr`:
//   gate_result  { decision_id, state, outcome, allowed, reason, rule, policy_hash, policy_version,
//                  expires_at, vrs, tsi_state, decision_event, resolution_event, policy? }
//   gate_policy_result { policy }
//   gate_error   { code, message, hub_time?, sig }   hub_time (Unix seconds) with REQUEST_STALE, so a device
//                                                   with a wrong clock can correct its offset and ask again;
//                                                   sig: the hub's, over sync/wire.ts syncAnswerStatement()
//
// Authenticity: a broker (or anyone who may publish on a `down` topic) could forge an "allowed". So the
// hub's answer carries the signed journal events of its own chain (the hub stamps every decision before
// answering): `decision_event` (trustgate.decision) and, for a human-answered request,
// `resolution_event` (trustgate.approved / rejected / timed_out). The device checks their signatures
// against the hub key it was configured with (pinned) and that they are about ITS request: its agent_id,
// the decision id derived from its random request_id, the action and the payload hash. The cached policy
// is authenticated the same way: `policy.attestation` is the hub's signed trustgate.policy_activated (or
// trustgate.policy_attested) event, whose `version` is the SHA-256 of the policy bytes.
import { encodeCbor, decodeCbor } from '../runtime/cbor.js'
// The Node entry: it installs the crypto backend that signature checks need.
import { canonicalize, deriveAgentId, sha256Hex, checkEventSignature, toHex, type AissEvent, type JsonObject, type StatementSigner } from '../runtime/index.js'

export const GATE_KINDS = {
  request: 'gate',
  wait: 'gate_wait',
  policy: 'gate_policy',
  result: 'gate_result',
  policyResult: 'gate_policy_result',
  error: 'gate_error'
} as const

/** Event types the hub signs a policy with: an activation, or a re-attestation after a restart. */
export const POLICY_ATTESTATION_TYPES = ['trustgate.policy_activated', 'trustgate.policy_attested'] as const

export type GateState = 'DECIDED' | 'PENDING' | 'APPROVED' | 'REJECTED' | 'TIMED_OUT'

export interface SignedPolicy {
  /** The policy file's bytes exactly as stored by the hub (their SHA-256 is the version id). */
  text: Uint8Array
  attestation: AissEvent
}

export interface GateResult {
  v: 1
  kind: 'gate_result'
  corr: Uint8Array
  decision_id: string
  state: GateState
  /** The outcome that applies now: ALLOW after an approval, BLOCK after a rejection or timeout. */
  outcome: string
  allowed: boolean
  reason: string
  rule: string
  policy_hash: string
  policy_version: string
  expires_at: number | null
  vrs: number | null
  tsi_state: string
  decision_event: AissEvent
  resolution_event: AissEvent | null
  policy?: SignedPolicy
}

export interface GatePolicyResult { v: 1, kind: 'gate_policy_result', corr: Uint8Array, policy: SignedPolicy }

/** `sig`: the hub's key over syncAnswerStatement() (sync/wire.ts); a device ignores a refusal without it. */
export interface GateError { v: 1, kind: 'gate_error', corr: Uint8Array, code: string, message: string, hub_time?: number, sig?: Uint8Array }

/** Purpose of a gate request's signed statement (runtime/statement.ts): never valid as a broker login. */
export const GATE_STATEMENT = 'pcp.gate-request'
/** How far (seconds) a request's `ts` may be from the hub's clock; the hub remembers nonces this long. */
export const GATE_WINDOW_SECONDS = 60
const NONCE = /^[0-9a-f]{16,64}$/

export interface GateAuth { ts: number, nonce: string, sig: Uint8Array }

/**
 * What a gate request's signature covers: the agent (the topic's id), the kind, `corr`, the auth's `ts`
 * and `nonce`, and the fields the hub acts on — the payload by its canonical hash (the hash the decision
 * names). Fields outside it (a `role`, anything unknown) do not change what the hub does. Null when the
 * envelope cannot be stated (no `corr`, a bad `ts`/`nonce`, a payload that is not canonical JSON).
 */
export function gateStatement (agentId: string, env: Record<string, unknown>, auth: { ts?: unknown, nonce?: unknown }): JsonObject | null {
  const { kind, corr } = env
  if (!(corr instanceof Uint8Array) || !Number.isSafeInteger(auth.ts) || typeof auth.nonce !== 'string' || !NONCE.test(auth.nonce)) return null
  const base: JsonObject = { agent: agentId, kind: String(kind), corr: toHex(corr), ts: auth.ts as number, nonce: auth.nonce, policy_hash: typeof env.policy_hash === 'string' ? env.policy_hash : null }
  if (kind === GATE_KINDS.request) {
    let payloadHash: string
    try { payloadHash = gatePayloadHash(env.payload as JsonObject) } catch { return null }
    return {
      ...base, action: typeof env.action === 'string' ? env.action : null, payload_hash: payloadHash,
      request_id: typeof env.request_id === 'string' ? env.request_id : null, target_domain: typeof env.target_domain === 'string' ? env.target_domain : null
    }
  }
  if (kind === GATE_KINDS.wait) return { ...base, decision_id: typeof env.decision_id === 'string' ? env.decision_id : null, wait_ms: typeof env.wait_ms === 'number' && Number.isSafeInteger(env.wait_ms) ? env.wait_ms : null }
  if (kind === GATE_KINDS.policy) return base
  return null
}

/** Adds `auth` to a device's request: `signer` is the device's key, `agentId` its chain's (topic) id. */
export function signGateRequest (signer: StatementSigner, agentId: string, env: Record<string, unknown>, ts: number, nonce: string): Record<string, unknown> {
  const statement = gateStatement(agentId, env, { ts, nonce })
  if (statement === null) throw new TypeError('gate request cannot be signed: it needs a corr, an integer ts, a hex nonce and a canonical-JSON payload')
  return { ...env, auth: { ts, nonce, sig: signer.signStatement(GATE_STATEMENT, statement) } }
}

// The store's codec (runtime/cbor.ts): a payload's -0.0, "__proto__" keys and deep nesting arrive as
// sent, so the payload hash the hub signs is the one the device computes.
export function encodeEnvelope (value: object): Uint8Array { return encodeCbor(value) }

/** Decodes untrusted bytes; null when they are not a v1 envelope object. */
export function decodeEnvelope (bytes: Uint8Array): Record<string, unknown> | null {
  let v: unknown
  try { v = decodeCbor(bytes) } catch { return null }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || (v as { v?: unknown }).v !== 1 || typeof (v as { kind?: unknown }).kind !== 'string') return null
  return v as Record<string, unknown>
}

/**
 * The decision id of a gate request: bound to the agent and its random request id, so the device can
 * tell that a signed decision answers its request and not someone else's (or an older one of its own).
 */
export function gateDecisionId (agentId: string, requestId: string): string {
  return 'dec-' + sha256Hex(`${agentId}\n${requestId}`).slice(0, 40)
}

/** The payload_hash evaluate() puts in a decision: SHA-256 hex of the payload's canonical JSON. */
export function gatePayloadHash (payload: JsonObject): string {
  return sha256Hex(canonicalize(payload))
}

export interface HubKey { agentId: string, publicKey: Uint8Array }

/** Null when `event` is a well-formed event signed by `hub`; otherwise what is wrong with it. */
export function verifyHubEvent (event: unknown, hub: HubKey): string | null {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return 'not an event object'
  const e = event as AissEvent
  if (e.agent_id !== hub.agentId) return `signed by ${String(e.agent_id)}, not the pinned hub ${hub.agentId}`
  if (typeof e.signature !== 'string' || e.payload === null || typeof e.payload !== 'object') return 'event lacks a signature or payload'
  switch (checkEventSignature(e, hub.publicKey)) {
    case 'ok': return null
    case 'encoding': return 'signature is not base64 of 64 bytes'
    case 'not_canonical': return 'event cannot be canonicalised'
    default: return 'signature does not verify with the hub key'
  }
}

export function hubKeyOf (publicKey: Uint8Array): HubKey {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new TypeError('"hubPublicKey" expected 32 bytes')
  return { agentId: deriveAgentId(publicKey), publicKey }
}

/**
 * Checks a signed policy against the pinned hub key: the attestation is the hub's, of an attesting type,
 * and names the SHA-256 of exactly these bytes. Null when good.
 */
export function verifySignedPolicy (sp: unknown, hub: HubKey): string | null {
  if (sp === null || typeof sp !== 'object') return 'no signed policy'
  const { text, attestation } = sp as SignedPolicy
  if (!(text instanceof Uint8Array)) return 'policy bytes missing'
  const bad = verifyHubEvent(attestation, hub)
  if (bad !== null) return `attestation: ${bad}`
  const type = attestation.payload.event_type
  if (!(POLICY_ATTESTATION_TYPES as readonly unknown[]).includes(type)) return `attestation is a ${String(type)} event`
  const hash = sha256Hex(text)
  if (attestation.payload.version !== hash) return `policy bytes hash to ${hash}, the attestation names ${String(attestation.payload.version)}`
  return null
}

/** Whether a signed trustgate.decision event is the hub's answer to this device's request. */
export function decisionEventProblem (ev: AissEvent, expect: { agentId: string, decisionId: string, action: string, payloadHash: string }): string | null {
  if (ev.payload.event_type !== 'trustgate.decision') return `expected a trustgate.decision event, got ${String(ev.payload.event_type)}`
  const d = ev.payload.decision as Record<string, unknown> | undefined
  if (d === null || typeof d !== 'object') return 'decision event has no decision'
  if (d.decision_id !== expect.decisionId) return `decision ${String(d.decision_id)} is not the one requested (${expect.decisionId})`
  if (d.agent_id !== expect.agentId) return `decision is for agent ${String(d.agent_id)}`
  if (d.action !== expect.action) return `decision is for action ${String(d.action)}`
  if (d.payload_hash !== expect.payloadHash) return 'decision is for another payload'
  return null
}

const RESOLUTION_TYPES: Record<string, GateState> = { 'trustgate.approved': 'APPROVED', 'trustgate.rejected': 'REJECTED', 'trustgate.timed_out': 'TIMED_OUT' }

/** The state a signed resolution event proves for `decisionId`, or a problem string. */
export function resolutionState (ev: AissEvent, decisionId: string): { state: GateState, outcome: string } | string {
  const state = RESOLUTION_TYPES[String(ev.payload.event_type)]
  if (state === undefined) return `expected a resolution event, got ${String(ev.payload.event_type)}`
  if (ev.payload.decision_id !== decisionId) return `resolution is for decision ${String(ev.payload.decision_id)}`
  const outcome = ev.payload.final_outcome
  if (typeof outcome !== 'string') return 'resolution has no final_outcome'
  return { state, outcome }
}
