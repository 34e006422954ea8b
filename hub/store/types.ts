// The hub's chain store, as an interface: what ingest, the registry and the HTTP API need from it.
// hub/store/level.ts implements it on one LevelDB (one hub process per store). It is shaped so a
// PostgreSQL store can implement it later without changing ingest:
// - every write that extends a chain is a compare-and-set on the agent's head (`expectedSeq`): in SQL,
//   one transaction `UPDATE agents SET head_seq = $new WHERE agent_id = $id AND head_seq = $expected`
//   plus the event and nonce rows. Two hub instances that both think they own an agent (a rebalance of
//   a shared subscription) cannot both extend its chain: the loser gets STORE_CONFLICT, reloads, nacks.
// - nothing is cached across agents that another process could change, except the per-agent record the
//   store hands out; `reload(agentId)` re-reads it after a conflict.
import type { AissEvent, IdentityDocument } from '../../runtime/types.js'
import type { PqInForceJSON } from '../../runtime/profile.js'

export type RegistryState = 'allowed' | 'pending' | 'revoked'

export interface StoredKey { agentId: string, publicKey: Uint8Array }

export interface StoredHead { seq: number, hash: string, timestamp: number }

export interface StoredProblem { code: string, index: number, message: string, at: number }

/** Everything the hub knows about one chain, kept in one record (one key / one row). */
export interface AgentRecord {
  /** The chain's id: its first identity's agent_id, which is also its MQTT topic level. */
  agentId: string
  name: string
  state: RegistryState
  /** TrustGate role, set by the operator at approval (`pcp hub approve --role`); absent: the default role. Never taken from the device. */
  role?: string
  /** The first identity document; null when an operator approved the id before the device appeared. */
  identity: IdentityDocument | null
  /** The keys that signed this chain, in rotation order; a stored record's identity index points here. */
  keys: StoredKey[]
  /** The AISS-2 profile state at the head (runtime/profile.ts: the ML-DSA key in force and the per-event-type
   *  policy), once ingest has seen the chain upgrade; null after a chain had none; absent for older records. */
  profile?: PqInForceJSON | null
  head: StoredHead | null
  /** Events stored (= head.seq + 1). */
  count: number
  firstSeen: number
  lastSeen: number | null
  rejectedCount: number
  lastProblem: StoredProblem | null
  /** Evidence entries ever written (the store keeps the newest `maxEvidence`). */
  evidenceCount: number
}

/** Events to append to one chain, with the record as it stands after them. */
export interface ChainAppend {
  agentId: string
  /** The head seq the caller checked against (-1: empty chain). Mismatch → STORE_CONFLICT. */
  expectedSeq: number
  /**
   * Consecutive from expectedSeq + 1. `keyIndex` points into `record.keys`. `record`: the event's record
   * (runtime/record.ts) as it arrived, which decodes to `event` (its identity index may point elsewhere:
   * the store sets it to `keyIndex`); stored as it is instead of encoding `event` again.
   */
  events: Array<{ event: AissEvent, hash: string, keyIndex: number, record?: Uint8Array }>
  record: AgentRecord
}

/** What is kept of a refused input: enough to show an auditor what arrived, bounded per agent. */
export interface Evidence {
  at: number
  /** The verifier's code (FORK_DETECTED, SIGNATURE_INVALID, ...) or the message-level reason. */
  code: string
  message: string
  /** Chain position the input claimed, when it claimed one. */
  seq: number | null
  topic: string
  /** The refused record's bytes (or the first bytes of an undecodable message). */
  raw: Uint8Array
}

export interface HubStore {
  /** Every known agent (any registry state), in a stable order. Synchronous: served from memory. */
  agents (): AgentRecord[]
  agent (agentId: string): AgentRecord | undefined
  /** Re-reads one agent's record from durable storage (after a conflict). */
  reload (agentId: string): Promise<AgentRecord | undefined>
  /** Creates or replaces an agent's record (registry changes, status). Does not touch its events. */
  putAgent (record: AgentRecord, evidence?: Evidence): Promise<void>
  /**
   * Appends to several chains in ONE durable write (group commit): all or nothing. Resolves once it is
   * on disk. Rejects with STORE_CONFLICT when a head moved, naming the agent. After a rejection the view
   * (agent()) holds each agent's record as stored (or, when it cannot be read, as last committed).
   */
  append (items: ChainAppend[]): Promise<void>
  /** For each (signer agent_id, nonce): the seq that used it, or undefined. */
  noncesUsed (chainId: string, pairs: ReadonlyArray<{ signer: string, nonce: string }>): Promise<Array<number | undefined>>
  event (agentId: string, seq: number): Promise<AissEvent | undefined>
  /** Chain order, [from, to). */
  events (agentId: string, from?: number, to?: number): AsyncIterable<{ seq: number, event: AissEvent }>
  /** Newest first. */
  evidence (agentId: string, limit?: number): Promise<Evidence[]>
  close (): Promise<void>
  /**
   * True when other processes write the same agents (PostgreSQL, several hubs): the record this process
   * holds may be behind, so ingest re-reads it before it answers a gap or a head question.
   */
  readonly shared?: boolean
  /** Shared stores: re-reads one agent's record unless this process has writes of it in flight. */
  refresh? (agentId: string): Promise<void>
  /** Shared stores: every agent's stored event count, read now (appends of other hubs are not announced). */
  counts? (): Promise<Map<string, number>>
}
