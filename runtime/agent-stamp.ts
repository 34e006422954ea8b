// The Agent's stamp path (runtime/agent.ts): an event is prepared and chained onto the head at the call,
// synchronously, so concurrent stamps chain in call order; the queued burst is then signed (on the signer
// thread, runtime/signer-thread.ts) and handed to the store's group commit (runtime/store-batch.ts) in
// strict order, and each stamp resolves once its event is durable. A failure refuses everything chained
// on it and rewinds the head to what is really stored. This is the hot path: one promise per stamp (the
// caller's), everything else per batch.
import type { EventEmitter } from 'node:events'
import type { EventStore } from './store.js'
import type { Identity } from './identity.js'
import { prepareEvent, finishEvent, signPrepared, timestampSeconds, type PreparedEvent, type EventSignature } from './event.js'
import { SignerThread } from './signer-thread.js'
import { AISS2_VERSION } from './aiss2-format.js'
import { profileRules, type PqInForce, type Profile } from './profile-rules.js'
import { PcpError, ErrorCodes } from './errors.js'
import type { AissEvent } from './types.js'
import type { JsonValue } from './value.js'

/** A chain position: what stamp() continues from. */
export interface ChainHead { seq: number, hash: string, timestamp: number }

interface Pending extends PreparedEvent {
  generation: number
  meta: Record<string, unknown> | undefined
  aiss2: boolean
  resolve: (event: AissEvent) => void
  reject: (err: unknown) => void
}

// Below this many stamps waiting at once, signing inline is quicker than a round trip to the thread.
const SIGNER_THREAD_MIN_BATCH = 8
const SIGN_CHUNK = 256
// The share of a lone chunk the main thread signs beside the thread: a little under half, as it also
// posts the request and collects the answer.
const INLINE_SHARE = 0.45

export class StampPipeline {
  readonly #name: string
  readonly #store: EventStore
  // Hears 'stamped' (the Agent itself).
  readonly #events: EventEmitter
  readonly #clock: () => number
  readonly #maxEventBytes: number
  /** The key that signs the next event; rotate() and upgradeProfile() replace it (runtime/agent-keys.ts). */
  identity: Identity
  /** The store's index of `identity` (StoredIdentity), recorded with each event. */
  agentIndex: number
  /** The ML-DSA key and per-event-type policy in force (runtime/profile.ts); null while the chain is AISS-1. */
  pq: PqInForce | null = null
  // The chain head including events prepared but not yet signed or stored (stamp() chains on it).
  #head: ChainHead | null
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

  constructor (name: string, store: EventStore, identity: Identity, agentIndex: number, events: EventEmitter, opts: { clock: () => number, maxEventBytes: number }) {
    this.#name = name; this.#store = store; this.#events = events
    this.#clock = opts.clock
    this.#maxEventBytes = opts.maxEventBytes
    this.identity = identity
    this.agentIndex = agentIndex
    this.#head = storedHead(store)
    this.#epoch = store.epoch
  }

  /** The last stamped event's position and hash (persisted or still in flight); the live object, not a copy. */
  get head (): ChainHead | null { return this.#head }

  /** Chains `{ event_type, ...payload }` onto the head. `force`: the profile to stamp with whatever the policy says (the upgrade event itself). */
  stamp (eventType: string, payload: Record<string, JsonValue>, opts: { meta?: Record<string, unknown> }, force: Profile | undefined): Promise<AissEvent> {
    if (this.#store.closed) return Promise.reject(new PcpError(ErrorCodes.STORE_CLOSED, `agent "${this.#name}" is closed`, { agent: this.#name }))
    if (this.#store.failure !== null || this.#recovering !== null || this.#epoch !== this.#store.epoch) {
      return this.#recovered().then(() => this.stamp(eventType, payload, opts, force))
    }
    const head = this.#head
    // Never earlier than the previous event: a Pi without RTC may boot with a clock behind its chain.
    const timestamp = Math.max(Math.floor(this.#clock() / 1000), head?.timestamp ?? 0)
    let prepared: PreparedEvent
    // The chain's recorded policy decides (runtime/profile.ts): what a verifier will require of this event.
    const profile = force ?? (this.pq === null ? 'AISS-1.0' : profileRules().requiredProfile(this.pq, eventType))
    try {
      prepared = prepareEvent(this.identity.agentId, { ...payload, event_type: eventType }, {
        previousHash: head ? head.hash : this.identity.genesisHash(),
        timestamp,
        profile
      })
    } catch (err) {
      // A payload canonical JSON refuses (too deep, NaN, a lone surrogate) is refused here, before it is
      // chained or queued: nothing after it is affected.
      return Promise.reject(err)
    }
    if (prepared.bytes.length > this.#maxEventBytes) {
      return Promise.reject(new PcpError(ErrorCodes.EVENT_TOO_LARGE, `a "${eventType}" event of ${prepared.bytes.length} canonical bytes exceeds the ${this.#maxEventBytes}-byte limit of agent "${this.#name}" (one sync message must carry it; store large data beside the chain and stamp its hash)`, { agent: this.#name, field: 'payload', actual: prepared.bytes.length, expected: this.#maxEventBytes }))
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
      signing.catch(() => {}) // handled in order by #write
      // The tail must never stay rejected: every later batch chains on it and would never settle, and
      // close() would reject (issue 13 #3). A throw anywhere in #write refuses this batch and what follows.
      this.#tail = this.#tail.then(() => this.#write(batch, signing)).catch((err) => this.#fail(batch, err))
    }
  }

  #sign (batch: Pending[], last: boolean): Promise<EventSignature[]> {
    try {
      // ML-DSA signs on this thread (the signer thread holds the Ed25519 KeyObject only): ~12 ms an event.
      if (batch.some((b) => b.aiss2)) return Promise.resolve(batch.map((b) => signPrepared(this.identity, b.unsigned, b.bytes)))
      if (batch.length >= SIGNER_THREAD_MIN_BATCH && (this.#signer ??= SignerThread.start(this.identity.signingHandle))?.alive) {
        // A lone chunk with the thread idle (a caller awaiting each batch): the main thread would only
        // wait, so it signs the tail itself while the thread signs the head (issue 18: awaited batches
        // of 100 ran signing and storing one after the other). In a stream the thread has work queued
        // and the main thread has encoding and storing to do, so the thread signs everything.
        const inline = last && this.#signer.busy === 0 ? Math.floor(batch.length * INLINE_SHARE) : 0
        const cut = batch.length - inline
        const head = this.#signer.sign(batch.slice(0, cut).map((b) => b.bytes))
        const tail: Uint8Array[] = []
        for (let i = cut; i < batch.length; i++) tail.push(this.identity.sign(batch[i]!.bytes))
        return head.then((all) => {
          const out = new Array<Uint8Array>(batch.length)
          for (let i = 0; i < cut; i++) out[i] = all.subarray(64 * i, 64 * i + 64)
          for (let i = cut; i < batch.length; i++) out[i] = tail[i - cut]!
          return out
        })
      }
      return Promise.resolve(batch.map((b) => this.identity.sign(b.bytes)))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async #write (batch: Pending[], signing: Promise<EventSignature[]>): Promise<void> {
    if (batch[0]!.generation !== this.#generation) return this.#refuse(batch, this.#store.failure ?? new PcpError(ErrorCodes.STORE_WRITE_FAILED, `agent "${this.#name}": an earlier event failed to be stored; this one chained on it and was dropped`, { agent: this.#name }))
    let signatures: EventSignature[]
    try {
      signatures = await signing
    } catch (err) {
      return this.#fail(batch, err)
    }
    const items = batch.map((b, i) => {
      const sig = signatures[i]!
      return { event: finishEvent(b.unsigned, sig), hash: b.hash, agentIndex: this.agentIndex, ...(sig instanceof Uint8Array ? { signature: sig } : {}) }
    })
    let meta: Record<string, unknown> | undefined
    for (const b of batch) if (b.meta) meta = { ...meta, ...b.meta }
    // Not awaited: the next chunk is handled while this one is being written (the store groups writes).
    this.#store.append(items, meta ? { meta } : {}).then(() => {
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(items[i]!.event)
      if (this.#events.listenerCount('stamped')) for (const it of items) this.#events.emit('stamped', it.event, it.hash)
    }, (err) => this.#fail(batch, err))
  }

  /** Refuses a batch and everything chained after it, and rewinds the head to what is really stored. */
  #fail (batch: Pending[], err: unknown): void {
    this.#generation++
    this.#refuse([...batch, ...this.#queue.splice(0)], err)
    this.#head = storedHead(this.#store)
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
        await this.#store.flush()
        await this.#store.recover()
        this.#generation++
        this.#epoch = this.#store.epoch
        this.#head = storedHead(this.#store)
      } finally {
        this.#recovering = null
      }
    })())
  }

  /** Waits until every stamp so far is signed and written. */
  async drain (): Promise<void> {
    if (this.#queue.length) this.#flush()
    await this.#tail
    await this.#store.flush()
  }

  /** After a rotation: `next` signs from now on. The signer thread holds the old key, so it is replaced lazily. */
  async useKey (next: Identity, agentIndex: number): Promise<void> {
    this.identity = next
    this.agentIndex = agentIndex
    if (this.pq !== null) this.pq = { publicKey: next.publicKeyPq!, policy: this.pq.policy }
    await this.#signer?.close()
    this.#signer = undefined
  }

  /** Waits out a recovery and everything in flight, then stops the signer thread (the store stays open). */
  async close (): Promise<void> {
    await this.#recovering?.catch(() => {})
    await this.drain()
    await this.#signer?.close()
  }
}

/** The persisted head, as the chain position stamp() continues from. */
function storedHead (store: EventStore): ChainHead | null {
  const h = store.head
  // An imported reference event may carry a float timestamp (time.time()); stamps are whole seconds.
  return h ? { seq: h.seq, hash: h.hash, timestamp: Math.ceil(timestampSeconds(h.timestamp) ?? 0) } : null
}
