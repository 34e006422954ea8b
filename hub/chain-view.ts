// What the hub's HTTP API reads from (and writes through) the hub's chain store. Ingest (MQTT) owns the
// store; the API only sees this interface, so it never touches files and never builds a path from a URL
// segment (gaps.md #58): it resolves a URL's agent reference against agents() and passes on the
// agentId it found there.
import type { AissEvent, ChainProblem, IdentityDocument } from '../runtime/index.js'

/**
 * Where an agent's chain stands. `verification`: 'valid' when every event received so far verified;
 * 'anomalous' once at least one was rejected (the stored chain itself stays valid: rejected events are
 * not stored); 'unverified' when the hub holds events it has not checked yet (e.g. still replaying).
 */
export type VerificationState = 'valid' | 'anomalous' | 'unverified'

export interface AgentChainStatus {
  /** The id the chain is registered under: its first identity (a rotation does not change it). */
  agentId: string
  /** The agent_id that signs the next event (differs from agentId after a key rotation). */
  currentAgentId: string
  /** Registered name (validated with checkAgentName); the agentId when none was given. */
  name: string
  headHash: string | null
  eventCount: number
  /** Timestamp (Unix seconds) of the last stored event, as signed by the agent. */
  lastEventAt: number | null
  /** When the hub last received anything from this agent (hub clock, Unix seconds). */
  lastSeen: number | null
  verification: VerificationState
  rejectedCount: number
  lastProblem: { code: string, index: number, message: string, at: number } | null
}

export interface IngestResult {
  accepted: boolean
  /** Verifier problems (empty when accepted); each has a stable code and the event's chain index. */
  problems: ChainProblem[]
  /** Chain index the event was checked at, and its hash when it could be computed. */
  index: number
  hash: string | null
  /**
   * Set when the event is not the agent's to be charged with (no valid signature of its key, or a
   * replay of one it holds): counted under this reason, never an anomaly of the agent (hub/hostile.ts).
   */
  hostile?: string
}

export interface ChainView {
  /** Every registered chain, in a stable order. */
  agents (): AgentChainStatus[]
  status (agentId: string): AgentChainStatus | undefined
  /** The last `limit` stored events, newest first. */
  recent (agentId: string, limit: number): Promise<AissEvent[]>
  /** The identity the chain starts with (what an audit export names). */
  identity (agentId: string): Promise<IdentityDocument | undefined>
  /**
   * The audit export (protocol.md §14 layout) as JSON text chunks, so a long chain is streamed, never
   * held in memory; undefined for an unknown agent. Numbers keep their int/float form (stringifyJson).
   */
  exportChain (agentId: string, opts?: { now?: number }): Promise<AsyncIterable<string> | undefined>
  /**
   * Verifies `event` against the stored head (signature, link, agent_id, nonce, timestamp) and stores
   * it only if it passes. Never throws for bad input: a verdict. Does NOT feed Vigil: the caller does
   * (see hub/vigil/record.ts), so MQTT ingest and POST /record score events the same way.
   */
  ingest (agentId: string, event: unknown): Promise<IngestResult>
}
