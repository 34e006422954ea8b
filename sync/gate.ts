// DeviceGate: `await gate.check(action, payload)` asks the hub's TrustGate over MQTT (request / response
// with a random correlation id, bounded wait: sync/gate-requests.ts), and stamps the decision into the
// device's chain before returning it. It satisfies the bridges' gate hooks (rpi ActionGate, ros2 Gate).
//
// Every request is signed by the device's key, with a timestamp and a fresh nonce (sync/gate-wire.ts):
// the hub answers nothing it cannot attribute. The role is the hub's (set at `pcp hub approve --role`):
// a `role` passed here only chooses the role the cached policy is evaluated under while the hub has not
// yet named one (offline before any answer); once the hub has answered, its role is used offline too.
//
// Who decided is in every stamped `gate_decision` event (`source`):
//   hub            the hub answered, and its answer is proved by the hub's signed journal events
//                  (sync/gate-wire.ts); an answer that fails that check is treated as no answer at all.
//   cached_policy  the hub did not answer in time: the device evaluated its cached copy of the active
//                  policy, which the hub signed and the device re-verifies against the pinned hub key.
//   fail_closed    nothing trustworthy to decide with (no or tampered cache, hub error, unauthenticated
//                  answer), or the cached policy would need a human, whom only the hub can reach: denied.
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { verifyStatement, eventHash, parseIdentityDocument, fromBase64Strict, toHex, type AissEvent, type IdentityDocument, type JsonObject, type Stamper, type StatementSigner } from '../runtime/index.js'
import { evaluateAndRecord } from '../policy/evaluate.js'
import type { EscalationState } from '../policy/types.js'
import { DEFAULT_PREFIX } from './topics.js'
import { PolicyCache } from './policy-cache.js'
import {
  GATE_KINDS, decisionEventProblem, gateDecisionId, gatePayloadHash, hubKeyOf, resolutionState, verifyHubEvent, verifySignedPolicy,
  type GateState, type HubKey, type SignedPolicy
} from './gate-wire.js'
import { GateRequests, type Accept } from './gate-requests.js'
import { syncAnswerStatement, SYNC_ANSWER_STATEMENT } from './wire.js'

export type GateSource = 'hub' | 'cached_policy' | 'fail_closed'

/** A type (not an interface) so it fits the bridges' `{ allowed, reason?, [more]: unknown }` hooks. */
export type GateVerdict = {
  allowed: boolean
  reason: string
  outcome: string
  source: GateSource
  decisionId: string
  state: GateState
  rule: string | null
  policyHash: string | null
  /** Hash of the hub's signed trustgate.decision event (a link from the device's chain to the hub's). */
  hubEventHash: string | null
  /** The role the decision was made under: the hub's registry role (or, offline, the cached policy's evaluation role); null when none was. */
  role: string | null
  /** The gate_decision event stamped into the device's chain. */
  event: AissEvent
}

export interface DeviceGateOptions {
  /** A connected mqtt client (protocolVersion 4 against the embedded broker). The gate does not own it. */
  client: MqttClient
  /** The device's Agent: every verdict is stamped in its chain, every request signed by its key. */
  agent: Stamper & StatementSigner
  /** The hub's key, pinned: its identity document, or its 32-byte public key (raw or base64). */
  hub: IdentityDocument | Uint8Array | string
  prefix?: string
  /** How long to wait for the hub before deciding offline. Default 2000 ms. */
  timeoutMs?: number
  /** How long check() waits for a human answer to a REQUIRE_HUMAN (long-polling the hub). Default 0: return PENDING (denied) at once. */
  approvalWaitMs?: number
  /** Where the hub-signed policy is cached (JSON). Without it, the cache lives in memory only. */
  cacheFile?: string
  /** Role for offline evaluation until the hub has named the device's role. Default 'operator'. The hub ignores it. */
  role?: string
  random?: (n: number) => Uint8Array
  /** Milliseconds; for offline evaluation timestamps. */
  clock?: () => number
}

interface Asked { action: string, role: string, payloadHash: string, requestId: string }

const ALLOWING = ['ALLOW', 'ALLOW_WITH_LOG']

export class DeviceGate {
  readonly #o: Required<Pick<DeviceGateOptions, 'timeoutMs' | 'approvalWaitMs' | 'role' | 'prefix'>> & DeviceGateOptions
  readonly #hub: HubKey
  readonly #requests: GateRequests
  readonly #asked = new Map<string, Asked>()
  readonly #cache: PolicyCache
  #escalation: EscalationState = {}
  #last: { vrs: number, tsi: string } | null = null
  /** The role the hub's last signed decision named (its registry's), for offline evaluation. */
  #hubRole: string | null = null

  private constructor (o: DeviceGateOptions) {
    this.#o = { timeoutMs: 2000, approvalWaitMs: 0, role: 'operator', prefix: DEFAULT_PREFIX, ...o }
    this.#hub = hubKeyOf(pinnedHubKey(o.hub))
    this.#cache = new PolicyCache(this.#hub, o.cacheFile)
    this.#requests = new GateRequests({
      client: o.client, agent: o.agent, prefix: this.#o.prefix, policyHash: () => this.#cache.policy?.hash ?? null,
      ...(o.random ? { random: o.random } : {}), ...(o.clock ? { clock: o.clock } : {})
    })
  }

  /** Answers on this agent's `down` topic ignored so far: not the pinned hub's, or not about the request they named. */
  get forgedAnswers (): number { return this.#requests.forged }

  /** Why the cached policy was refused, if it was. */
  get cacheProblem (): string | null { return this.#cache.problem }

  /** Loads and re-verifies the cached policy, subscribes to the agent's `down` topic. */
  static async open (opts: DeviceGateOptions): Promise<DeviceGate> {
    if (typeof opts?.client?.publish !== 'function') throw new TypeError('"client" expected an mqtt client')
    if (typeof opts.agent?.stamp !== 'function' || typeof opts.agent.signStatement !== 'function') throw new TypeError('"agent" expected an Agent (a Stamper that can sign statements)')
    const g = new DeviceGate(opts)
    await g.#cache.load()
    await g.#requests.listen()
    return g
  }

  /** The cached policy's version id and hash, or null. */
  get cachedPolicy (): { hash: string, versionId: string } | null {
    const p = this.#cache.policy
    return p === null ? null : { hash: p.hash, versionId: p.versionId }
  }

  /** Asks the hub (or decides offline), stamps the verdict, returns it. Never throws for a refusal. */
  async check (action: string, payload: JsonObject = {}, ctx: { role?: string, targetDomain?: string, approvalWaitMs?: number, [more: string]: unknown } = {}): Promise<GateVerdict> {
    if (typeof action !== 'string' || action === '') throw new TypeError('"action" expected a non-empty string')
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new TypeError('"payload" expected a plain object')
    // Only for offline evaluation; the hub decides under its registry's role and says which.
    const role = this.#hubRole ?? ctx.role ?? this.#o.role
    const requestId = toHex((this.#o.random ?? randomBytes)(16))
    const decisionId = gateDecisionId(this.#o.agent.agentId, requestId)
    let payloadHash: string
    try { payloadHash = gatePayloadHash(payload) } catch {
      return await this.#stamp({ ...closed(decisionId, 'payload cannot be written as canonical JSON'), rule: 'invalid_context' }, action, role, '')
    }
    const asked: Asked = { action, role, payloadHash, requestId }
    const env = await this.#requests.request({ kind: GATE_KINDS.request, action, payload, request_id: requestId, ...(ctx.targetDomain ? { target_domain: ctx.targetDomain } : {}) }, this.#o.timeoutMs, this.#authentic(asked, decisionId))
    if (env === null) return await this.#offline(asked, decisionId, payload, ctx.targetDomain)
    let verdict = this.#fromHub(env, asked, decisionId)
    // The stamped role is the one the hub decided under (from its signed decision), not the one asked for.
    if (verdict.role !== null) asked.role = verdict.role
    const waitMs = ctx.approvalWaitMs ?? this.#o.approvalWaitMs
    if (verdict.state === 'PENDING' && waitMs > 0) verdict = await this.#waitHub(decisionId, asked, Date.now() + waitMs) ?? verdict
    if (verdict.state === 'PENDING') this.#asked.set(decisionId, asked)
    return await this.#stamp(verdict, action, asked.role, payloadHash)
  }

  /** Waits (up to `ms`) for a human answer to a decision that check() returned as PENDING; stamps the result. */
  async wait (decisionId: string, ms: number): Promise<GateVerdict> {
    const asked = this.#asked.get(decisionId)
    if (asked === undefined) throw new RangeError(`"decisionId" ${decisionId} is not a pending decision of this gate`)
    const v = await this.#waitHub(decisionId, asked, Date.now() + ms) ?? { ...closed(decisionId, 'no answer from the hub, still pending'), state: 'PENDING' as const }
    if (v.state !== 'PENDING') this.#asked.delete(decisionId)
    return await this.#stamp(v, asked.action, asked.role, asked.payloadHash)
  }

  async #waitHub (decisionId: string, asked: Asked, deadline: number): Promise<Verdict | null> {
    let last: Verdict | null = null
    while (Date.now() < deadline) {
      const waitMs = Math.min(deadline - Date.now(), 30_000)
      const env = await this.#requests.request({ kind: GATE_KINDS.wait, decision_id: decisionId, wait_ms: waitMs }, waitMs + this.#o.timeoutMs, this.#authentic(asked, decisionId))
      if (env === null) return { ...closed(decisionId, 'hub unreachable while waiting for a human'), state: 'PENDING' }
      last = this.#fromHub(env, asked, decisionId)
      if (last.state !== 'PENDING') return last
    }
    return last
  }

  /**
   * Which answers to a request count: a result whose signed events are about this request, or a refusal
   * the hub signed. Anything else (a forgery by whoever else may publish on `down`) is no answer at all,
   * so it can neither decide for the hub nor pre-empt its real answer.
   */
  #authentic (asked: Asked, decisionId: string): Accept {
    return (env) => env.kind === GATE_KINDS.result ? this.#resultProblem(env, asked, decisionId) === null : this.#signedError(env)
  }

  #signedError (env: Record<string, unknown>): boolean {
    const statement = env.kind === GATE_KINDS.error ? syncAnswerStatement(this.#o.agent.agentId, env) : null
    return statement !== null && verifyStatement(env.sig, SYNC_ANSWER_STATEMENT, statement, this.#hub.publicKey)
  }

  /** Null when the result's decision (and resolution, if any) are the hub's, about this request. */
  #resultProblem (env: Record<string, unknown>, asked: Asked, decisionId: string): string | null {
    const ev = env.decision_event as AissEvent
    const bad = verifyHubEvent(ev, this.#hub) ?? decisionEventProblem(ev, { agentId: this.#o.agent.agentId, decisionId, action: asked.action, payloadHash: asked.payloadHash })
    if (bad !== null) return `hub answer not authenticated: ${bad}`
    const res = env.resolution_event as AissEvent | null | undefined
    if (res === null || res === undefined) return null
    const r = verifyHubEvent(res, this.#hub) ?? resolutionState(res, decisionId)
    return typeof r === 'string' ? `hub resolution not authenticated: ${r}` : null
  }

  /** Reads a hub answer, trusting only what the hub's signatures prove. */
  #fromHub (env: Record<string, unknown>, asked: Asked, decisionId: string): Verdict {
    if (env.kind === GATE_KINDS.error) return closed(decisionId, `hub error ${String(env.code)}: ${String(env.message)}`)
    if (env.kind !== GATE_KINDS.result) return closed(decisionId, `unexpected answer kind ${String(env.kind)}`)
    const bad = this.#resultProblem(env, asked, decisionId)
    if (bad !== null) return closed(decisionId, bad)
    if (env.policy !== undefined) this.#cache.accept(env.policy as SignedPolicy, true)
    const ev = env.decision_event as AissEvent
    const d = ev.payload.decision as Record<string, unknown>
    if (typeof d.vrs === 'number') this.#last = { vrs: d.vrs, tsi: String(d.tsi_state) }
    if (typeof d.role === 'string') this.#hubRole = d.role
    let outcome = String(d.outcome); let state: GateState = outcome === 'REQUIRE_HUMAN' ? 'PENDING' : 'DECIDED'
    let reason = String(d.reason)
    const res = env.resolution_event as AissEvent | null | undefined
    if (res !== null && res !== undefined) {
      const r = verifyHubEvent(res, this.#hub) ?? resolutionState(res, decisionId)
      if (typeof r === 'string') return closed(decisionId, `hub resolution not authenticated: ${r}`)
      ;({ state, outcome } = r)
      reason = `${reason} — ${state.toLowerCase()}${typeof res.payload.principal_id === 'string' ? ` by ${res.payload.principal_id}` : ''}`
    }
    return { allowed: ALLOWING.includes(outcome), outcome, reason, source: 'hub', decisionId, state, rule: String(d.rule), policyHash: String(d.policy_hash), hubEventHash: eventHash(ev), role: typeof d.role === 'string' ? d.role : null }
  }

  /** The hub did not answer: decide from the cached, signed policy; never allow what needs a human. */
  async #offline (asked: Asked, decisionId: string, payload: JsonObject, targetDomain?: string): Promise<GateVerdict> {
    const policy = this.#cache.policy
    if (policy === null) {
      return await this.#stamp(closed(decisionId, `hub unreachable and ${this.cacheProblem ?? 'no cached policy'}`), asked.action, asked.role, asked.payloadHash)
    }
    const { decision, escalation } = evaluateAndRecord({
      agent_id: this.#o.agent.agentId, role: asked.role, action: asked.action, payload, vrs: this.#last?.vrs ?? 0,
      tsi_state: this.#last?.tsi ?? 'STABLE', target_domain: targetDomain ?? null,
      timestamp: Math.floor((this.#o.clock ?? Date.now)() / 1000), request_id: decisionId
    }, policy, this.#escalation)
    this.#escalation = escalation
    const human = decision.outcome === 'REQUIRE_HUMAN'
    return await this.#stamp({
      decisionId,
      state: 'DECIDED',
      hubEventHash: null,
      allowed: ALLOWING.includes(decision.outcome),
      outcome: human ? 'BLOCK' : decision.outcome,
      reason: human ? `hub unreachable and the cached policy needs a human (${decision.reason}) — blocked (fail-closed)` : `hub unreachable; cached policy: ${decision.reason}`,
      source: human ? 'fail_closed' : 'cached_policy',
      rule: decision.rule,
      policyHash: decision.policy_hash,
      role: asked.role
    }, asked.action, asked.role, asked.payloadHash)
  }

  async #stamp (v: Verdict, action: string, role: string, payloadHash: string): Promise<GateVerdict> {
    const event = await this.#o.agent.stamp('gate_decision', {
      decision_id: v.decisionId, action, role, payload_hash: payloadHash, outcome: v.outcome, allowed: v.allowed, state: v.state,
      reason: v.reason, rule: v.rule, source: v.source, policy_hash: v.policyHash, hub_event_hash: v.hubEventHash
    })
    return { ...v, event }
  }

  /** Asks the hub for its signed active policy (e.g. at boot, to be ready for offline use). */
  async refreshPolicy (): Promise<boolean> {
    const env = await this.#requests.request({ kind: GATE_KINDS.policy }, this.#o.timeoutMs, (e) => e.kind === GATE_KINDS.policyResult ? verifySignedPolicy(e.policy, this.#hub) === null : this.#signedError(e))
    return env?.kind === GATE_KINDS.policyResult && this.#cache.accept(env.policy as SignedPolicy, true)
  }

  /** Stops listening (pending checks resolve as offline). The mqtt client stays open. */
  async close (): Promise<void> {
    await this.#requests.close()
  }
}

type Verdict = Omit<GateVerdict, 'event'>

function closed (decisionId: string, why: string): Verdict {
  return { allowed: false, outcome: 'BLOCK', reason: `${why} — blocked (fail-closed)`, source: 'fail_closed', decisionId, state: 'DECIDED', rule: null, policyHash: null, hubEventHash: null, role: null }
}

/** A pinned hub key as given (identity document, raw 32 bytes or their base64): its public key. */
export function pinnedHubKey (hub: DeviceGateOptions['hub']): Uint8Array {
  if (hub instanceof Uint8Array) return hub
  if (typeof hub === 'string') {
    const k = fromBase64Strict(hub)
    if (k === null || k.length !== 32) throw new TypeError('"hub" expected the base64 of a 32-byte public key')
    return k
  }
  return parseIdentityDocument(hub, 'hub identity').publicKey
}
