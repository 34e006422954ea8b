// The verify pool's task: signature checks only (the CPU-heavy, stateless part). Linkage, nonces and
// time order depend on the chain's previous event, so they stay in order on the hub's main thread.
import '../runtime/index.js'
import { signingBytes } from '../runtime/event.js'
import { crypto } from '../runtime/crypto.js'
import { fromBase64Strict } from '../runtime/encoding.js'
import type { AissEvent } from '../runtime/types.js'

export function verifySignatures (item: { events: AissEvent[], publicKey: Uint8Array }): boolean[] {
  return item.events.map((ev) => {
    const sig = typeof ev.signature === 'string' ? fromBase64Strict(ev.signature) : null
    if (!sig) return false
    try { return crypto().verify(sig, signingBytes(ev), item.publicKey) } catch { return false }
  })
}
