// `pcp session-verify`: checks a session export (session-export.ts) from the chains alone.
//   1. every member's audit export verifies (signatures, links, chain_integrity_hash, agent_id binding);
//   2. each member's session events start with session_start naming the same participants;
//   3. every a2a_handshake's co-signature verifies, and each pair of members has exactly one handshake,
//      recorded by the initiator and the responder with the same handshake_hash;
//   4. every initiator interaction event recomputes its payload_hash/interaction_hash, and the peer's
//      chain holds exactly one `_received` mirror embedding exactly that event (same event hash), whose
//      signature verifies with the key from the handshake in the peer's own chain; no mirror is orphaned;
//   5. the unsigned session record agrees with what the chains show.
// A missing session_end is a warning (a session may be exported while running).
import { verifyAuditExport } from '../audit.js'
import { eventHash } from '../event.js'
import type { AissEvent } from '../types.js'
import { A2AErrorCodes as C } from './errors.js'
import { verifyHandshakeEvent, HANDSHAKE_EVENT_TYPE, type HandshakeFacts } from './handshake-event.js'
import { checkInitiatorEvent, checkMirrorEvent, mirroredEventHash } from './interaction.js'
import { SESSION_SPEC } from './session-export.js'

export interface SessionProblem { code: string, agent: string | null, index: number, message: string }

export interface SessionReport {
  valid: boolean
  sessionId: string
  agents: Array<{ name: string, agentId: string | null, chainValid: boolean, events: number, sessionEvents: number }>
  handshakes: number
  interactions: number
  problems: SessionProblem[]
  warnings: string[]
}

type Row = { name: string, agentId: string, events: AissEvent[] }

export function verifySessionExport (doc: unknown): { usable: true, report: SessionReport } | { usable: false, reason: string } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { usable: false, reason: 'not a JSON object' }
  const d = doc as Record<string, unknown>
  if (d.spec !== SESSION_SPEC) return { usable: false, reason: `spec ${JSON.stringify(d.spec)} is not ${SESSION_SPEC}` }
  const session = d.session as Record<string, unknown> | undefined
  if (!session || typeof session !== 'object' || typeof session.session_id !== 'string') return { usable: false, reason: 'missing session.session_id' }
  if (!d.agents || typeof d.agents !== 'object' || Array.isArray(d.agents)) return { usable: false, reason: '"agents" is not an object of audit exports' }
  const sid = session.session_id
  const problems: SessionProblem[] = []
  const warnings: string[] = []
  const add = (code: string, agent: string | null, index: number, message: string): void => { problems.push({ code, agent, index, message }) }
  const report: SessionReport = { valid: false, sessionId: sid, agents: [], handshakes: 0, interactions: 0, problems, warnings }

  // 1. chains
  const rows: Row[] = []
  for (const [name, exp] of Object.entries(d.agents as Record<string, unknown>)) {
    const r = verifyAuditExport(exp)
    if (!r.usable) return { usable: false, reason: `agents.${name}: ${r.reason}` }
    for (const e of r.report.errors) add(e.code, name, e.index, `chain: ${e.message}`)
    const events = (exp as { events: AissEvent[] }).events
    const mine = events.filter((e) => e?.payload?.session_id === sid)
    report.agents.push({ name, agentId: r.report.agent_id, chainValid: r.report.valid, events: events.length, sessionEvents: mine.length })
    if (r.report.agent_id) rows.push({ name, agentId: r.report.agent_id, events })
  }
  if (rows.length < 2) return { usable: false, reason: `a session needs at least 2 agents, the export holds ${rows.length}` }
  const byId = new Map(rows.map((r) => [r.agentId, r]))
  const ids = rows.map((r) => r.agentId).sort()

  // 2. session_start
  for (const r of rows) {
    const first = r.events.findIndex((e) => e?.payload?.session_id === sid)
    const start = r.events[first]
    if (!start || start.payload.event_type !== 'session_start') { add(C.SESSION_EXPORT_MALFORMED, r.name, first, 'the first session event is not session_start'); continue }
    const parts = start.payload.participants
    if (!Array.isArray(parts) || [...parts].map(String).sort().join() !== ids.join()) add(C.SESSION_EXPORT_MALFORMED, r.name, first, 'session_start participants differ from the agents in the export')
    if (!r.events.some((e) => e?.payload?.session_id === sid && e.payload.event_type === 'session_end')) warnings.push(`${r.name}: no session_end (exported while running?)`)
  }

  // 3. handshakes: keyOf[agent][peer] = the peer's key as this agent's chain recorded it
  const keyOf = new Map<string, Map<string, Uint8Array>>()
  const hs = new Map<string, Array<{ row: Row, index: number, facts: HandshakeFacts }>>()
  for (const r of rows) {
    keyOf.set(r.agentId, new Map())
    r.events.forEach((e, index) => {
      if (e?.payload?.session_id !== sid || e.payload.event_type !== HANDSHAKE_EVENT_TYPE) return
      const v = verifyHandshakeEvent(e)
      if (!v.ok) { for (const p of v.problems) add(p.code, r.name, index, `handshake: ${p.message}`); return }
      const peer = v.facts.role === 'initiator' ? v.facts.responder : v.facts.initiator
      keyOf.get(r.agentId)!.set(peer, v.facts.role === 'initiator' ? v.facts.responderKey : v.facts.initiatorKey)
      const list = hs.get(v.facts.handshakeHash) ?? []
      list.push({ row: r, index, facts: v.facts })
      hs.set(v.facts.handshakeHash, list)
    })
  }
  const pairs = new Set<string>()
  for (const [hash, list] of hs) {
    const roles = list.map((x) => `${x.facts.role}:${x.row.agentId}`).sort()
    const f = list[0]!.facts
    const want = [`initiator:${f.initiator}`, `responder:${f.responder}`].sort()
    if (roles.join() !== want.join()) {
      add(C.A2A_INTERACTION_MISMATCH, list[0]!.row.name, list[0]!.index, `handshake ${hash.slice(0, 16)}… recorded as [${roles.join(', ')}], expected one initiator and one responder record`)
      continue
    }
    const pair = [f.initiator, f.responder].sort().join('|')
    if (pairs.has(pair)) add(C.A2A_INTERACTION_MISMATCH, list[0]!.row.name, list[0]!.index, `a second handshake between ${f.initiator} and ${f.responder}`)
    pairs.add(pair)
  }
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      if (!pairs.has(`${ids[i]}|${ids[j]}`)) add(C.A2A_UNKNOWN_SESSION, byId.get(ids[i]!)!.name, -1, `no complete handshake between ${byId.get(ids[i]!)!.name} and ${byId.get(ids[j]!)!.name}`)
    }
  }
  report.handshakes = pairs.size

  // 4. interactions
  const mirrors = new Map<string, Array<{ row: Row, index: number, event: AissEvent }>>() // by embedded event hash
  for (const r of rows) {
    r.events.forEach((e, index) => {
      const p = e?.payload
      if (p?.session_id !== sid || p.event_type === HANDSHAKE_EVENT_TYPE || p.my_role !== 'responder') return
      const initiator = String(p.peer_agent_id)
      for (const pr of checkMirrorEvent(e, keyOf.get(r.agentId)?.get(initiator) ?? null)) add(pr.code, r.name, index, `mirror: ${pr.message}`)
      const h = mirroredEventHash(e)
      if (h === null) return
      const list = mirrors.get(h) ?? []
      list.push({ row: r, index, event: e })
      mirrors.set(h, list)
    })
  }
  const matched = new Set<string>()
  for (const r of rows) {
    r.events.forEach((e, index) => {
      const p = e?.payload
      if (p?.session_id !== sid || p.event_type === HANDSHAKE_EVENT_TYPE || p.my_role !== 'initiator') return
      for (const pr of checkInitiatorEvent(e)) add(pr.code, r.name, index, `interaction: ${pr.message}`)
      const h = eventHash(e)
      const found = (mirrors.get(h) ?? []).filter((m) => m.row.agentId === p.peer_agent_id)
      if (!byId.has(String(p.peer_agent_id))) add(C.A2A_UNKNOWN_SESSION, r.name, index, `interaction with ${String(p.peer_agent_id)}, who is not in the session`)
      else if (found.length === 0) add(C.A2A_INTERACTION_MISMATCH, r.name, index, `${String(p.event_type)} ${String(p.interaction_hash).slice(0, 16)}… has no mirror in ${byId.get(String(p.peer_agent_id))!.name}'s chain`)
      else {
        if (found.length > 1) add(C.A2A_INTERACTION_MISMATCH, r.name, index, `${String(p.event_type)} is mirrored ${found.length} times (a replayed interaction)`)
        matched.add(h); report.interactions++
      }
    })
  }
  for (const [h, list] of mirrors) {
    if (matched.has(h)) continue
    for (const m of list) add(C.A2A_INTERACTION_MISMATCH, m.row.name, m.index, `mirror of an event ${h.slice(0, 16)}… that is not in ${String(m.event.payload.peer_agent_id)}'s chain`)
  }

  // 5. the unsigned record
  const recAgents = session.agents as Record<string, { agent_id?: unknown }> | undefined
  for (const r of rows) {
    if (recAgents?.[r.name]?.agent_id !== r.agentId) add(C.SESSION_EXPORT_MALFORMED, r.name, -1, `session record names agent ${String(recAgents?.[r.name]?.agent_id)} for ${r.name}, its chain is ${r.agentId}`)
  }
  if (session.handshake_count !== undefined && session.handshake_count !== report.handshakes) add(C.SESSION_EXPORT_MALFORMED, null, -1, `session record claims ${String(session.handshake_count)} handshakes, the chains hold ${report.handshakes}`)
  if (session.interaction_count !== undefined && session.interaction_count !== report.interactions) add(C.SESSION_EXPORT_MALFORMED, null, -1, `session record claims ${String(session.interaction_count)} interactions, the chains show ${report.interactions}`)
  report.valid = problems.length === 0
  return { usable: true, report }
}
