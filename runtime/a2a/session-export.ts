// The session export `pcp session-verify` reads: every member's complete audit export (protocol.md §14,
// from genesis, so each chain verifies on its own) plus the session record. The record is a summary and
// is not signed: the verifier recomputes everything it claims from the chains and reports disagreement.
//
//   {
//     "spec": "PCP-A2A-SESSION-1",
//     "session": { "session_id", "started_at", "ended_at", "agent_count", "handshake_count", "interaction_count",
//                  "total_events", "agents": { <name>: { "agent_id", "event_count" } },
//                  "handshakes": [ { "agent_a", "agent_b", "agent_a_id", "agent_b_id", "handshake_hash",
//                                    "event_a_hash", "event_b_hash", "timestamp" } ] },
//     "agents": { <name>: <AISS-1.0-AUDIT export> },
//     "exported_at": <unix s>
//   }
import { buildAuditExport, type AuditExport } from '../audit.js'
import type { Agent } from '../agent.js'

export const SESSION_SPEC = 'PCP-A2A-SESSION-1'

export interface HandshakeSummary {
  agent_a: string
  agent_b: string
  agent_a_id: string
  agent_b_id: string
  handshake_hash: string
  event_a_hash: string
  event_b_hash: string
  timestamp: number
}

export interface SessionRecord {
  session_id: string
  started_at: number | null
  ended_at: number | null
  agent_count: number
  handshake_count: number
  interaction_count: number
  total_events: number
  agents: Record<string, { agent_id: string, event_count: number }>
  handshakes: HandshakeSummary[]
}

export interface SessionExport {
  spec: typeof SESSION_SPEC
  session: SessionRecord
  agents: Record<string, AuditExport>
  exported_at: number
}

/** Collects each member's whole chain into a session export (members stay open). */
export async function buildSessionExport (record: SessionRecord, members: ReadonlyArray<{ name: string, agent: Agent }>, opts: { now?: number } = {}): Promise<SessionExport> {
  const agents: Record<string, AuditExport> = {}
  const now = opts.now ?? Math.floor(Date.now() / 1000)
  for (const { name, agent } of members) {
    agents[name] = buildAuditExport(await agent.firstIdentityDocument(), await agent.history(), { now })
  }
  return { spec: SESSION_SPEC, session: record, agents, exported_at: now }
}

