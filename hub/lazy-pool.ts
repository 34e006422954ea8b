// The hub's verify pool, started at the first batch: a hub no device is sending to holds no worker
// threads (each is ~16 MiB: issue 18's idle RSS, 134 → 101 MiB built). Items submitted while the
// workers start keep their order: each waits on the same promise, and its callbacks run in order.
// Workers that cannot start fail that batch's verification, which ingest then does on the main thread
// (hub/ingest.ts #check), so nothing is lost; `onFailure` says so, and the next batch tries again.
import type { VerifyPool } from './verify-pool.js'

export class LazyPool<I, R> {
  readonly #open: () => Promise<VerifyPool<I, R>>
  readonly #onFailure: (err: unknown) => void
  #pool: Promise<VerifyPool<I, R>> | null = null

  constructor (open: () => Promise<VerifyPool<I, R>>, onFailure: (err: unknown) => void = () => {}) {
    this.#open = open
    this.#onFailure = onFailure
  }

  /** Whether the workers were started (a batch came). */
  get started (): boolean { return this.#pool !== null }

  submit (key: string, item: I): Promise<R> {
    return this.#opened().then((p) => p.submit(key, item))
  }

  /** Starts the workers now (a benchmark's warm-up; a hub that wants them before its first batch). */
  async start (): Promise<void> { await this.#opened() }

  #opened (): Promise<VerifyPool<I, R>> {
    if (this.#pool === null) {
      const opening = this.#open()
      this.#pool = opening
      opening.catch((err: unknown) => { if (this.#pool === opening) this.#pool = null; this.#onFailure(err) })
    }
    return this.#pool
  }

  async close (): Promise<void> {
    const pool = await this.#pool?.catch(() => null)
    this.#pool = null
    await pool?.close()
  }
}
