// AgentSession (a2a_session.md §6): several agents of one process working together. start() stamps
// session_start in every chain and runs the pairwise handshakes; stamp(..., { peer }) writes the event
// in the sender's chain and its `_received` mirror in the peer's. Fixed against the reference (gaps.md
// #32-34): handshake payloads are never edited after signing (the session id is agreed inside the signed
// messages instead), agents are real Agents with their own stores, export() writes a file
// `pcp session-verify` checks, summary() has agent_count/total_events, and hashes are reproducible.
import { writeFileAtomic } from '../fsutil.js'
import { crypto } from '../crypto.js'
import { toHex } from '../encoding.js'
import { eventHash } from '../event.js'
import { stringifyJson } from '../json.js'
import { PcpError } from '../errors.js'
import type { Agent } from '../agent.js'
import type { AissEvent } from '../types.js'
import type { JsonValue } from '../value.js'
import { A2AErrorCodes as C } from './errors.js'
import type { A2ASigner } from './messages.js'
import { A2ANode } from './node.js'
import { autoHashPayload, AISS_PROFILE } from './interaction.js'
import { InProcessTransport, type A2ATransport } from './transport.js'
import { loadAgentSigner } from './signer.js'
import { buildSessionExport, type HandshakeSummary, type SessionRecord } from './session-export.js'

/** The reference's session capabilities. */
export const SESSION_CAPABILITIES = ['a2a', 'session', 'stamp', 'verify']

export interface SessionMemberSpec {
  name: string
  agent: Agent
  /** The agent's key for handshake messages; default: loaded from the agent's directory. */
  signer?: A2ASigner & { destroy?: () => void }
}

export interface AgentSessionOptions {
  /** Default: "sess_" + 16 random hex (the reference's form). */
  sessionId?: string
  /** Milliseconds since the epoch; injectable. Give the agents the same clock. */
  clock?: () => number
  transport?: A2ATransport
  passphrase?: string
  timeoutMs?: number
}

interface Member { name: string, agent: Agent, node: A2ANode, signer: A2ASigner & { destroy?: () => void }, owned: boolean, events: number }

type State = 'new' | 'started' | 'ended'

export class AgentSession {
  readonly sessionId: string
  readonly #members: Member[]
  readonly #byName = new Map<string, Member>()
  readonly #clock: () => number
  #state: State = 'new'
  #startedAt: number | null = null
  #endedAt: number | null = null
  readonly #handshakes: HandshakeSummary[] = []
  #interactions = 0
  #closed = false

  private constructor (sessionId: string, members: Member[], clock: () => number) {
    this.sessionId = sessionId
    this.#members = members
    for (const m of members) this.#byName.set(m.name, m)
    this.#clock = clock
  }

  /** Builds the session (nothing is stamped until start()). Needs at least two distinct agents. */
  static async create (specs: readonly SessionMemberSpec[], opts: AgentSessionOptions = {}): Promise<AgentSession> {
    if (!Array.isArray(specs) || specs.length < 2) throw new RangeError(`"agents" expected at least 2 members, got ${Array.isArray(specs) ? specs.length : typeof specs}`)
    const names = new Set<string>(); const ids = new Set<string>()
    for (const [i, s] of specs.entries()) {
      if (typeof s?.name !== 'string' || s.name.length === 0) throw new TypeError(`"agents[${i}].name" expected a non-empty string`)
      if (!s.agent || typeof s.agent.stamp !== 'function') throw new TypeError(`"agents[${i}].agent" expected an open Agent`)
      if (names.has(s.name) || ids.has(s.agent.agentId)) throw new TypeError(`"agents[${i}]" repeats a name or an agent (${s.name})`)
      names.add(s.name); ids.add(s.agent.agentId)
    }
    const sessionId = opts.sessionId ?? 'sess_' + toHex(crypto().randomBytes(8))
    const clock = opts.clock ?? Date.now
    const transport = opts.transport ?? new InProcessTransport()
    const members: Member[] = []
    try {
      for (const s of specs) {
        const signer = s.signer ?? await loadAgentSigner(s.agent, opts.passphrase ? { passphrase: opts.passphrase } : {})
        const node = new A2ANode(s.agent, signer, { transport, clock, capabilities: SESSION_CAPABILITIES, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) })
        members.push({ name: s.name, agent: s.agent, node, signer, owned: !s.signer, events: 0 })
      }
    } catch (err) {
      for (const m of members) if (m.owned) m.signer.destroy?.()
      throw err
    }
    return new AgentSession(sessionId, members, clock)
  }

  get state (): State { return this.#state }

  #now (): number { return Math.floor(this.#clock() / 1000) }
  #expect (state: State, what: string): void {
    if (this.#state !== state) throw new PcpError(C.SESSION_STATE, `cannot ${what}: session ${this.sessionId} is ${this.#state}`, { expected: state, actual: this.#state })
  }

  #member (ref: string, field: string): Member {
    const m = this.#byName.get(ref) ?? this.#members.find((x) => x.agent.agentId === ref)
    if (!m) throw new TypeError(`"${field}" ${JSON.stringify(ref)} is not a member of session ${this.sessionId}`)
    return m
  }

  /** session_start in every chain, then one handshake per pair (earlier member initiates). */
  async start (): Promise<HandshakeSummary[]> {
    this.#expect('new', 'start')
    this.#state = 'started'
    this.#startedAt = this.#now()
    for (const m of this.#members) await m.node.start()
    const participants = this.#members.map((m) => m.agent.agentId)
    for (const m of this.#members) {
      await m.agent.stamp('session_start', { session_id: this.sessionId, participants, participant_names: this.#members.map((x) => x.name), agent_count: this.#members.length, aiss_profile: AISS_PROFILE })
      m.events++
    }
    for (let i = 0; i < this.#members.length; i++) {
      for (let j = i + 1; j < this.#members.length; j++) {
        const a = this.#members[i]!; const b = this.#members[j]!
        const link = await a.node.handshake(b.agent.agentId, { sessionId: this.sessionId, metadata: { name: a.name } })
        const other = b.node.link(a.agent.agentId, this.sessionId)!
        a.events++; b.events++
        this.#handshakes.push({
          agent_a: a.name, agent_b: b.name, agent_a_id: a.agent.agentId, agent_b_id: b.agent.agentId, handshake_hash: link.handshakeHash,
          event_a_hash: eventHash(link.event), event_b_hash: eventHash(other.event), timestamp: link.event.timestamp
        })
      }
    }
    return [...this.#handshakes]
  }

  /**
   * Stamps `eventType` in `agent`'s chain (payload auto-hashed: a2a_session.md §6.2 and
   * runtime/a2a/interaction.ts). With `peer`, the peer stamps `<eventType>_received` with the same
   * interaction_hash. Returns the sender's event.
   */
  async stamp (agent: string, eventType: string, payload: Record<string, JsonValue> = {}, opts: { peer?: string } = {}): Promise<AissEvent> {
    this.#expect('started', 'stamp')
    const m = this.#member(agent, 'agent')
    if (opts.peer === undefined) {
      const event = await m.agent.stamp(eventType, { ...autoHashPayload(payload, { sessionId: this.sessionId }), session_id: this.sessionId, aiss_profile: AISS_PROFILE })
      m.events++
      return event
    }
    const p = this.#member(opts.peer, 'peer')
    if (p === m) throw new TypeError('"peer" is the acting agent itself')
    const { event } = await m.node.interact(p.agent.agentId, eventType, payload, { sessionId: this.sessionId })
    m.events++; p.events++; this.#interactions++
    return event
  }

  summary (): SessionRecord {
    const agents: SessionRecord['agents'] = {}
    for (const m of this.#members) agents[m.name] = { agent_id: m.agent.agentId, event_count: m.events }
    return {
      session_id: this.sessionId,
      started_at: this.#startedAt,
      ended_at: this.#endedAt,
      agent_count: this.#members.length,
      handshake_count: this.#handshakes.length,
      interaction_count: this.#interactions,
      total_events: this.#members.reduce((n, m) => n + m.events, 0),
      agents,
      handshakes: [...this.#handshakes]
    }
  }

  /** session_end in every chain; stops answering peers. Returns the final summary. */
  async end (): Promise<SessionRecord> {
    this.#expect('started', 'end')
    this.#endedAt = this.#now()
    for (const m of this.#members) {
      await m.agent.stamp('session_end', { session_id: this.sessionId, duration_s: this.#endedAt - (this.#startedAt ?? this.#endedAt), event_count: m.events, aiss_profile: AISS_PROFILE })
      m.events++
    }
    this.#state = 'ended'
    await this.close()
    return this.summary()
  }

  /** Writes the session export (runtime/a2a/session-export.ts) atomically. */
  async export (path: string, opts: { now?: number } = {}): Promise<{ path: string, agents: number, events: number }> {
    const doc = await buildSessionExport(this.summary(), this.#members, { now: opts.now ?? this.#now() })
    await writeFileAtomic(path, stringifyJson(doc, 2) + '\n', 0o644)
    return { path, agents: this.#members.length, events: Object.values(doc.agents).reduce((n, a) => n + a.events.length, 0) }
  }

  /** Releases the transport routes and the keys loaded for handshakes; the agents stay open. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const m of this.#members) {
      await m.node.close()
      if (m.owned) m.signer.destroy?.()
    }
  }
}
