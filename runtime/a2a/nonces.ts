// Anti-replay for proposals (gaps.md #27: the reference has none). A proposal is refused once its
// window is over, so the registry only has to remember a nonce until then: memory is bounded by the
// proposals of one window, not by history. The clock is the caller's (injectable), in Unix seconds.
import { PcpError } from '../errors.js'
import { A2AErrorCodes as C } from './errors.js'

export class NonceRegistry {
  readonly #until = new Map<string, number>() // agent_id \0 session_nonce → forget after (Unix s)
  readonly #maxEntries: number
  #prunedAt = -1

  constructor (opts: { maxEntries?: number } = {}) {
    this.#maxEntries = opts.maxEntries ?? 100_000
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) throw new RangeError(`"maxEntries" expected a positive integer, got ${String(opts.maxEntries)}`)
  }

  get size (): number { return this.#until.size }

  /**
   * Records a nonce until `forgetAfter`; throws A2A_PROPOSAL_REPLAYED if it is already held. A full
   * registry refuses new proposals rather than forgetting live nonces (which would re-open replays).
   */
  claim (agentId: string, nonce: string, forgetAfter: number, now: number): void {
    this.prune(now)
    const key = `${agentId}\u0000${nonce}`
    if (this.#until.has(key)) {
      throw new PcpError(C.A2A_PROPOSAL_REPLAYED, `proposal nonce ${nonce} from ${agentId} was already answered`, { field: 'session_nonce', actual: nonce, agent: agentId })
    }
    if (this.#until.size >= this.#maxEntries) {
      throw new PcpError(C.A2A_PROPOSAL_REPLAYED, `nonce registry full (${this.#maxEntries} live proposals); refusing new ones until some expire`, { field: 'session_nonce' })
    }
    this.#until.set(key, forgetAfter)
  }

  has (agentId: string, nonce: string): boolean { return this.#until.has(`${agentId}\u0000${nonce}`) }

  /** Drops nonces whose proposals can no longer be accepted anyway. */
  prune (now: number): void {
    if (now === this.#prunedAt) return
    this.#prunedAt = now
    for (const [k, t] of this.#until) if (t < now) this.#until.delete(k)
  }
}
