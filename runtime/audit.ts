// Audit export (protocol.md §14): the file an auditor receives. Our verifier checks everything both of
// the reference's checkers check, combined (gaps.md #15): the structure and chain_integrity_hash
// (validate_audit_export) AND every signature and link (the CLI's audit), plus agent_id binding.
import { chainIntegrityHash } from './event.js'
import { ErrorCodes, type ErrorCode } from './errors.js'
import { verifyChain, type ChainProblem } from './verify.js'
import type { AissEvent, IdentityDocument } from './types.js'

export const AUDIT_SPEC = 'AISS-1.0-AUDIT'
export const EXPORTER = 'pcp-edge/0.1.0'

export interface AuditExport {
  spec: string
  agent_identity: IdentityDocument
  events: AissEvent[]
  chain_integrity_hash: string
  exported_at: number
  metadata?: { event_count: number, first_timestamp: number | null, last_timestamp: number | null, exporter: string, [k: string]: unknown }
}

/** Builds an export. `hashes` (one per event) may be passed when the caller already has them. */
export function buildAuditExport (identity: IdentityDocument, events: AissEvent[], opts: { now?: number, hashes?: string[] } = {}): AuditExport {
  const hashes = opts.hashes ?? verifyChain(events, identity).hashes
  return {
    spec: AUDIT_SPEC,
    agent_identity: identity,
    events,
    chain_integrity_hash: chainIntegrityHash(hashes),
    exported_at: opts.now ?? Math.floor(Date.now() / 1000),
    metadata: {
      event_count: events.length,
      first_timestamp: events[0]?.timestamp ?? null,
      last_timestamp: events.at(-1)?.timestamp ?? null,
      exporter: EXPORTER
    }
  }
}

export interface ExportReport {
  valid: boolean
  event_count: number
  agent_id: string | null
  chain_integrity_hash: string | null
  errors: ChainProblem[]
}

/**
 * The checks on the document around its events, in the order verifyAuditExport makes them. `d.events`
 * only has to say whether it is an array (the streaming verifier never holds the events).
 */
export function checkExportShape (d: Record<string, unknown>): { ok: true, identity: unknown } | { ok: false, reason: string } {
  for (const field of ['spec', 'events', 'chain_integrity_hash', 'exported_at']) {
    if (!(field in d)) return { ok: false, reason: `missing required field "${field}"` }
  }
  // The reference's verify_audit_chain accepts either name for the identity block.
  const identity = d.agent_identity ?? d.identity
  if (!identity) return { ok: false, reason: 'missing required field "agent_identity"' }
  if (typeof d.spec !== 'string' || !d.spec.startsWith('AISS-')) return { ok: false, reason: `spec ${JSON.stringify(d.spec)} is not an AISS export` }
  if (!Array.isArray(d.events)) return { ok: false, reason: '"events" is not an array' }
  return { ok: true, identity }
}

/** What a chain check over an export's events yields (verifyChain, or the streaming verifier). */
export interface ExportChainResult {
  errors: ChainProblem[]
  eventCount: number
  agentId: string | null
  /** chain_integrity_hash of the events, or null unless every event could be hashed. */
  recomputed: string | null
}

/** The report from the chain result and the fields around the events. */
export function exportReport (d: Record<string, unknown>, identity: unknown, chain: ExportChainResult): ExportReport {
  const errors = [...chain.errors]
  const add = (code: ErrorCode, message: string, extra: Partial<ChainProblem> = {}): void => { errors.push({ code, index: -1, message, ...extra }) }
  // Only when every event's hash is known: with an unusable identity block no event is hashed, and
  // comparing against the hash of zero events would add a second, spurious error (issue 13 #10).
  const recomputed = chain.recomputed
  if (recomputed !== null && d.chain_integrity_hash !== recomputed) {
    add(ErrorCodes.EXPORT_HASH_MISMATCH, `chain_integrity_hash ${String(d.chain_integrity_hash)} does not match the events (recomputed ${recomputed})`,
      { field: 'chain_integrity_hash', expected: recomputed, actual: String(d.chain_integrity_hash) })
  }
  const meta = d.metadata as Record<string, unknown> | undefined
  if (meta && typeof meta === 'object' && meta.event_count !== undefined && meta.event_count !== chain.eventCount) {
    add(ErrorCodes.EXPORT_MALFORMED, `metadata.event_count is ${String(meta.event_count)} but the export holds ${chain.eventCount} events`,
      { field: 'metadata.event_count', expected: String(chain.eventCount), actual: String(meta.event_count) })
  }
  // Errors are listed by event index so the first one names the first event at fault.
  errors.sort((a, b) => (a.index === -1 ? Infinity : a.index) - (b.index === -1 ? Infinity : b.index))
  const identityProblem = chain.errors.find((e) => e.index === -1)
  if (identityProblem) errors.sort((a, b) => (a === identityProblem ? -1 : b === identityProblem ? 1 : 0))
  return {
    valid: errors.length === 0,
    event_count: chain.eventCount,
    agent_id: chain.agentId ?? (typeof (identity as Record<string, unknown>).agent_id === 'string' ? (identity as Record<string, string>).agent_id! : null),
    chain_integrity_hash: typeof d.chain_integrity_hash === 'string' ? d.chain_integrity_hash : null,
    errors
  }
}

/**
 * Verifies a parsed export. Returns `usable: false` (with the reason) when the document is not an export
 * at all, so a CLI can tell "invalid chain" (exit 1) from "not an audit export" (exit 2).
 * runtime/audit-stream.ts gives the same answers for a file, in bounded memory.
 */
export function verifyAuditExport (doc: unknown): { usable: true, report: ExportReport } | { usable: false, reason: string } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { usable: false, reason: 'not a JSON object' }
  const d = doc as Record<string, unknown>
  const shape = checkExportShape(d)
  if (!shape.ok) return { usable: false, reason: shape.reason }
  const events = d.events as unknown[]
  const chain = verifyChain(events, shape.identity)
  const recomputed = chain.hashes.length === events.length && chain.hashes.every((h) => h) ? chainIntegrityHash(chain.hashes) : null
  return { usable: true, report: exportReport(d, shape.identity, { errors: chain.errors, eventCount: events.length, agentId: chain.agentId, recomputed }) }
}
