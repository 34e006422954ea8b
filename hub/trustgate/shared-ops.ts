// How the service runs an operation that journals when other hubs journal into the same store
// (pg-state.ts): one at a time, on the journal as read just before (an answer through this hub to a
// request queued through another a moment ago finds it), and again after reading what the others
// appended whenever its append lost the race (JOURNAL_CONFLICT), so every decision is taken on the
// journal as it is. On one hub's own chain an operation runs as it is, concurrently (the chain orders
// the stamps, and a burst becomes one group commit).
import { PcpError } from '../../runtime/errors.js'
import { ServiceErrorCodes } from './errors.js'

// A shared journal that keeps moving under a hub this many times in a row fails the operation (the caller
// gets JOURNAL_CONFLICT, fails closed, and may ask again).
const MAX_ATTEMPTS = 50

export class SharedOps {
  #tail: Promise<unknown> = Promise.resolve()

  /** `catchUp` applies what the other hubs appended since this hub last read or wrote the journal. */
  constructor (readonly shared: boolean, private readonly catchUp: () => Promise<void>) {}

  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (!this.shared) return await fn()
    return await this.exclusive(async () => {
      await this.catchUp()
      for (let attempt = 1; ; attempt++) {
        try { return await fn() } catch (err) {
          if (!(err instanceof PcpError && err.code === ServiceErrorCodes.JOURNAL_CONFLICT) || attempt >= MAX_ATTEMPTS) throw err
          await this.catchUp()
        }
      }
    })
  }

  /** Runs `fn` after every operation before it has finished. */
  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn)
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Resolves once nothing is running. */
  async idle (): Promise<void> { await this.#tail }
}
