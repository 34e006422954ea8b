// The TrustGate journal is a PCP chain of the hub's own identity (issue 8; RFC §20.4 "governance chain
// invariant", never implemented by the reference: gaps.md #45, #51). Each decision, queue transition and
// policy activation is stamped as an event `{ event_type: "trustgate.*", ...fields }`, so the journal is
// signed, hash-chained and checked by `pcp verify` like any other chain — no separate format whose hash
// covers only some fields. Payloads hold hashes and identifiers, never the action payload itself.
import type { AissEvent, IdentityDocument, Stamper } from '../../runtime/types.js'
import type { JsonObject } from '../../runtime/value.js'
import { canonicalize } from '../../runtime/canonical.js'
import { parseJson } from '../../runtime/json.js'
import { JOURNAL_TYPES, type JournalEntry } from './queue.js'
import type { ActivationRecord } from './versions.js'
import type { Decision } from '../../policy/types.js'

// Lossless (runtime/json.ts): JSON.parse would record a payload's 25.0 as 25 and round its big ints.
const toJson = (v: unknown): JsonObject => parseJson(canonicalize(v)) as JsonObject

export function decisionEntry (decision: Decision): JournalEntry {
  return { type: JOURNAL_TYPES.decision, payload: toJson({ decision }) }
}

export function activationEntry (record: ActivationRecord): JournalEntry {
  return { type: JOURNAL_TYPES.policyActivated, payload: toJson(record) }
}

/** Stamps journal entries onto a chain. Pass `journal.record` as the queue's onRecord. */
export class StamperJournal {
  constructor (readonly stamper: Stamper) {
    if (typeof stamper?.stamp !== 'function') throw new TypeError('"stamper" expected an object with stamp(eventType, payload)')
  }

  /** Resolves with the stamped event once it is durable; rejects (and the transition aborts) otherwise. */
  readonly record = async (entry: JournalEntry): Promise<AissEvent> => {
    if (!entry.type.startsWith('trustgate.')) throw new RangeError(`journal entry types start with "trustgate.", got ${entry.type}`)
    if (Object.hasOwn(entry.payload, 'event_type')) throw new RangeError('journal payloads must not carry their own event_type')
    return await this.stamper.stamp(entry.type, entry.payload)
  }
}

/** The hub's own chain. An `Agent` fits; `events`/`verify`/`firstIdentityDocument` enable audit and restore. */
export interface HubChain extends Stamper {
  events? (): AsyncIterable<AissEvent>
  verify? (): Promise<{ valid: boolean }>
  firstIdentityDocument? (): Promise<IdentityDocument>
}

/** The journal entry an event carries, or null for an event that is not a `trustgate.*` one. */
export function journalEntryOf (ev: AissEvent): JournalEntry | null {
  const { event_type: type, ...payload } = ev.payload
  return typeof type === 'string' && type.startsWith('trustgate.') ? { type, payload } : null
}

/** The journal entries in a chain's events (oldest first), e.g. to restore the approval queue. */
export async function * journalEntries (events: AsyncIterable<AissEvent> | Iterable<AissEvent>): AsyncGenerator<JournalEntry> {
  for await (const ev of events) {
    const entry = journalEntryOf(ev)
    if (entry !== null) yield entry
  }
}
