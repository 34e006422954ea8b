// Agent: what every robot and sensor script calls. It owns one identity and its chain in the device
// store, stamps events onto the persisted head and resolves each stamp once its event is durable.
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { EventStore, type Durability, type SearchQuery } from './store.js'
import { Identity } from './identity.js'
import { prepareEvent, finishEvent, timestampSeconds, type PreparedEvent } from './event.js'
import { SignerThread } from './signer-thread.js'
import { ChainVerifier, type ChainReport, type ChainProblem } from './verify.js'
import { writeAuditExport } from './memory.js'
import { createRotationAttestation, rotationPayload, ROTATION_EVENT_TYPE } from './rotation.js'
import { crypto } from './crypto.js'
import { PcpError, ErrorCodes } from './errors.js'
import { writeFileAtomic, exists, ensureDir } from './fsutil.js'
import {
  pcpHome, agentDir, createAgentIdentity, loadAgentIdentity, loadIdentityFile, keyFileFor, identityFileText,
  readRotatedIdentityDocument, IDENTITY_FILE, ENC_KEY_FILE
} from './home.js'
import { continueReferenceHistory } from './reference-history.js'
import { REPAIR_EVENT_TYPE, repairPayload, type RepairReport } from './store-repair.js'
import { stageKeySwap, stagedAgentId, completeKeySwap, discardKeySwap } from './key-swap.js'
import type { AissEvent, IdentityDocument, Stamper } from './types.js'
import type { JsonObject, JsonValue } from './value.js'
import { signStatement, type StatementSigner } from './statement.js'

export interface AgentOpenOptions {
  /** Defaults to $PCP_HOME or ~/.pcp. */
  home?: string
  /** For encrypted keys; defaults to $PCP_PASSPHRASE. Also encrypts a key created here. */
  passphrase?: string
  /** 'durable' (default): stamp() resolves once the event is fsynced. 'relaxed': written, not fsynced:
   *  a crash of the process loses nothing; a power cut loses at most what was stamped since the last
   *  fsync (a sync batch, a rotation, close()), never an event in the middle (runtime/store-repair.ts). */
  durability?: Durability
  /** 'interval' durability: the fsync period in ms (default 1000, runtime/store.ts DEFAULT_SYNC_INTERVAL_MS). */
  syncIntervalMs?: number
  /** Create the identity when it does not exist yet (default true). */
  create?: boolean
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number
  scryptN?: number
  /** Largest event stamp() accepts, in canonical bytes (default MAX_EVENT_BYTES, which sync can always
   *  deliver in one message). Raise it only for chains that travel by export, not by sync. */
  maxEventBytes?: number
  /** The reference's "Pro" memory passphrase, to import its encrypted history at the first open (or a
   *  function asked only then). Defaults to $PCP_MEMORY_PASSPHRASE, then the key's passphrase. */
  memoryPassphrase?: string | (() => Promise<string | undefined>)
}

/**
 * Default ceiling on one event's canonical bytes: 900 KiB. A sync message holds at most 1 MiB (the
 * embedded broker's limit, sync/topics.ts MAX_PAYLOAD_BYTES) less 64 KiB of envelope headroom, and an
 * accepted event that can never be delivered would stop its chain's sync for good (issue 15). The signed
 * record adds ~100 bytes to the canonical form and CBOR is never larger than the JSON it encodes.
 */
export const MAX_EVENT_BYTES = 900 * 1024

export type AgentRef = { name: string } | { identityFile: string }

interface Pending extends PreparedEvent {
  generation: number
  meta: Record<string, unknown> | undefined
  resolve: (event: AissEvent) => void
  reject: (err: unknown) => void
}

// Said once per agent name and process, not at every open.
const relaxedWarned = new Set<string>()

// Below this many stamps waiting at once, signing inline is quicker than a round trip to the thread.
const SIGNER_THREAD_MIN_BATCH = 8
const SIGN_CHUNK = 256
// The share of a lone chunk the main thread signs beside the thread: a little under half, as it also
// posts the request and collects the answer.
const INLINE_SHARE = 0.45

export class Agent extends EventEmitter implements Stamper, StatementSigner {
  readonly name: string
  readonly dir: string
  readonly store: EventStore
  #identity: Identity
  #agentIndex: number
  #clock: () => number
  #passphrase: string | undefined
  #scryptN: number | undefined
  #maxEventBytes: number
  // The chain head including events prepared but not yet signed or stored (stamp() chains on it).
  #head: { seq: number, hash: string, timestamp: number } | null
  #queue: Pending[] = []
  #flushQueued = false
  // Batches are signed and handed to the store strictly in order: each waits for the one before.
  #tail: Promise<void> = Promise.resolve()
  #signer: SignerThread | undefined
  // Bumped on a failure: everything prepared on top of the failed events is refused, not stored.
  #generation = 0
  // After a store write error no stamp is chained until the store is reopened and the head re-read
  // from disk (issue 13 #4); stamps made meanwhile wait for that, in call order, or are refused.
  #recovering: Promise<void> | null = null
  // The store's epoch #head was read in: a reopen by anyone else (a sync cursor write) makes it stale.
  #epoch: number

  private constructor (name: string, dir: string, identity: Identity, store: EventStore, agentIndex: number, opts: AgentOpenOptions) {
    super()
    this.name = name; this.dir = dir; this.store = store
    this.#identity = identity
    this.#agentIndex = agentIndex
    this.#clock = opts.clock ?? Date.now
    this.#passphrase = opts.passphrase ?? process.env.PCP_PASSPHRASE
    this.#scryptN = opts.scryptN
    this.#maxEventBytes = opts.maxEventBytes ?? MAX_EVENT_BYTES
    this.#head = storedHead(store)
    this.#epoch = store.epoch
    if (store.durability === 'relaxed' && !relaxedWarned.has(name)) {
      relaxedWarned.add(name)
      process.emitWarning(`agent "${name}" runs in relaxed durability: events are written but not fsynced; a power cut may lose those stamped since the last fsync (a sync batch, a rotation, close())`, { code: 'PCP_RELAXED_DURABILITY' })
    } else if (store.durability === 'interval' && !relaxedWarned.has(name)) {
      relaxedWarned.add(name)
      process.emitWarning(`agent "${name}" runs in interval durability: events are fsynced at most every ${store.syncIntervalMs} ms; a power cut may lose those stamped in the last ${store.syncIntervalMs} ms plus one fsync`, { code: 'PCP_INTERVAL_DURABILITY' })
    }
  }

  static async open (ref: AgentRef, opts: AgentOpenOptions = {}): Promise<Agent> {
    if (opts.maxEventBytes !== undefined && !(opts.maxEventBytes > 0)) throw new RangeError(`"maxEventBytes" expected a positive number of bytes, got ${String(opts.maxEventBytes)}`)
    const home = pcpHome(opts.home)
    let name: string; let identity: Identity
    const openStore = (name: string): Promise<EventStore> => EventStore.open(join(agentDir(home, name), 'store'), { name, ...(opts.durability ? { durability: opts.durability } : {}), ...(opts.syncIntervalMs !== undefined ? { syncIntervalMs: opts.syncIntervalMs } : {}) })
    if ('identityFile' in ref) {
      identity = await loadIdentityFile(ref.identityFile)
      name = identity.agentId
      const dir = agentDir(home, name)
      await ensureDir(dir)
      if (!await exists(join(dir, IDENTITY_FILE))) await writeFileAtomic(join(dir, IDENTITY_FILE), identityFileText(identity), 0o644)
    } else {
      name = ref.name
      const dir = agentDir(home, name)
      // A rotate() was interrupted. Settled before the key files are read, which it may have left half
      // swapped: if its rotation event reached the chain, finish the swap; if not, the new key never signed.
      const staged = await stagedAgentId(dir)
      if (staged !== undefined) {
        const store = await openStore(name)
        try {
          if (await nextSigner(store) === staged) await completeKeySwap(dir); else await discardKeySwap(dir)
        } finally { await store.close() }
      }
      const keyOpts = { ...(opts.passphrase ? { passphrase: opts.passphrase } : {}), ...(opts.scryptN ? { scryptN: opts.scryptN } : {}) }
      if (opts.create !== false && !await exists(join(dir, IDENTITY_FILE))) {
        identity = await createAgentIdentity(home, name, { ...keyOpts, ...(opts.clock ? { now: Math.floor(opts.clock() / 1000) } : {}) })
      } else {
        identity = await loadAgentIdentity(home, name, keyOpts)
      }
    }
    const dir = agentDir(home, name)
    let store: EventStore
    try { store = await openStore(name) } catch (err) { identity.destroy(); throw err }
    try {
      // A copied reference directory: its own history comes first, so the chain continues, not forks.
      await continueReferenceHistory(store, home, dir, { agentId: identity.agentId, publicKey: identity.publicKey },
        opts.memoryPassphrase ?? process.env.PCP_MEMORY_PASSPHRASE ?? opts.passphrase ?? process.env.PCP_PASSPHRASE)
      const expected = await nextSigner(store)
      if (expected !== undefined && expected !== identity.agentId) {
        throw new PcpError(ErrorCodes.IDENTITY_INVALID,
          `agent "${name}": the key on disk is ${identity.agentId}, but the chain continues under ${expected}`,
          { agent: name, expected, actual: identity.agentId })
      }
      const agentIndex = await store.addIdentity({ agentId: identity.agentId, publicKey: identity.publicKey })
      const agent = new Agent(name, dir, identity, store, agentIndex, opts)
      const warnings = await agent.#recordRepairs()
      // After open() has returned: a listener attached right after it hears them.
      if (warnings.length) setImmediate(() => { for (const w of warnings) agent.emit('warning', w) })
      return agent
    } catch (err) {
      identity.destroy()
      await store.close()
      throw err
    }
  }

  /**
   * A hole the store cut back at open (runtime/store-repair.ts) becomes the chain's next event, fsynced,
   * so the chain says which positions were lost and which hashes were set aside. Also emitted as a
   * 'warning' ({ code, message, repair }) once open() has returned. A store that cannot take writes
   * now (a full disk) keeps the report and is asked again at the next open.
   */
  async #recordRepairs (): Promise<Array<{ code: string, message: string, repair: RepairReport }>> {
    const pending = this.store.unrecordedRepairs
    const out: Array<{ code: string, message: string, repair: RepairReport }> = []
    if (pending.length === 0 || this.store.failure !== null) return out
    for (const r of pending) {
      await this.stamp(REPAIR_EVENT_TYPE, repairPayload(r))
      const message = `agent "${this.name}": ${r.setAside.length} events after a hole at #${r.lostFrom} (a power cut in relaxed mode) were set aside in quarantine ${r.n}; the chain continues after #${r.lostFrom - 1}, and event #${this.#head!.seq} (${REPAIR_EVENT_TYPE}) records it`
      out.push({ code: 'STORE_HOLE_REPAIRED', message, repair: r })
    }
    await this.store.sync()
    return out
  }

  get agentId (): string { return this.#identity.agentId }
  get publicKey (): Uint8Array { return this.#identity.publicKey }

  /** Signs a statement that is not a chain event (runtime/statement.ts: gate requests, broker logins) with the current key. */
  signStatement (purpose: string, body: JsonObject): Uint8Array { return signStatement(this.#identity, purpose, body) }
  get durability (): Durability { return this.store.durability }
  /** The last stamped event's position and hash (persisted or still in flight). Null for an empty chain. */
  get head (): { seq: number, hash: string, timestamp: number } | null {
    return this.#head ? { ...this.#head } : null
  }

  /** The current identity document (after rotations, the newest key's). */
  identityDocument (): IdentityDocument { return this.#identity.document() }

  /** The identity the chain starts with: what an audit export names, so the chain verifies from event 0. */
  async firstIdentityDocument (): Promise<IdentityDocument> {
    const first = this.store.identities[0]!
    if (first.agentId === this.agentId) return this.#identity.document()
    return readRotatedIdentityDocument(this.dir, this.name, first.agentId)
  }

  /**
   * Signs `{ event_type, ...payload }` onto the head. The event is chained synchronously, so concurrent
   * calls chain in call order; a burst is signed on a second thread and stored in one group-commit
   * batch. Resolves with the event once it is durable (see AgentOpenOptions.durability).
   * `opts.meta`: store meta slots written in the same atomic batch as the event (an anchor event and
   * the removal of its pending entry, runtime/anchor/anchorer.ts: a crash keeps both or neither).
   */
  stamp (eventType: string, payload: Record<string, JsonValue> = {}, opts: { meta?: Record<string, unknown> } = {}): Promise<AissEvent> {
    if (typeof eventType !== 'string' || eventType.length === 0) throw new TypeError('"eventType" expected a non-empty string')
    if (this.store.closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `agent "${this.name}" is closed`, { agent: this.name }))
    if (this.store.failure !== null || this.#recovering !== null || this.#epoch !== this.store.epoch) {
      return this.#recovered().then(() => this.stamp(eventType, payload, opts))
    }
    const head = this.#head
    // Never earlier than the previous event: a Pi without RTC may boot with a clock behind its chain.
    const timestamp = Math.max(Math.floor(this.#clock() / 1000), head?.timestamp ?? 0)
    let prepared: PreparedEvent
    try {
      prepared = prepareEvent(this.#identity.agentId, { ...payload, event_type: eventType }, {
        previousHash: head ? head.hash : this.#identity.genesisHash(),
        timestamp
      })
    } catch (err) {
      // A payload canonical JSON refuses (too deep, NaN, a lone surrogate) is refused here, before it is
      // chained or queued: nothing after it is affected.
      return Promise.reject(err)
    }
    if (prepared.bytes.length > this.#maxEventBytes) {
      return Promise.reject(new PcpError(ErrorCodes.EVENT_TOO_LARGE, `a "${eventType}" event of ${prepared.bytes.length} canonical bytes exceeds the ${this.#maxEventBytes}-byte limit of agent "${this.name}" (one sync message must carry it; store large data beside the chain and stamp its hash)`, { agent: this.name, field: 'payload', actual: prepared.bytes.length, expected: this.#maxEventBytes }))
    }
    this.#head = { seq: (head?.seq ?? -1) + 1, hash: prepared.hash, timestamp }
    return new Promise((resolve, reject) => {
      this.#queue.push({ unsigned: prepared.unsigned, bytes: prepared.bytes, hash: prepared.hash, generation: this.#generation, meta: opts.meta, resolve, reject })
      if (!this.#flushQueued) {
        this.#flushQueued = true
        // A microtask runs once the caller's synchronous loop is done: a burst becomes one batch.
        queueMicrotask(() => this.#flush())
      }
    })
  }

  #flush (): void {
    this.#flushQueued = false
    // Chunks keep the stages flowing: every chunk's signatures are requested at once (the thread works
    // through them), while the main thread encodes and writes the chunks already signed, in order.
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, SIGN_CHUNK)
      const signing = this.#sign(batch, this.#queue.length === 0)
      signing.catch(() => {}) // handled in order by #store
      // The tail must never stay rejected: every later batch chains on it and would never settle, and
      // close() would reject (issue 13 #3). A throw anywhere in #store refuses this batch and what follows.
      this.#tail = this.#tail.then(() => this.#store(batch, signing)).catch((err) => this.#fail(batch, err))
    }
  }

  #sign (batch: Pending[], last: boolean): Promise<Uint8Array[]> {
    try {
      if (batch.length >= SIGNER_THREAD_MIN_BATCH && (this.#signer ??= SignerThread.start(this.#identity.signingHandle))?.alive) {
        // A lone chunk with the thread idle (a caller awaiting each batch): the main thread would only
        // wait, so it signs the tail itself while the thread signs the head (issue 18: awaited batches
        // of 100 ran signing and storing one after the other). In a stream the thread has work queued
        // and the main thread has encoding and storing to do, so the thread signs everything.
        const inline = last && this.#signer.busy === 0 ? Math.floor(batch.length * INLINE_SHARE) : 0
        const cut = batch.length - inline
        const head = this.#signer.sign(batch.slice(0, cut).map((b) => b.bytes))
        const tail: Uint8Array[] = []
        for (let i = cut; i < batch.length; i++) tail.push(this.#identity.sign(batch[i]!.bytes))
        return head.then((all) => {
          const out = new Array<Uint8Array>(batch.length)
          for (let i = 0; i < cut; i++) out[i] = all.subarray(64 * i, 64 * i + 64)
          for (let i = cut; i < batch.length; i++) out[i] = tail[i - cut]!
          return out
        })
      }
      return Promise.resolve(batch.map((b) => this.#identity.sign(b.bytes)))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async #store (batch: Pending[], signing: Promise<Uint8Array[]>): Promise<void> {
    if (batch[0]!.generation !== this.#generation) return this.#refuse(batch, this.store.failure ?? new PcpError(ErrorCodes.STORE_WRITE_FAILED, `agent "${this.name}": an earlier event failed to be stored; this one chained on it and was dropped`, { agent: this.name }))
    let signatures: Uint8Array[]
    try {
      signatures = await signing
    } catch (err) {
      return this.#fail(batch, err)
    }
    const items = batch.map((b, i) => ({ event: finishEvent(b.unsigned, signatures[i]!), hash: b.hash, agentIndex: this.#agentIndex, signature: signatures[i]! }))
    let meta: Record<string, unknown> | undefined
    for (const b of batch) if (b.meta) meta = { ...meta, ...b.meta }
    // Not awaited: the next chunk is handled while this one is being written (the store groups writes).
    this.store.append(items, meta ? { meta } : {}).then(() => {
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(items[i]!.event)
      if (this.listenerCount('stamped')) for (const it of items) this.emit('stamped', it.event, it.hash)
    }, (err) => this.#fail(batch, err))
  }

  /** Refuses a batch and everything chained after it, and rewinds the head to what is really stored. */
  #fail (batch: Pending[], err: unknown): void {
    this.#generation++
    this.#refuse([...batch, ...this.#queue.splice(0)], err)
    this.#head = storedHead(this.store)
  }

  #refuse (batch: Pending[], err: unknown): void {
    for (const b of batch) b.reject(err)
  }

  /**
   * Once everything in flight has settled (refused): reopens the store and continues from the head
   * it reads from disk. Rejects (STORE_NO_SPACE, STORE_WRITE_FAILED) while the store cannot take writes.
   */
  #recovered (): Promise<void> {
    return (this.#recovering ??= (async () => {
      try {
        await this.#tail
        await this.store.flush()
        await this.store.recover()
        this.#generation++
        this.#epoch = this.store.epoch
        this.#head = storedHead(this.store)
      } finally {
        this.#recovering = null
      }
    })())
  }

  /** Waits until every stamp so far is signed and written. */
  async #drain (): Promise<void> {
    if (this.#queue.length) this.#flush()
    await this.#tail
    await this.store.flush()
  }

  /** Every event in chain order, across key rotations. */
  async * events (from = 0): AsyncGenerator<AissEvent> {
    await this.#drain()
    for await (const { event } of this.store.events(from)) yield event
  }

  /** The whole history as one chronological list (it can be long; prefer events() for streaming). */
  async history (): Promise<AissEvent[]> {
    const out: AissEvent[] = []
    for await (const e of this.events()) out.push(e)
    return out
  }

  /** Re-reads and verifies the stored chain from its first identity. */
  async verify (opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<ChainReport> {
    await this.#drain()
    const first = this.store.identities[0]!
    const verifier = new ChainVerifier(first)
    const errors: ChainProblem[] = []
    const total = (this.head?.seq ?? -1) + 1
    let n = 0
    for await (const { event } of this.store.events()) {
      errors.push(...verifier.push(event).problems)
      if (opts.onProgress && ++n % 1000 === 0) opts.onProgress(n, total)
    }
    return { valid: errors.length === 0, eventCount: total, agentId: first.agentId, finalAgentId: verifier.agentId, headHash: verifier.headHash, hashes: [], errors }
  }

  /** Writes an audit export (protocol.md §14) of the whole chain, streamed and atomically renamed. */
  async export (path: string, opts: { onProgress?: (done: number, total: number) => void, now?: number } = {}): Promise<{ path: string, eventCount: number, chainIntegrityHash: string }> {
    await this.#drain()
    return writeAuditExport(this.store, await this.firstIdentityDocument(), path, opts)
  }

  search (q: SearchQuery = {}): Promise<AissEvent[]> {
    return this.store.search(q).then((rows) => rows.map((r) => r.event))
  }

  /**
   * Rotates the key: the old key signs an attestation and a rotation event; the new key signs from
   * then on. Crash-safe: the new key is on disk before the event, and an interrupted swap of the key
   * files is completed at the next open.
   */
  async rotate (): Promise<{ event: AissEvent, previousAgentId: string, newAgentId: string }> {
    await this.#drain()
    const old = this.#identity
    const seed = crypto().randomBytes(32)
    // The new key is protected as the old one was.
    const encrypted = await exists(join(this.dir, ENC_KEY_FILE))
    const key = await keyFileFor(seed, encrypted ? this.#passphrase ?? '' : undefined, this.#scryptN)
    const next = Identity.fromSeed(seed, { now: Math.floor(this.#clock() / 1000) })
    await stageKeySwap(this.dir, key, next)
    const nextIndex = await this.store.addIdentity({ agentId: next.agentId, publicKey: next.publicKey })
    const event = await this.stamp('key_rotation', rotationPayload(createRotationAttestation(old, next.publicKey, Math.floor(this.#clock() / 1000))))
    // The swap below destroys the old key: a relaxed store must hold the rotation event on disk first,
    // or a power cut leaves a chain that only the destroyed key may continue.
    await this.store.sync()
    this.#identity = next
    this.#agentIndex = nextIndex
    // The signer thread holds the old key: replace it lazily with one for the new key.
    await this.#signer?.close()
    this.#signer = undefined
    await completeKeySwap(this.dir)
    old.destroy()
    return { event, previousAgentId: old.agentId, newAgentId: next.agentId }
  }

  async close (): Promise<void> {
    if (this.store.closed) return
    await this.#recovering?.catch(() => {})
    await this.#drain()
    await this.#signer?.close()
    try { await this.store.close() } finally { this.#identity.destroy() }
  }
}

/** Who must sign the next event: the head's signer, or the new key its rotation event names. */
async function nextSigner (store: EventStore): Promise<string | undefined> {
  const head = store.head
  if (!head) return undefined
  const event = await store.get(head.seq)
  if (event?.payload.event_type === ROTATION_EVENT_TYPE && typeof event.payload.new_agent_id === 'string') return event.payload.new_agent_id
  return store.identities[head.agentIndex]?.agentId
}

/** The persisted head, as the chain position stamp() continues from. */
function storedHead (store: EventStore): { seq: number, hash: string, timestamp: number } | null {
  const h = store.head
  // An imported reference event may carry a float timestamp (time.time()); stamps are whole seconds.
  return h ? { seq: h.seq, hash: h.hash, timestamp: Math.ceil(timestampSeconds(h.timestamp) ?? 0) } : null
}
