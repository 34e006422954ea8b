// Which key signs each chain's broker login (sync/broker-login.ts) for a SyncAgent, and the chain's
// rotation attestations the login carries: read from the store's type index at start, then kept current
// from the 'stamped' events, so a login made after a rotation still reaches a hub that knows only an
// older key. A source that cannot sign is a programmer error (TypeError), found before connecting.
import type { AissEvent } from '../runtime/types.js'
import type { StatementSigner } from '../runtime/statement.js'
import { ROTATION_EVENT_TYPE, type RotationAttestation } from '../runtime/rotation.js'
import type { LoginKey } from './broker-login.js'
import type { SyncSource } from './agent.js'

/** A chain's login key with the list of its attestations (oldest first) that `rotations()` reads. */
export type ChainLoginKey = LoginKey & { list: RotationAttestation[] }

/** Each source's chain id and signer, for the signed broker login; a TypeError names a source that cannot sign. */
export async function loginKeys (sources: SyncSource[]): Promise<ChainLoginKey[]> {
  const keys: ChainLoginKey[] = []
  for (const [i, src] of sources.entries()) {
    const own = src as unknown as Partial<StatementSigner>
    const signer = src.signer ?? (typeof own.signStatement === 'function' && own.publicKey instanceof Uint8Array ? own as StatementSigner : undefined)
    if (signer === undefined) {
      throw new TypeError(`"agents[${i}]" (${String(src?.name)}) cannot sign the broker login: pass an open Agent or a source with a \`signer\` (its key), or username/password for a broker with its own accounts`)
    }
    // A rotated chain's attestations, from the store's type index (no scan), oldest first.
    const list: RotationAttestation[] = []
    if (src.store.identities.length > 1) {
      for (const { event } of await src.store.search({ eventType: ROTATION_EVENT_TYPE, limit: 1000 })) { const att = attestationOf(event); if (att) list.push(att) }
    }
    keys.push({ chainId: (await src.firstIdentityDocument()).agent_id, signer, list, rotations: () => list })
  }
  return keys
}

/**
 * A rotation while we run: the next login carries its attestation, in case the hub has not seen it yet.
 * `keys[i]` belongs to `sources[i]`; returns what removes the listeners.
 */
export function followRotations (sources: SyncSource[], keys: ChainLoginKey[]): Array<() => void> {
  const off: Array<() => void> = []
  for (const [i, src] of sources.entries()) {
    if (typeof src.on !== 'function') continue
    const key = keys[i]!
    const onStamped = (event: AissEvent): void => { const att = attestationOf(event); if (att) key.list.push(att) }
    src.on('stamped', onStamped)
    off.push(() => src.off?.('stamped', onStamped))
  }
  return off
}

function attestationOf (event: AissEvent): RotationAttestation | null {
  const att = event.payload.event_type === ROTATION_EVENT_TYPE ? event.payload.rotation_attestation : undefined
  return att !== null && typeof att === 'object' && !Array.isArray(att) ? att as RotationAttestation : null
}
