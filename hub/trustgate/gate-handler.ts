// Hub side of the device gate (sync/gate-wire.ts describes the protocol). Takes the `kind: 'gate*'`
// envelopes that arrive on an agent's `up` topic and returns the envelope for its `down` topic. The agent
// id comes from the topic, never from the payload: the reply goes to the same agent's `down` topic. The
// topic alone proves nothing (anyone the broker lets publish there could have sent it), so every request
// must be signed by that agent's registered key, fresh and not replayed (gate-auth.ts) before it reaches
// the service; the role is the registry's. A refusal is answered (so an honest device learns why) and
// counted, never journalled.
import { parseTopic, downTopic, DEFAULT_PREFIX } from '../../sync/topics.js'
import {
  GATE_KINDS, decodeEnvelope, encodeEnvelope, gateDecisionId, type GateError, type GatePolicyResult, type GateResult
} from '../../sync/gate-wire.js'
import { PcpError } from '../../runtime/errors.js'
import type { StatementSigner } from '../../runtime/statement.js'
import { syncAnswerStatement, SYNC_ANSWER_STATEMENT } from '../../sync/wire.js'
import type { JsonObject } from '../../runtime/value.js'
import type { DecisionRecord, TrustGateService } from './service.js'
import { GateAuthenticator, type GateAuthCode, type GateDevices } from './gate-auth.js'

/** A gate_wait is held at most this long; the device asks again if it wants to wait longer. */
export const MAX_WAIT_MS = 30_000
const REQUEST_ID = /^[0-9a-f]{16,64}$/
const NAME = /^[\x21-\x7e]{1,128}$/

export interface GateHandler {
  /** Handles one decoded envelope from `agentId`; null when it is not a gate request (someone else's kind). */
  handle (agentId: string, envelope: Record<string, unknown>): Promise<GateResult | GatePolicyResult | GateError | null>
  /** Handles one MQTT message; null when it is not for the gate. Never throws for bad input. */
  handleMessage (topic: string, payload: Uint8Array): Promise<{ topic: string, payload: Uint8Array } | null>
}

export interface GateHandlerOptions {
  /** Who may ask, with which key and role: the hub's registry (hub/registry.ts gateDevices()). */
  devices: GateDevices
  prefix?: string
  /** Unix seconds, for the freshness window. */
  now?: () => number
  /** Called once per refused request with its code (the hub counts them in pcp_gate_refused_total). */
  onRefused?: (code: GateAuthCode) => void
  /**
   * The hub's key, to sign refusals (sync/wire.ts syncAnswerStatement): a device acts only on what the
   * hub signed, so an unsigned `gate_error` is no answer to it (a forgery could otherwise pre-empt the
   * real one, or set its clock offset with a false REQUEST_STALE).
   */
  signer?: StatementSigner
}

export function createGateHandler (service: TrustGateService, opts: GateHandlerOptions): GateHandler {
  if (typeof service?.evaluate !== 'function') throw new TypeError('"service" expected a TrustGateService')
  const prefix = opts?.prefix ?? DEFAULT_PREFIX
  const auth = new GateAuthenticator(opts?.devices, opts.now ? { now: opts.now } : {})

  const result = (corr: Uint8Array, rec: DecisionRecord, policyHashHeld: unknown): GateResult => {
    const d = rec.decision
    const out: GateResult = {
      v: 1, kind: 'gate_result', corr, decision_id: d.decision_id, state: rec.state, outcome: rec.final_outcome, allowed: rec.allowed,
      reason: rec.resolution === null ? d.reason : `${d.reason} — ${rec.state.toLowerCase()}${rec.resolution.principal_id ? ` by ${rec.resolution.principal_id}` : ''}`,
      rule: d.rule, policy_hash: d.policy_hash, policy_version: d.policy_version, expires_at: rec.expires_at,
      vrs: d.vrs, tsi_state: d.tsi_state, decision_event: rec.decision_event, resolution_event: rec.resolution_event
    }
    // Send the signed policy when the device's cached copy is not the active one.
    const sp = service.signedPolicy()
    if (sp !== null && policyHashHeld !== sp.attestation.payload.version) out.policy = sp
    return out
  }

  async function handle (agentId: string, env: Record<string, unknown>): Promise<GateResult | GatePolicyResult | GateError | null> {
    const fail = (corr: Uint8Array, code: string, message: string, hubTime?: number): GateError => {
      const out: GateError = { v: 1, kind: 'gate_error', corr, code, message, ...(hubTime !== undefined ? { hub_time: hubTime } : {}) }
      const statement = opts.signer === undefined ? null : syncAnswerStatement(agentId, out as unknown as Record<string, unknown>)
      return statement === null ? out : { ...out, sig: opts.signer!.signStatement(SYNC_ANSWER_STATEMENT, statement) }
    }
    const kind = env.kind
    if (kind !== GATE_KINDS.request && kind !== GATE_KINDS.wait && kind !== GATE_KINDS.policy) return null
    const corr = env.corr
    if (!(corr instanceof Uint8Array) || corr.length < 8 || corr.length > 16) return null // nobody could match an answer
    const who = auth.check(agentId, env)
    if (!who.ok) {
      opts.onRefused?.(who.code)
      return fail(corr, who.code, who.message, who.hubTime)
    }
    try {
      if (kind === GATE_KINDS.policy) {
        const sp = service.signedPolicy()
        if (sp === null) return fail(corr, 'NO_ACTIVE_POLICY', 'the hub has no active policy')
        return { v: 1, kind: 'gate_policy_result', corr, policy: sp }
      }
      if (kind === GATE_KINDS.wait) {
        const id = env.decision_id
        if (typeof id !== 'string' || !id.startsWith('dec-')) return fail(corr, 'REQUEST_INVALID', 'decision_id must be a gate decision id')
        const ms = typeof env.wait_ms === 'number' && Number.isFinite(env.wait_ms) ? Math.min(Math.max(env.wait_ms, 0), MAX_WAIT_MS) : 0
        const rec = await service.waitForResolution(id, ms)
        // Only the agent the decision is about may read it.
        if (rec === undefined || rec.decision.agent_id !== agentId) return fail(corr, 'DECISION_NOT_FOUND', `no decision ${id} for this agent`)
        return result(corr, rec, env.policy_hash)
      }
      // A `role` in the envelope is the device's wish, not a fact: the registry's role decides.
      const { action, payload, request_id: requestId } = env
      if (typeof action !== 'string' || !NAME.test(action)) return fail(corr, 'REQUEST_INVALID', 'action must be 1-128 printable ASCII characters')
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || payload instanceof Uint8Array) return fail(corr, 'REQUEST_INVALID', 'payload must be a map')
      if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) return fail(corr, 'REQUEST_INVALID', 'request_id must be 16-64 lower-case hex digits')
      const td = env.target_domain
      const rec = await service.evaluate({
        agent_id: agentId, action, payload: payload as JsonObject, role: who.role,
        ...(typeof td === 'string' && td !== '' ? { target_domain: td } : {})
      }, { source: 'gate', decisionId: gateDecisionId(agentId, requestId) })
      return result(corr, rec, env.policy_hash)
    } catch (err) {
      // The device fails closed on any error; it only needs to know why.
      const code = err instanceof PcpError ? err.code : 'INTERNAL'
      return fail(corr, code, (err as Error).message)
    }
  }

  return {
    handle,
    async handleMessage (topic, payload) {
      const t = parseTopic(topic, prefix)
      if (!t.ok || t.channel !== 'up') return null
      const env = payload instanceof Uint8Array ? decodeEnvelope(payload) : null
      if (env === null) return null
      const out = await handle(t.agentId, env)
      return out === null ? null : { topic: downTopic(t.agentId, prefix), payload: encodeEnvelope(out) }
    }
  }
}
