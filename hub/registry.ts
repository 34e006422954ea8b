// Which devices may report to the hub. Every chain is registered under its first identity's agent_id
// (the topic level its device publishes on); its registry state is one of
//   allowed   events are verified and stored
//   pending   the device made first contact (sent its identity document) and waits for an operator:
//             `pcp hub approve AGENT_ID`; nothing of it is stored but the identity
//   revoked   refused from now on; what was stored stays (it is evidence)
// Approval modes: 'manual' (default; trust on first use only after an operator approves) or 'auto'
// (trust on first use: the first identity seen for an agent_id is bound at once). An allow-list is
// manual mode with ids approved ahead of contact (`pcp hub approve` before the device appears).
// Binding: an agent_id is derived from its public key, so the identity document that first arrives
// for an id is the only one that can ever match it; a device cannot register under another's id.
import { parseIdentityDocument } from '../runtime/identity.js'
import { PcpError, ErrorCodes } from '../runtime/errors.js'
import { parseJson, stringifyJson } from '../runtime/json.js'
import { isAgentIdShape } from '../sync/topics.js'
import type { IdentityDocument } from '../runtime/types.js'
import type { AgentRecord, HubStore, RegistryState } from './store/types.js'

export type ApprovalMode = 'manual' | 'auto'

/** Codes of the registry; the lead adds them to runtime/errors.ts ErrorCodes. */
export const RegistryErrorCodes = {
  REGISTRY_FULL: 'REGISTRY_FULL',
  /** More first contacts than the registry takes per minute: retry later. */
  REGISTRY_BUSY: 'REGISTRY_BUSY',
  AGENT_UNKNOWN: 'AGENT_UNKNOWN',
  /** The name is already an approved (or revoked) agent's: names are claimed at approval and unique. */
  NAME_TAKEN: 'NAME_TAKEN'
} as const

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export interface RegistryOptions {
  approval?: ApprovalMode
  /** Most agents waiting for approval; first contacts beyond it are refused (a flood of random ids). */
  maxPending?: number
  /** A pending first contact older than this (seconds, default 1 day) no longer takes a place in maxPending. */
  pendingTtlSeconds?: number
  /** Auto approval: registered agents past which first contacts are refused (default 10,000); approvals by id still work. */
  maxAutoAgents?: number
  /** First contacts (new agent_ids) taken per minute, in bursts of as many (default 600: a fleet rebooting at once). */
  firstContactsPerMinute?: number
  /** Unix seconds. */
  now?: () => number
}

export class Registry {
  readonly approval: ApprovalMode
  readonly #store: HubStore
  readonly #maxPending: number
  readonly #now: () => number
  readonly #ttl: number
  readonly #maxAuto: number
  readonly #perMinute: number
  #tokens: number
  #tokensAt: number

  constructor (store: HubStore, opts: RegistryOptions = {}) {
    this.#store = store
    this.approval = opts.approval ?? 'manual'
    if (this.approval !== 'manual' && this.approval !== 'auto') throw new RangeError(`"approval" expected 'manual' or 'auto', got ${String(opts.approval)}`)
    this.#maxPending = opts.maxPending ?? 1000
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.#ttl = opts.pendingTtlSeconds ?? 86_400
    this.#maxAuto = opts.maxAutoAgents ?? 10_000
    this.#perMinute = opts.firstContactsPerMinute ?? 600
    this.#tokens = this.#perMinute
    this.#tokensAt = this.#now()
  }

  /** Takes one first-contact token (issue 14 #5: 1,000 fake first contacts filled the pending list). */
  #takeFirstContact (agentId: string): void {
    const now = this.#now()
    this.#tokens = Math.min(this.#perMinute, this.#tokens + (now - this.#tokensAt) * this.#perMinute / 60)
    this.#tokensAt = now
    if (this.#tokens < 1) throw new PcpError(RegistryErrorCodes.REGISTRY_BUSY, `more than ${this.#perMinute} new devices per minute; refusing ${agentId} for now (retry later)`, { agent: agentId })
    this.#tokens -= 1
  }

  state (agentId: string): RegistryState | 'unknown' { return this.#store.agent(agentId)?.state ?? 'unknown' }

  /**
   * First contact (or a repeat of it): checks the document against the topic's agent_id and registers
   * it. Throws PcpError (IDENTITY_INVALID, AGENT_ID_MISMATCH, REGISTRY_FULL) for a refused document.
   */
  async onIdentity (topicAgentId: string, doc: unknown, name?: unknown): Promise<AgentRecord> {
    return await this.#retrying(topicAgentId, () => this.#onIdentity(topicAgentId, doc, name))
  }

  /**
   * A registry write compares the record it started from (hub/store/types.ts): when another hub changed or
   * extended the agent meanwhile (several hubs on one store) it fails with STORE_CONFLICT, and is decided
   * again on the record as it is now. A few attempts: each loss means another hub's write went through.
   */
  async #retrying<T> (agentId: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try { return await fn() } catch (err) {
        if ((err as PcpError).code !== 'STORE_CONFLICT' || attempt >= 5) throw err
        await this.#store.reload(agentId)
      }
    }
  }

  async #onIdentity (topicAgentId: string, doc: unknown, name?: unknown): Promise<AgentRecord> {
    const { doc: parsed, publicKey } = parseIdentityDocument(doc, `identity sent on ${topicAgentId}`)
    if (parsed.agent_id !== topicAgentId) {
      throw new PcpError(ErrorCodes.AGENT_ID_MISMATCH, `identity document of ${parsed.agent_id} sent on the topic of ${topicAgentId}`, { agent: topicAgentId, expected: topicAgentId, actual: parsed.agent_id })
    }
    const existing = this.#store.agent(topicAgentId)
    if (existing?.identity) return existing
    const now = this.#now()
    if (existing) {
      // Approved by id before the device appeared: bind its document now.
      const rec: AgentRecord = { ...existing, identity: cleanDoc(parsed), keys: [{ agentId: parsed.agent_id, publicKey }], lastSeen: now }
      await this.#store.putAgent(rec)
      return rec
    }
    const state: RegistryState = this.approval === 'auto' ? 'allowed' : 'pending'
    // Only first contacts are limited: an operator's approval of an id (pre-registration) always has room.
    if (state === 'pending' && this.#store.agents().filter((a) => a.state === 'pending' && now - a.firstSeen < this.#ttl).length >= this.#maxPending) {
      throw new PcpError(RegistryErrorCodes.REGISTRY_FULL, `${this.#maxPending} agents already wait for approval; refusing ${topicAgentId}`, { agent: topicAgentId })
    }
    if (state === 'allowed' && this.#store.agents().length >= this.#maxAuto) {
      throw new PcpError(RegistryErrorCodes.REGISTRY_FULL, `${this.#maxAuto} agents are registered; auto approval refuses ${topicAgentId} (an operator can still approve it by id)`, { agent: topicAgentId })
    }
    this.#takeFirstContact(topicAgentId)
    // A name is claimed at approval (auto approval: now) and only if no other agent holds it, so a device
    // that makes first contact under "robot-8" cannot take over robot-8's name (issue 14 #6); a pending
    // device's name is only what it proposes.
    const wanted = typeof name === 'string' && NAME.test(name) ? name : topicAgentId
    const rec = newRecord(topicAgentId, state === 'allowed' && this.#holder(wanted, topicAgentId) !== undefined ? topicAgentId : wanted, state, now)
    rec.identity = cleanDoc(parsed)
    rec.keys = [{ agentId: parsed.agent_id, publicKey }]
    rec.lastSeen = now
    await this.#store.putAgent(rec)
    return rec
  }

  /** Allows an agent (pending, revoked, or not seen yet), with the TrustGate role its gate requests get. Returns its record. */
  async approve (agentId: string, opts: { name?: string, role?: string } = {}): Promise<AgentRecord> {
    return await this.#retrying(agentId, () => this.#set(agentId, 'allowed', opts.name, true, opts.role))
  }

  /** The agent other than `except` that has claimed `name` (approved or revoked; pending ones only propose). */
  #holder (name: string, except: string): AgentRecord | undefined {
    return this.#store.agents().find((a) => a.agentId !== except && a.state !== 'pending' && a.name === name)
  }

  async revoke (agentId: string): Promise<AgentRecord> {
    return await this.#retrying(agentId, () => this.#set(agentId, 'revoked', undefined, false))
  }

  async #set (agentId: string, state: RegistryState, name: string | undefined, create: boolean, role?: string): Promise<AgentRecord> {
    if (!isAgentIdShape(agentId)) throw new TypeError(`"agentId" expected Base58, 32 chars, got ${JSON.stringify(String(agentId).slice(0, 64))}`)
    if (name !== undefined && !NAME.test(name)) throw new TypeError(`"name" expected 1-64 of [A-Za-z0-9._-], got ${JSON.stringify(name)}`)
    if (role !== undefined && !NAME.test(role)) throw new TypeError(`"role" expected 1-64 of [A-Za-z0-9._-], got ${JSON.stringify(role)}`)
    const existing = this.#store.agent(agentId)
    if (!existing && !create) throw new PcpError(RegistryErrorCodes.AGENT_UNKNOWN, `agent ${agentId} is not registered`, { agent: agentId })
    const rec: AgentRecord = existing ? { ...existing, state } : newRecord(agentId, agentId, state, this.#now())
    if (name !== undefined) rec.name = name
    if (state === 'allowed' && rec.name !== agentId) {
      const holder = this.#holder(rec.name, agentId)
      if (holder !== undefined) {
        throw new PcpError(RegistryErrorCodes.NAME_TAKEN, `cannot approve ${agentId} as "${rec.name}": that name is agent ${holder.agentId}'s (${holder.state}); approve it with another name (--name)`, { agent: agentId, field: 'name', actual: rec.name })
      }
      // Pending devices that proposed the same name lose the proposal: the name is now this agent's.
      for (const other of this.#store.agents()) {
        if (other.agentId !== agentId && other.state === 'pending' && other.name === rec.name) await this.#store.putAgent({ ...other, name: other.agentId })
      }
    }
    if (role !== undefined) rec.role = role
    await this.#store.putAgent(rec)
    return rec
  }
}

export function newRecord (agentId: string, name: string, state: RegistryState, now: number): AgentRecord {
  return {
    agentId, name, state, identity: null, keys: [], head: null, count: 0, firstSeen: now, lastSeen: null,
    rejectedCount: 0, lastProblem: null, evidenceCount: 0
  }
}

/** Keeps the document as sent (its fields are what an audit export names), without prototype tricks. */
function cleanDoc (doc: IdentityDocument): IdentityDocument {
  return parseJson(stringifyJson(doc)) as unknown as IdentityDocument
}
