// Opening an Agent (runtime/agent.ts): which key, which store, and whether they belong together. The key
// comes from a named agent directory (created at the first open) or an identity file; an interrupted
// rotate() is settled first; a copied reference history is imported before anything is stamped; and the
// chain must continue under the key on disk. Then the profile the chain records is read back and the
// store's hole repairs are stamped into the chain.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseJson } from './json.js'
import { EventStore, type Durability } from './store.js'
import { AISS2_IDENTITY_VERSION, type Identity } from './identity.js'
import { AISS2_VERSION } from './aiss2-format.js'
import { profileRules, ALL_AISS2, PROFILE_UPGRADE_EVENT_TYPE, type PqInForce, type Profile } from './profile-rules.js'
import { ROTATION_EVENT_TYPE } from './rotation.js'
import { PcpError, ErrorCodes } from './errors.js'
import { writeFileAtomic, exists, ensureDir } from './fsutil.js'
import { pcpHome, agentDir, createAgentIdentity, loadAgentIdentity, loadIdentityFile, identityFileText, IDENTITY_FILE } from './home.js'
import { continueReferenceHistory } from './reference-history.js'
import { REPAIR_EVENT_TYPE, repairPayload, type RepairReport } from './store-repair.js'
import { stagedAgentId, completeKeySwap, discardKeySwap } from './key-swap.js'
import type { Stamper } from './types.js'

export interface AgentOpenOptions {
  /** Defaults to $PCP_HOME or ~/.pcp. */
  home?: string
  /** For encrypted keys; defaults to $PCP_PASSPHRASE. Also encrypts a key created here. */
  passphrase?: string
  /**
   * The key already unlocked: the text `pcp identity unlock` writes (a plaintext key file), e.g. from the
   * systemd credential pcp-key. Used instead of the key file, so no scrypt runs at open (its 128 MiB
   * peak); the key file stays as strong as it was. Checked against identity.json. rotate() and
   * upgradeProfile() of an encrypted key still need `passphrase` (they write a key file as strong).
   */
  unlockedKey?: string
  /** 'durable' (default): stamp() resolves once the event is fsynced. 'relaxed': written, not fsynced:
   *  a crash of the process loses nothing; a power cut loses at most what was stamped since the last
   *  fsync (a sync batch, a rotation, close()), never an event in the middle (runtime/store-repair.ts). */
  durability?: Durability
  /** 'interval' durability: the fsync period in ms (default 1000, runtime/store-write.ts DEFAULT_SYNC_INTERVAL_MS). */
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

/** What an Agent is made of: its name, directory, key, open store and the key's index in the store. */
export interface OpenedAgent { name: string, dir: string, identity: Identity, store: EventStore, agentIndex: number }

/** Loads (or creates) the key and opens the store; on a refusal neither stays open. */
export async function openAgentParts (ref: AgentRef, opts: AgentOpenOptions): Promise<OpenedAgent> {
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
    if (opts.unlockedKey !== undefined) {
      // Opens an existing agent only: without identity.json this is IDENTITY_NOT_FOUND, never a new agent.
      identity = await loadAgentIdentity(home, name, { unlocked: { text: opts.unlockedKey, source: `the unlocked key of agent "${name}"` } })
    } else if (opts.create !== false && !await exists(join(dir, IDENTITY_FILE))) {
      await refuseNewKeyOverChain(dir, name, openStore)
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
    return { name, dir, identity, store, agentIndex }
  } catch (err) {
    identity.destroy()
    await store.close()
    throw err
  }
}

/**
 * identity.json gone (a restore that missed it, a hand-deleted file) beside a store that holds a chain:
 * creating an identity here would write a new key over the one that signed it and then be refused, so
 * the key would be lost to a refusal. IDENTITY_NOT_FOUND naming the file instead; nothing is written.
 * A store without events is the remains of an interrupted first open and is taken over as before.
 */
async function refuseNewKeyOverChain (dir: string, name: string, openStore: (name: string) => Promise<EventStore>): Promise<void> {
  if (!await exists(join(dir, 'store'))) return
  const store = await openStore(name)
  let head: { seq: number } | null
  try { head = store.head } finally { await store.close() }
  if (head === null) return
  const file = join(dir, IDENTITY_FILE)
  throw new PcpError(ErrorCodes.IDENTITY_NOT_FOUND,
    `agent "${name}": ${file} is missing but its store holds a chain of ${head.seq + 1} events; restore identity.json from a backup (a new key would fork the chain, so none is made)`,
    { agent: name, file })
}

/** Who must sign the next event: the head's signer, or the new key its rotation event names. */
async function nextSigner (store: EventStore): Promise<string | undefined> {
  const head = store.head
  if (!head) return undefined
  const event = await store.get(head.seq)
  if (event?.payload.event_type === ROTATION_EVENT_TYPE && typeof event.payload.new_agent_id === 'string') return event.payload.new_agent_id
  return store.identities[head.agentIndex]?.agentId
}

// Said once per agent name and process, not at every open.
const relaxedWarned = new Set<string>()

/** A store that does not fsync every stamp says so, once per agent name and process. */
export function warnDurability (name: string, store: EventStore): void {
  if (store.durability === 'relaxed' && !relaxedWarned.has(name)) {
    relaxedWarned.add(name)
    process.emitWarning(`agent "${name}" runs in relaxed durability: events are written but not fsynced; a power cut may lose those stamped since the last fsync (a sync batch, a rotation, close())`, { code: 'PCP_RELAXED_DURABILITY' })
  } else if (store.durability === 'interval' && !relaxedWarned.has(name)) {
    relaxedWarned.add(name)
    process.emitWarning(`agent "${name}" runs in interval durability: events are fsynced at most every ${store.syncIntervalMs} ms; a power cut may lose those stamped in the last ${store.syncIntervalMs} ms plus one fsync`, { code: 'PCP_INTERVAL_DURABILITY' })
  }
}

/**
 * The profile state the chain records: the AISS-2.0 document binds the ML-DSA key from event 0; the
 * newest profile_upgrade sets the policy. The key in force is the key file's (a rotation replaced both).
 */
export async function loadProfile (a: OpenedAgent): Promise<{ aiss2Document: boolean, pq: PqInForce | null }> {
  let version: unknown
  try { version = (parseJson(await readFile(join(a.dir, IDENTITY_FILE), 'utf8'), IDENTITY_FILE) as { version?: unknown }).version } catch {}
  const aiss2Document = version === AISS2_IDENTITY_VERSION
  const [last] = await a.store.search({ eventType: PROFILE_UPGRADE_EVENT_TYPE, reverse: true, limit: 1 })
  const up = last && last.event.version === AISS2_VERSION ? profileRules().parseUpgradePayload(last.event.payload) : null
  if (up === null && !aiss2Document) return { aiss2Document, pq: null }
  if (a.identity.publicKeyPq === null) {
    throw new PcpError(ErrorCodes.IDENTITY_INVALID, `agent "${a.name}": its chain is AISS-2, but the key file holds no ML-DSA-65 key`, { agent: a.name })
  }
  return { aiss2Document, pq: { publicKey: a.identity.publicKeyPq, policy: up?.ok ? up.policy : ALL_AISS2 } }
}

export interface RepairWarning { code: string, message: string, repair: RepairReport }

/**
 * A hole the store cut back at open (runtime/store-repair.ts) becomes the chain's next event, fsynced,
 * so the chain says which positions were lost and which hashes were set aside. Also emitted as a
 * 'warning' ({ code, message, repair }) once open() has returned. A store that cannot take writes
 * now (a full disk) keeps the report and is asked again at the next open.
 */
export async function recordRepairs (agent: Stamper & { name: string, store: EventStore, head: { seq: number } | null }): Promise<RepairWarning[]> {
  const pending = agent.store.unrecordedRepairs
  const out: RepairWarning[] = []
  if (pending.length === 0 || agent.store.failure !== null) return out
  for (const r of pending) {
    await agent.stamp(REPAIR_EVENT_TYPE, repairPayload(r))
    const message = `agent "${agent.name}": ${r.setAside.length} events after a hole at #${r.lostFrom} (a power cut in relaxed mode) were set aside in quarantine ${r.n}; the chain continues after #${r.lostFrom - 1}, and event #${agent.head!.seq} (${REPAIR_EVENT_TYPE}) records it`
    out.push({ code: 'STORE_HOLE_REPAIRED', message, repair: r })
  }
  await agent.store.sync()
  return out
}
