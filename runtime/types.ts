// Shapes shared by every module. The protocol core works on these plain objects; nothing here does I/O.
import type { JsonValue } from './value.js'

/** The signed part of an AISS-1.0 event (protocol.md §3). Unknown top-level fields are kept: they are signed too. */
export interface UnsignedEvent {
  version: string
  agent_id: string
  timestamp: number
  nonce: string
  payload: { [key: string]: JsonValue }
  previous_hash: string | null
  [extra: string]: JsonValue | undefined
}

/** An AISS-1.0 event: every field but `signature` is signed, and hashed for the next event's link. */
export interface AissEvent extends UnsignedEvent {
  signature: string
}

/** The unsigned identity document (protocol.md §10). */
export interface IdentityDocument {
  version: string
  agent_id: string
  public_key: string
  algorithm: string
  created_at: number
  metadata?: { [key: string]: JsonValue }
  [extra: string]: JsonValue | undefined
}

/**
 * What bridges (ROS 2, GPIO, sync, gate) need from an agent: one call that appends a signed event to its
 * chain and resolves once it is durable. `Agent` implements it; tests may pass any object that does.
 */
export interface Stamper {
  readonly agentId: string
  stamp (eventType: string, payload?: { [key: string]: JsonValue }): Promise<AissEvent>
}
