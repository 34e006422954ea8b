// Answers on a device's `down` topic checked against the pinned hub key (SyncOptions.hub). sync/wire.ts
// says what the hub signs and why: on a broker without the ACL anyone may publish there. Unsigned answers
// are counted and warned about at most every 10 s per agent, so a flood of forgeries cannot flood the log.
import { verifyStatement } from '../runtime/statement.js'
import { syncAnswerStatement, SYNC_ANSWER_STATEMENT, type DownEnvelope } from './wire.js'
import { SyncErrorCodes } from './errors.js'

export type DownWarning = { agent: string, agentId: string, code: string, message: string }

export class DownAuth {
  readonly #key: Uint8Array
  readonly #clock: () => number
  readonly #warn: (w: DownWarning) => void
  readonly #forged = new Map<string, { count: number, warnedAt: number }>()

  constructor (hubKey: Uint8Array, clock: () => number, warn: (w: DownWarning) => void) {
    this.#key = hubKey; this.#clock = clock; this.#warn = warn
  }

  /** True when the device may act on `env` (`hello` is unsigned: all it can cause is a handshake). */
  accepts (agent: string, agentId: string, env: DownEnvelope): boolean {
    if (env.kind === 'hello') return true
    const statement = syncAnswerStatement(agentId, env as unknown as Record<string, unknown>)
    if (statement !== null && verifyStatement((env as { sig?: unknown }).sig, SYNC_ANSWER_STATEMENT, statement, this.#key)) return true
    const f = this.#forged.get(agentId) ?? { count: 0, warnedAt: -Infinity }
    f.count++
    this.#forged.set(agentId, f)
    const now = this.#clock()
    if (now - f.warnedAt >= 10_000) {
      f.warnedAt = now
      this.#warn({ agent, agentId, code: SyncErrorCodes.SYNC_ANSWER_UNAUTHENTICATED, message: `ignored ${f.count} answer(s) on the down topic of ${agent} not signed by the pinned hub key (last: ${env.kind}); someone else publishes there` })
    }
    return false
  }
}
