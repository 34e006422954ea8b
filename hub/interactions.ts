// Hub-side cross-check of A2A interactions across the chains the hub receives (a2a_session.md §6.2).
// Pure and incremental: feed it each VERIFIED event of each agent as it arrives (onEvent), call tick()
// now and then; it returns anomalies for Vigil. It pairs the two records of one act:
//   - handshakes by (initiator, proposal nonce): both a2a_handshake records must carry the same
//     handshake_hash (the hash of the signed messages);
//   - interactions by (initiator, interaction_id): the initiator's event and the peer's `_received`
//     mirror must carry the same interaction_hash and payload_hash, name each other, and the mirror must
//     embed exactly the initiator's event (same event hash).
// INTERACTION_MISMATCH: the two sides record different things, a side's own hashes do not recompute,
//   or a side records the same act twice (a replayed command).
// INTERACTION_UNCONFIRMED: one side's record has had no counterpart for `graceSeconds` of hub time
//   (receive time, not device timestamps: device clocks differ and chains sync at different moments).
// Memory: one entry per unpaired record (dropped `retainSeconds` after it was reported) plus a bounded
// set of recently paired keys for duplicate detection.
import { eventHash, hashValue, type AissEvent } from '../runtime/index.js'
import { checkInitiatorEvent, interactionContent, mirroredEventHash } from '../runtime/a2a/interaction.js'
import { HANDSHAKE_EVENT_TYPE } from '../runtime/a2a/handshake-event.js'

export type InteractionAnomalyCode = 'INTERACTION_MISMATCH' | 'INTERACTION_UNCONFIRMED'

export interface InteractionAnomaly {
  code: InteractionAnomalyCode
  /** The agent whose record is at issue (for UNCONFIRMED: the one that claims it). */
  agentId: string
  peer: string
  kind: 'handshake' | 'interaction'
  /** interaction_hash, or handshake_hash for a handshake. */
  interactionHash: string
  sessionId: string | null
  eventType: string | null
  reason: string
  /** Hub time (Unix seconds) when the anomaly was found. */
  at: number
}

/** Suggested Vigil severities: disagreeing records are evidence of tampering or a forged command. */
export const ANOMALY_SEVERITY: Record<InteractionAnomalyCode, 'HIGH' | 'MEDIUM'> = { INTERACTION_MISMATCH: 'HIGH', INTERACTION_UNCONFIRMED: 'MEDIUM' }

interface Side { agentId: string, peer: string, role: 'initiator' | 'responder', hash: string, payloadHash: string | null, eventHash: string, embedded: string | null, sessionId: string | null, eventType: string | null, ownOk: boolean }
interface Entry { kind: 'handshake' | 'interaction', sides: Side[], firstSeen: number, reported: number | null }

export interface InteractionCheckOptions {
  /** Milliseconds since the epoch (injectable; default Date.now). */
  clock?: () => number
  graceSeconds?: number
  retainSeconds?: number
  maxSettled?: number
}

export class InteractionCrossCheck {
  readonly #clock: () => number
  readonly #grace: number
  readonly #retain: number
  readonly #maxSettled: number
  readonly #open = new Map<string, Entry>()
  readonly #settled = new Map<string, Set<string>>() // key → the paired records' event hashes (insertion-ordered, bounded)

  constructor (opts: InteractionCheckOptions = {}) {
    this.#clock = opts.clock ?? Date.now
    this.#grace = opts.graceSeconds ?? 60
    this.#retain = opts.retainSeconds ?? 86_400
    this.#maxSettled = opts.maxSettled ?? 100_000
    for (const [k, v] of Object.entries({ graceSeconds: this.#grace, retainSeconds: this.#retain, maxSettled: this.#maxSettled })) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`"${k}" expected a non-negative number, got ${v}`)
    }
  }

  /** Records awaiting their counterpart. */
  get pending (): number { return this.#open.size }

  #now (): number { return Math.floor(this.#clock() / 1000) }

  /** Takes one verified event of `agentId`'s chain; returns anomalies it reveals at once. */
  onEvent (agentId: string, event: AissEvent): InteractionAnomaly[] {
    const side = this.#sideOf(agentId, event)
    if (!side) return []
    const { key, kind, s, own } = side
    const at = this.#now()
    const settled = this.#settled.get(key)
    // The same record fed again (a sync resend, a hub restart) is not news.
    if (settled?.has(s.eventHash) || this.#open.get(key)?.sides.some((x) => x.eventHash === s.eventHash)) return []
    const out: InteractionAnomaly[] = own.map((reason) => this.#anomaly('INTERACTION_MISMATCH', s, kind, reason, at))
    if (settled !== undefined) {
      out.push(this.#anomaly('INTERACTION_MISMATCH', s, kind, `a second ${s.role} record of an interaction already confirmed by both sides (replay?)`, at))
      return out
    }
    const entry = this.#open.get(key)
    if (!entry) { this.#open.set(key, { kind, sides: [s], firstSeen: at, reported: null }); return out }
    const same = entry.sides.find((x) => x.role === s.role)
    if (same) {
      out.push(this.#anomaly('INTERACTION_MISMATCH', s, kind, `${s.role} recorded this ${kind} twice`, at))
      return out
    }
    const [i, r] = s.role === 'initiator' ? [s, entry.sides[0]!] : [entry.sides[0]!, s]
    const reasons: string[] = []
    if (i.hash !== r.hash) reasons.push(`${kind === 'handshake' ? 'handshake_hash' : 'interaction_hash'} differs: initiator ${i.hash}, responder ${r.hash}`)
    if (i.payloadHash !== r.payloadHash) reasons.push(`payload_hash differs: initiator ${String(i.payloadHash)}, responder ${String(r.payloadHash)}`)
    if (i.peer !== r.agentId || r.peer !== i.agentId) reasons.push('the two records do not name each other')
    if (kind === 'interaction' && r.embedded !== i.eventHash) reasons.push('the mirror does not embed the initiator\'s event')
    // The initiator's event is self-certifying (its hashes recompute, its key signed it); a mirror that
    // disagrees with it is the responder's record at fault, whichever arrived first. A handshake has no
    // such anchor: the side that arrived second is charged, as it completed the disagreement.
    const charged = kind === 'interaction' && i.ownOk ? r : s
    for (const reason of reasons) out.push(this.#anomaly('INTERACTION_MISMATCH', charged, kind, reason, at))
    this.#open.delete(key)
    this.#settled.set(key, new Set([i.eventHash, r.eventHash]))
    if (this.#settled.size > this.#maxSettled) this.#settled.delete(this.#settled.keys().next().value!)
    return out
  }

  /** Reports records still alone after the grace period (once each), forgets old reported ones. */
  tick (): InteractionAnomaly[] {
    const at = this.#now()
    const out: InteractionAnomaly[] = []
    for (const [key, e] of this.#open) {
      if (e.reported !== null) {
        if (at - e.reported > this.#retain) this.#open.delete(key)
        continue
      }
      if (at - e.firstSeen < this.#grace) continue
      const s = e.sides[0]!
      e.reported = at
      out.push(this.#anomaly('INTERACTION_UNCONFIRMED', s, e.kind, `${s.agentId} records this ${e.kind} as ${s.role}; ${s.peer} has no matching record after ${at - e.firstSeen} s`, at))
    }
    return out
  }

  #anomaly (code: InteractionAnomalyCode, s: Side, kind: Entry['kind'], reason: string, at: number): InteractionAnomaly {
    return { code, agentId: s.agentId, peer: s.peer, kind, interactionHash: s.hash, sessionId: s.sessionId, eventType: s.eventType, reason, at }
  }

  #sideOf (agentId: string, e: AissEvent): { key: string, kind: Entry['kind'], s: Side, own: string[] } | null {
    const p = e?.payload
    if (!p || (p.my_role !== 'initiator' && p.my_role !== 'responder') || typeof p.peer_agent_id !== 'string') return null
    const role = p.my_role
    const base = { agentId, peer: p.peer_agent_id, role, eventHash: eventHash(e), sessionId: typeof p.session_id === 'string' ? p.session_id : null, eventType: typeof p.event_type === 'string' ? p.event_type : null } as const
    if (p.event_type === HANDSHAKE_EVENT_TYPE) {
      const proposal = p.proposal as { agent_id?: unknown, session_nonce?: unknown } | undefined
      if (typeof p.handshake_hash !== 'string' || typeof proposal?.session_nonce !== 'string') return null // a reference handshake: nothing to pair on
      // The record's own author is its side of the key, never an id copied into its payload.
      const initiator = role === 'initiator' ? agentId : String(proposal.agent_id)
      const responder = role === 'initiator' ? p.peer_agent_id : agentId
      return { key: `h\u0000${initiator}\u0000${responder}\u0000${proposal.session_nonce}`, kind: 'handshake', s: { ...base, hash: p.handshake_hash, payloadHash: null, embedded: null, ownOk: true }, own: [] }
    }
    if (typeof p.interaction_hash !== 'string' || typeof p.interaction_id !== 'string') return null
    const initiator = role === 'initiator' ? agentId : p.peer_agent_id
    const responder = role === 'initiator' ? p.peer_agent_id : agentId
    const own = role === 'initiator'
      ? checkInitiatorEvent(e).map((x) => x.message)
      : [
          ...(p.peer_event ? checkInitiatorEvent(p.peer_event as unknown as AissEvent).map((x) => `embedded initiator event: ${x.message}`) : ['mirror without the embedded initiator event']),
          ...(hashValue(interactionContent(p)) !== p.payload_hash ? ['the mirror\'s payload_hash does not match its own content'] : [])
        ]
    return {
      // Both parties are in the key: a third device's record naming this interaction can never pair
      // with (or take the place of) either party's record, so it is charged to its author alone.
      key: `i\u0000${initiator}\u0000${responder}\u0000${p.interaction_id}`,
      kind: 'interaction',
      s: { ...base, hash: p.interaction_hash, payloadHash: typeof p.payload_hash === 'string' ? p.payload_hash : null, embedded: role === 'responder' ? mirroredEventHash(e) : null, ownOk: own.length === 0 },
      own
    }
  }
}
