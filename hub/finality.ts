// Whether a position of a stored chain is final (README "Trusted time"): an anchor event the hub holds,
// whose RFC 3161 token verifies under the hub's trust roots, covers it. A fork there is then
// FORK_AFTER_FINALIZATION, not only FORK_DETECTED: the token proves the stored history existed at genTime.
// The same rule as `pcp verify --against` (runtime/anchor/finality.ts): any verified anchor at or after
// the position finalizes it, and the first one after it is the earliest, so the scan stops there.
// Reads the store only on a fork (a refusal path), and at most `maxScan` events past the position.
import { eventHash } from '../runtime/event.js'
import type { AnchorVerdict } from '../runtime/anchor/verify-anchors.js'
import type { RevocationSources } from '../runtime/tsa/revocation-check.js'
import { ANCHOR_EVENT_TYPE, parseAnchorPayload } from '../runtime/anchor/payload.js'
import type { AissEvent } from '../runtime/types.js'
import type { HubStore } from './store/types.js'

/** Events read past a forked position looking for its anchor: a device anchors every N events, N ≪ this. */
export const FINALITY_MAX_SCAN = 100_000

/**
 * The verified anchor that makes event `seq` of a stored chain final, or null (none, or no token of one
 * verifies). Verdicts are kept per anchor event (at most `cacheSize`): a device that keeps forking costs
 * the hub one token check per anchor, not one per attempt.
 */
export class FinalityCheck {
  readonly #roots: Uint8Array[]
  readonly #revocation: RevocationSources
  readonly #maxScan: number
  readonly #cacheSize: number
  readonly #verdicts = new Map<string, AnchorVerdict>()

  /** crls, ocsp, fetchRevocation: the TSA path is checked for revocation at genTime too, as by `pcp verify` (runtime/tsa/revocation-check.ts). */
  constructor (opts: { trustRoots: Uint8Array[], maxScan?: number, cacheSize?: number } & RevocationSources) {
    this.#roots = opts.trustRoots
    this.#revocation = { crls: opts.crls, ocsp: opts.ocsp, fetchRevocation: opts.fetchRevocation }
    this.#maxScan = opts.maxScan ?? FINALITY_MAX_SCAN
    this.#cacheSize = opts.cacheSize ?? 1024
  }

  async finalAnchor (store: HubStore, agentId: string, seq: number): Promise<AnchorVerdict | null> {
    const count = store.agent(agentId)?.count ?? 0
    for await (const { seq: at, event } of store.events(agentId, seq + 1, Math.min(count, seq + 1 + this.#maxScan))) {
      if (event.payload?.event_type !== ANCHOR_EVENT_TYPE) continue
      let to: number
      try { ({ to } = parseAnchorPayload(event.payload, at)) } catch { continue } // a bad anchor finalizes nothing
      if (to < seq) continue
      // The first anchor reaching past `seq` is the earliest that could finalize it; a later one would
      // too (its range links back through seq), so a failing token does not end the search.
      const verdict = await this.#verdict(store, agentId, at, event)
      if (verdict.ok) return verdict
    }
    return null
  }

  async #verdict (store: HubStore, agentId: string, at: number, event: AissEvent): Promise<AnchorVerdict> {
    const key = `${agentId}\u0000${at}`
    const known = this.#verdicts.get(key)
    if (known) return known
    const { from } = parseAnchorPayload(event.payload, at)
    // Loaded at the first fork that needs it: pkijs/asn1js stay out of a hub's memory until then.
    const { AnchorVerifier } = await import('../runtime/anchor/verify-anchors.js')
    const check = new AnchorVerifier({ trustRoots: this.#roots, start: from, ...this.#revocation })
    for await (const e of store.events(agentId, from, at + 1)) check.push(e.seq, e.event, eventHash(e.event))
    const verdict = (await check.finish()).find((v) => v.index === at)!
    // A responder that was down says nothing about the token: the next fork asks again.
    if (verdict.code === 'TSA_REVOCATION_UNAVAILABLE') return verdict
    if (this.#verdicts.size >= this.#cacheSize) this.#verdicts.delete(this.#verdicts.keys().next().value!)
    this.#verdicts.set(key, verdict)
    return verdict
  }
}
