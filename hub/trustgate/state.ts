// Where TrustGate keeps what it must not forget: the policy versions with their activation history, and
// the journal (every decision, queue transition and activation, signed and hash-chained), from which the
// service rebuilds its queue and recent decisions (restore.ts). Two implementations share the service:
//   FileTrustGateState   one hub: versions under --data/trustgate, the journal in the hub's own chain;
//   PgTrustGateState     several hubs on one PostgreSQL store (pg-state.ts): one journal for all of them.
// A shared journal can move under a hub: append() then refuses with JOURNAL_CONFLICT, and the service
// reads what the others appended (readNew) and decides again on the state as it is now.
import type { AissEvent, IdentityDocument } from '../../runtime/types.js'
import type { LoadedPolicy } from '../../policy/types.js'
import { PolicyVersionStore, type ActivationRecord, type IntegrityProblem, type PolicyChange } from './versions.js'
import { StamperJournal, type HubChain } from './journal.js'
import type { JournalEntry } from './queue.js'
import type { Principals } from './principal-store.js'

/** The version store's reads, which the HTTP API and the service make synchronously. */
export interface PolicyVersions {
  resolve (idOrPrefix: string): string
  versions (): string[]
  get (idOrPrefix: string): LoadedPolicy
  history (): ActivationRecord[]
  active (): { record: ActivationRecord, policy: LoadedPolicy } | null
  activeAt (at: number): { record: ActivationRecord, policy: LoadedPolicy } | null
  diff (a: string, b: string): PolicyChange[]
  checkIntegrity (): { ok: boolean, problems: IntegrityProblem[] }
}

/** What audit.ts reads: the journal's events, its verification, the identity that signs it. */
export interface JournalReader {
  events? (): AsyncIterable<AissEvent>
  verify? (): Promise<{ valid: boolean }>
  firstIdentityDocument? (): Promise<IdentityDocument>
}

export interface TrustGateState extends JournalReader {
  /** True when other hubs write the same state (the service then serialises and catches up). */
  readonly shared: boolean
  readonly versions: PolicyVersions
  /** The principals, when this state keeps them (shared); otherwise the service's principals.json. */
  readonly principals?: Principals
  /** Stores a policy's bytes (validated; idempotent, never overwriting). */
  addVersion (bytes: Uint8Array | string, source: string): Promise<{ id: string, policy: LoadedPolicy, created: boolean }>
  /**
   * The activation record of `id`, next in the history. The file store writes its log line here, before
   * the journal event (as it always has); the shared store takes it into history with its journal event.
   */
  activationRecord (id: string, by: { principal: string, comment: string, at: number }): Promise<ActivationRecord>
  /** Appends to the journal; resolves with the signed event once durable. Shared: JOURNAL_CONFLICT when another hub appended first. */
  append (entry: JournalEntry): Promise<AissEvent>
  /** Journal events other hubs appended since this state last appended or read, oldest first. */
  readNew (): Promise<AissEvent[]>
  /** Calls `listener` when another hub may have appended (a notification, or the poll). */
  onChange (listener: () => void): void
  close (): Promise<void>
}

/** One hub: today's layout, unchanged. */
export class FileTrustGateState implements TrustGateState {
  readonly shared = false
  readonly versions: PolicyVersionStore
  readonly #journal: StamperJournal

  constructor (dir: string, hub: HubChain) {
    this.versions = PolicyVersionStore.open(dir)
    this.#journal = new StamperJournal(hub)
    if (hub.events) this.events = () => hub.events!()
    if (hub.verify) this.verify = async () => await hub.verify!()
    if (hub.firstIdentityDocument) this.firstIdentityDocument = async () => await hub.firstIdentityDocument!()
  }

  events?: () => AsyncIterable<AissEvent>
  verify?: () => Promise<{ valid: boolean }>
  firstIdentityDocument?: () => Promise<IdentityDocument>

  async addVersion (bytes: Uint8Array | string, source: string): Promise<{ id: string, policy: LoadedPolicy, created: boolean }> {
    return this.versions.add(bytes, source)
  }

  async activationRecord (id: string, by: { principal: string, comment: string, at: number }): Promise<ActivationRecord> {
    return this.versions.activate(id, by)
  }

  async append (entry: JournalEntry): Promise<AissEvent> { return await this.#journal.record(entry) }

  async readNew (): Promise<AissEvent[]> { return [] }

  onChange (_listener: () => void): void {}

  async close (): Promise<void> {}
}
