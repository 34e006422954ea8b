// The device gate's copy of the hub's active policy, for deciding while the hub cannot be reached. Only
// a policy the pinned hub key attests (sync/gate-wire.ts verifySignedPolicy) is kept; an attestation
// older than the one held is ignored, so a replayed old policy cannot roll the device back. On disk it
// is re-verified at every start: a tampered or foreign file is refused and the gate fails closed.
import { readFile } from 'node:fs/promises'
import { fromBase64Strict, toBase64, type AissEvent } from '../runtime/index.js'
import { writeFileAtomic } from '../runtime/fsutil.js'
import { parsePolicy } from '../policy/load.js'
import type { LoadedPolicy } from '../policy/types.js'
import { verifySignedPolicy, type HubKey, type SignedPolicy } from './gate-wire.js'

export class PolicyCache {
  #held: { sp: SignedPolicy, loaded: LoadedPolicy } | null = null
  /** Why the last policy offered (or the file) was refused, if it was. */
  problem: string | null = null

  constructor (private readonly hub: HubKey, private readonly file?: string) {}

  /** The verified policy, or null. */
  get policy (): LoadedPolicy | null { return this.#held?.loaded ?? null }

  /** Reads and re-verifies the file, if there is one. */
  async load (): Promise<void> {
    if (this.file === undefined) return
    let text: string
    try { text = await readFile(this.file, 'utf8') } catch { return } // no cache yet
    try {
      const doc = JSON.parse(text) as { v: number, text: string, attestation: AissEvent }
      const bytes = fromBase64Strict(doc.text)
      if (doc.v !== 1 || bytes === null) throw new Error('not a v1 policy cache')
      this.accept({ text: bytes, attestation: doc.attestation }, false)
      if (this.#held === null) throw new Error(this.problem ?? 'refused')
    } catch (err) {
      this.#held = null
      this.problem = `cached policy ${this.file} refused: ${(err as Error).message}`
    }
  }

  /** Verifies and keeps a signed policy (written to the file when `persist`); false if refused or older. */
  accept (sp: SignedPolicy, persist: boolean): boolean {
    const bad = verifySignedPolicy(sp, this.hub)
    if (bad !== null) { this.problem = bad; return false }
    if (this.#held !== null && sp.attestation.timestamp < this.#held.sp.attestation.timestamp) return false
    let loaded: LoadedPolicy
    try { loaded = parsePolicy(sp.text, 'hub policy') } catch (err) { this.problem = (err as Error).message; return false }
    this.#held = { sp, loaded }
    this.problem = null
    if (persist && this.file !== undefined) {
      const doc = { v: 1, text: toBase64(sp.text), attestation: sp.attestation }
      writeFileAtomic(this.file, JSON.stringify(doc) + '\n').catch(() => {}) // memory copy still serves
    }
    return true
  }
}
