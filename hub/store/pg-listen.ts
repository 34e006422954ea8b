// A LISTEN connection that comes back. LISTEN needs a connection of its own (a pooled one would go back
// to the pool); when the server ends it (restart, pg_terminate_backend) it is opened again after a pause,
// doubling up to 5 s, and `resumed` runs: what was announced meanwhile is lost with the connection, so
// the owner reads again. Used by the hub store (registry changes) and the shared TrustGate state.
import type { Client, Notification } from 'pg'

export interface PgListenOptions {
  Client: typeof Client
  url: string
  applicationName: string
  channels: readonly string[]
  onNotify: (n: Notification) => void
  /** After a reconnect: read what may have been announced while nobody listened. */
  resumed: () => Promise<unknown> | unknown
  /** The first pause after a loss. */
  retryMs: number
}

export class PgListener {
  readonly #o: PgListenOptions
  #client: Client | null = null
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor (o: PgListenOptions) { this.#o = o }

  /** Connects and listens; throws when the first connection fails. */
  async start (): Promise<void> {
    const c = new this.#o.Client({ connectionString: this.#o.url, application_name: this.#o.applicationName })
    let lost = false
    const onLost = (): void => {
      if (lost) return
      lost = true
      c.end().catch(() => {})
      if (this.#client === c) { this.#client = null; this.#retry(this.#o.retryMs) }
    }
    c.on('error', onLost); c.on('end', onLost)
    c.on('notification', (n: Notification) => this.#o.onNotify(n))
    try {
      await c.connect()
      for (const ch of this.#o.channels) await c.query(`LISTEN ${ch}`)
    } catch (err) { lost = true; await c.end().catch(() => {}); throw err }
    if (this.#closed) { await c.end().catch(() => {}); return }
    this.#client = c
  }

  #retry (ms: number): void {
    if (this.#closed) return
    this.#timer = setTimeout(() => {
      this.start().then(() => this.#o.resumed()).catch(() => { if (this.#client === null) this.#retry(Math.min(ms * 2, 5000)) })
    }, ms)
    this.#timer.unref()
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const c = this.#client
    this.#client = null
    await c?.end().catch(() => {})
  }
}
