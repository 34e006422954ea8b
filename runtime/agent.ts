// Agent: what every robot and sensor script calls. It owns one identity and its chain in the device
// store, stamps events onto the persisted head and resolves each stamp once its event is durable.
import { EventEmitter } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseJson } from './json.js'
import { EventStore, type Durability, type SearchQuery } from './store.js'
import { Identity } from './identity.js'
import { prepareEvent, finishEvent, signPrepared, timestampSeconds, type PreparedEvent, type EventSignature } from './event.js'
import { SignerThread } from './signer-thread.js'
import { ChainVerifier, identityFrom, type ChainReport, type ChainProblem } from './verify.js'
import { AISS2_VERSION } from './aiss2-format.js'
import { profileRules, ALL_AISS2, PROFILE_UPGRADE_EVENT_TYPE, type PqInForce, type Profile, type ProfilePolicy } from './profile-rules.js'
import { AISS2_IDENTITY_VERSION } from './identity.js'
import { writeAuditExport } from './memory.js'
import { createRotationAttestation, rotationPayload, ROTATION_EVENT_TYPE } from './rotation.js'
import { crypto } from './crypto.js'
import { PcpError, ErrorCodes } from './errors.js'
import { writeFileAtomic, exists, ensureDir } from './fsutil.js'
import {
  pcpHome, agentDir, createAgentIdentity, loadAgentIdentity, loadIdentityFile, keyFileFor, identityFileText,
  readRotatedIdentityDocument, addPqSeed, IDENTITY_FILE, ENC_KEY_FILE
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
  /** 'AISS-2.0' when creating: the identity gets an ML-DSA-65 key and an AISS-2.0 document, so its chain
   *  is AISS-2 from the genesis (every event AISS-2.0 until upgradeProfile() records a per-type policy).
   *  Needs `pcp-edge/aiss2`. Ignored for an identity that exists. */
  profile?: Profile
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
  aiss2: boolean
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
  // The ML-DSA key and per-event-type policy in force (runtime/profile.ts); null while the chain is AISS-1.
  #pq: PqInForce | null = null
  // identity.json is the AISS-2.0 document (the chain is AISS-2 from its genesis).
  #aiss2Document = false

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
        identity = await createAgentIdentity(home, name, { ...keyOpts, ...(opts.clock ? { now: Math.floor(opts.clock() / 1000) } : {}), ...(opts.profile === AISS2_VERSION ? { pq: true } : {}) })
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
      await agent.#loadProfile()
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

  /**
   * The profile state the chain records: the AISS-2.0 document binds the ML-DSA key from event 0; the
   * newest profile_upgrade sets the policy. The key in force is the key file's (a rotation replaced both).
   */
  async #loadProfile (): Promise<void> {
    let version: unknown
    try { version = (parseJson(await readFile(join(this.dir, IDENTITY_FILE), 'utf8'), IDENTITY_FILE) as { version?: unknown }).version } catch {}
    this.#aiss2Document = version === AISS2_IDENTITY_VERSION
    const [last] = await this.store.search({ eventType: PROFILE_UPGRADE_EVENT_TYPE, reverse: true, limit: 1 })
    const up = last && last.event.version === AISS2_VERSION ? profileRules().parseUpgradePayload(last.event.payload) : null
    if (up === null && !this.#aiss2Document) return
    if (this.#identity.publicKeyPq === null) {
      throw new PcpError(ErrorCodes.IDENTITY_INVALID, `agent "${this.name}": its chain is AISS-2, but the key file holds no ML-DSA-65 key`, { agent: this.name })
    }
    this.#pq = { publicKey: this.#identity.publicKeyPq, policy: up?.ok ? up.policy : ALL_AISS2 }
  }

  /** The profile policy in force, or null while the chain is AISS-1. */
  get profilePolicy (): ProfilePolicy | null { return this.#pq ? { default: this.#pq.policy.default, event_types: { ...this.#pq.policy.event_types } } : null }

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
  identityDocument (): IdentityDocument { return this.#aiss2Document ? this.#identity.documentAiss2() : this.#identity.document() }

  /** The identity the chain starts with: what an audit export names, so the chain verifies from event 0. */
  async firstIdentityDocument (): Promise<IdentityDocument> {
    const first = this.store.identities[0]!
    if (first.agentId === this.agentId) return this.identityDocument()
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
    return this.#stamp(eventType, payload, opts, undefined)
  }

  /** `force`: the profile to stamp with whatever the policy says (the upgrade event itself). */
  #stamp (eventType: string, payload: Record<string, JsonValue>, opts: { meta?: Record<string, unknown> }, force: Profile | undefined): Promise<AissEvent> {
    if (this.store.closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `agent "${this.name}" is closed`, { agent: this.name }))
    if (this.store.failure !== null || this.#recovering !== null || this.#epoch !== this.store.epoch) {
      return this.#recovered().then(() => this.#stamp(eventType, payload, opts, force))
    }
    const head = this.#head
    // Never earlier than the previous event: a Pi without RTC may boot with a clock behind its chain.
    const timestamp = Math.max(Math.floor(this.#clock() / 1000), head?.timestamp ?? 0)
    let prepared: PreparedEvent
    // The chain's recorded policy decides (runtime/profile.ts): what a verifier will require of this event.
    const profile = force ?? (this.#pq === null ? 'AISS-1.0' : profileRules().requiredProfile(this.#pq, eventType))
    try {
      prepared = prepareEvent(this.#identity.agentId, { ...payload, event_type: eventType }, {
        previousHash: head ? head.hash : this.#identity.genesisHash(),
        timestamp,
        profile
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
      this.#queue.push({ unsigned: prepared.unsigned, bytes: prepared.bytes, hash: prepared.hash, generation: this.#generation, meta: opts.meta, aiss2: profile === AISS2_VERSION, resolve, reject })
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

  #sign (batch: Pending[], last: boolean): Promise<EventSignature[]> {
    try {
      // ML-DSA signs on this thread (the signer thread holds the Ed25519 KeyObject only): ~12 ms an event.
      if (batch.some((b) => b.aiss2)) return Promise.resolve(batch.map((b) => signPrepared(this.#identity, b.unsigned, b.bytes)))
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

  async #store (batch: Pending[], signing: Promise<EventSignature[]>): Promise<void> {
    if (batch[0]!.generation !== this.#generation) return this.#refuse(batch, this.store.failure ?? new PcpError(ErrorCodes.STORE_WRITE_FAILED, `agent "${this.name}": an earlier event failed to be stored; this one chained on it and was dropped`, { agent: this.name }))
    let signatures: EventSignature[]
    try {
      signatures = await signing
    } catch (err) {
      return this.#fail(batch, err)
    }
    const items = batch.map((b, i) => {
      const sig = signatures[i]!
      return { event: finishEvent(b.unsigned, sig), hash: b.hash, agentIndex: this.#agentIndex, ...(sig instanceof Uint8Array ? { signature: sig } : {}) }
    })
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
    // From the first document, so an AISS-2.0 one binds its ML-DSA key from event 0 here too.
    const verifier = new ChainVerifier(identityFrom(await this.firstIdentityDocument()))
    const errors: ChainProblem[] = []
    const total = (this.head?.seq ?? -1) + 1
    let n = 0
    // Stamps may land while this reads: the report covers the prefix read (n events), not the head now.
    for await (const { event } of this.store.events()) {
      errors.push(...verifier.push(event).problems)
      n++
      if (opts.onProgress && n % 1000 === 0) opts.onProgress(n, total)
    }
    return { valid: errors.length === 0, eventCount: n, agentId: first.agentId, finalAgentId: verifier.agentId, headHash: verifier.headHash, hashes: [], errors }
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
    // An identity with an ML-DSA key rotates both (runtime/rotation.ts): the old keys attest the new ones.
    const pqSeed = old.publicKeyPq !== null ? crypto().randomBytes(32) : undefined
    // The new key is protected as the old one was.
    const encrypted = await exists(join(this.dir, ENC_KEY_FILE))
    const key = await keyFileFor(seed, encrypted ? this.#passphrase ?? '' : undefined, this.#scryptN, pqSeed)
    const next = Identity.fromSeed(seed, { now: Math.floor(this.#clock() / 1000), ...(pqSeed ? { pqSeed } : {}) })
    await stageKeySwap(this.dir, key, next, this.#aiss2Document)
    const nextIndex = await this.store.addIdentity({ agentId: next.agentId, publicKey: next.publicKey })
    const event = await this.stamp('key_rotation', rotationPayload(createRotationAttestation(old, next.publicKey, Math.floor(this.#clock() / 1000), next.publicKeyPq ?? undefined)))
    // The swap below destroys the old key: a relaxed store must hold the rotation event on disk first,
    // or a power cut leaves a chain that only the destroyed key may continue.
    await this.store.sync()
    this.#identity = next
    this.#agentIndex = nextIndex
    if (this.#pq !== null) this.#pq = { publicKey: next.publicKeyPq!, policy: this.#pq.policy }
    // The signer thread holds the old key: replace it lazily with one for the new key.
    await this.#signer?.close()
    this.#signer = undefined
    await completeKeySwap(this.dir)
    old.destroy()
    return { event, previousAgentId: old.agentId, newAgentId: next.agentId }
  }

  /**
   * Switches the chain to AISS-2 (or changes its per-event-type policy): adds an ML-DSA-65 key to the key
   * file if it has none (same protection), then stamps a profile_upgrade event signed by both keys that
   * binds the key and records `policy`. From then on stamp() signs each event as the policy says.
   * Needs `pcp-edge/aiss2`. There is no way back (runtime/profile.ts).
   */
  async upgradeProfile (policy: ProfilePolicy = ALL_AISS2): Promise<AissEvent> {
    await this.#drain()
    if (this.#identity.publicKeyPq === null) {
      const seeds = await addPqSeed(this.dir, this.name, this.#passphrase, this.#scryptN ? { scryptN: this.#scryptN } : {})
      const old = this.#identity
      // Same Ed25519 key (the signer thread's KeyObject stays valid), now with the ML-DSA key beside it.
      this.#identity = Identity.fromSeed(seeds.ed, { createdAt: old.createdAt, ...(old.metadata ? { metadata: old.metadata } : {}), pqSeed: seeds.pq })
      old.destroy()
    }
    const payload = profileRules().profileUpgradePayload(this.#identity.publicKeyPq!, policy)
    const before = this.#pq
    const stamped = this.#stamp(PROFILE_UPGRADE_EVENT_TYPE, payload, {}, AISS2_VERSION)
    // Chained now, so every stamp after this call is signed under the new policy.
    const parsed = profileRules().parseUpgradePayload(payload) as { ok: true, policy: ProfilePolicy }
    this.#pq = { publicKey: this.#identity.publicKeyPq!, policy: parsed.policy }
    try { return await stamped } catch (err) { this.#pq = before; throw err }
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
