// Changing the key an Agent signs with (runtime/agent.ts): rotate() replaces it, upgradeProfile() adds
// an ML-DSA-65 key beside it. Both are chain events signed by the key in force, and both order their
// disk writes so that a crash at any point leaves a key that may continue the chain (runtime/key-swap.ts).
import { join } from 'node:path'
import type { EventStore } from './store.js'
import { Identity } from './identity.js'
import { AISS2_VERSION } from './aiss2-format.js'
import { profileRules, PROFILE_UPGRADE_EVENT_TYPE, type ProfilePolicy } from './profile-rules.js'
import { createRotationAttestation, rotationPayload } from './rotation.js'
import { crypto } from './crypto.js'
import { exists } from './fsutil.js'
import { PcpError, ErrorCodes } from './errors.js'
import { keyFileFor, addPqSeed, ENC_KEY_FILE } from './home.js'
import { stageKeySwap, completeKeySwap } from './key-swap.js'
import type { StampPipeline } from './agent-stamp.js'
import type { AissEvent, Stamper } from './types.js'

/** What a key change needs of the Agent: where its key files are, how they are protected, its chain. */
export interface KeyContext {
  /** The Agent: its key files are in `dir`; the rotation event goes through its own stamp(). */
  agent: Stamper & { name: string, dir: string, store: EventStore }
  chain: StampPipeline
  passphrase: string | undefined
  scryptN: number | undefined
  clock: () => number
  /** identity.json is the AISS-2.0 document: the rotated one is too. */
  aiss2Document: boolean
}

/**
 * Rotates the key: the old key signs an attestation and a rotation event; the new key signs from
 * then on. Crash-safe: the new key is on disk before the event, and an interrupted swap of the key
 * files is completed at the next open.
 */
export async function rotateKey (k: KeyContext): Promise<{ event: AissEvent, previousAgentId: string, newAgentId: string }> {
  const { dir, store } = k.agent
  await k.chain.drain()
  const old = k.chain.identity
  const seed = crypto().randomBytes(32)
  // An identity with an ML-DSA key rotates both (runtime/rotation.ts): the old keys attest the new ones.
  const pqSeed = old.publicKeyPq !== null ? crypto().randomBytes(32) : undefined
  // The new key is protected as the old one was: never under an empty passphrase (an agent opened with
  // an unlocked key and no passphrase).
  const encrypted = await exists(join(dir, ENC_KEY_FILE))
  if (encrypted && !k.passphrase) throw new PcpError(ErrorCodes.KEY_PASSPHRASE_REQUIRED, `agent "${k.agent.name}": rotating an encrypted key needs its passphrase (the new key file is encrypted as the old one is)`, { agent: k.agent.name, file: join(dir, ENC_KEY_FILE) })
  const key = await keyFileFor(seed, encrypted ? k.passphrase : undefined, k.scryptN, pqSeed)
  const next = Identity.fromSeed(seed, { now: Math.floor(k.clock() / 1000), ...(pqSeed ? { pqSeed } : {}) })
  await stageKeySwap(dir, key, next, k.aiss2Document)
  const nextIndex = await store.addIdentity({ agentId: next.agentId, publicKey: next.publicKey })
  const event = await k.agent.stamp('key_rotation', rotationPayload(createRotationAttestation(old, next.publicKey, Math.floor(k.clock() / 1000), next.publicKeyPq ?? undefined)))
  // The swap below destroys the old key: a relaxed store must hold the rotation event on disk first,
  // or a power cut leaves a chain that only the destroyed key may continue.
  await store.sync()
  await k.chain.useKey(next, nextIndex)
  await completeKeySwap(dir)
  old.destroy()
  return { event, previousAgentId: old.agentId, newAgentId: next.agentId }
}

/**
 * Switches the chain to AISS-2 (or changes its per-event-type policy): adds an ML-DSA-65 key to the key
 * file if it has none (same protection), then stamps a profile_upgrade event signed by both keys that
 * binds the key and records `policy`. From then on stamp() signs each event as the policy says.
 * Needs `pcp-edge/aiss2`. There is no way back (runtime/profile.ts).
 */
export async function upgradeProfile (k: KeyContext, policy: ProfilePolicy): Promise<AissEvent> {
  const chain = k.chain
  await chain.drain()
  if (chain.identity.publicKeyPq === null) {
    const seeds = await addPqSeed(k.agent.dir, k.agent.name, k.passphrase, k.scryptN ? { scryptN: k.scryptN } : {})
    const old = chain.identity
    // Same Ed25519 key (the signer thread's KeyObject stays valid), now with the ML-DSA key beside it.
    chain.identity = Identity.fromSeed(seeds.ed, { createdAt: old.createdAt, ...(old.metadata ? { metadata: old.metadata } : {}), pqSeed: seeds.pq })
    old.destroy()
  }
  const payload = profileRules().profileUpgradePayload(chain.identity.publicKeyPq!, policy)
  const before = chain.pq
  const stamped = chain.stamp(PROFILE_UPGRADE_EVENT_TYPE, payload, {}, AISS2_VERSION)
  // Chained now, so every stamp after this call is signed under the new policy.
  const parsed = profileRules().parseUpgradePayload(payload) as { ok: true, policy: ProfilePolicy }
  chain.pq = { publicKey: chain.identity.publicKeyPq!, policy: parsed.policy }
  try { return await stamped } catch (err) { chain.pq = before; throw err }
}
