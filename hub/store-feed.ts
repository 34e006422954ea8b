// What feeds Vigil (and the A2A interaction cross-check) when several hubs share one store: each hub's
// consumers must see every event of every agent, in chain order, whichever hub stored it, or the Vigil
// API of one hub would answer from the half of a chain its shared-subscription share brought it. So the
// consumers are fed from the store, not from this hub's ingest alone: the events this hub stored, after
// any before them that another hub stored (read back from the store), and, every few seconds, whatever
// other hubs appended meanwhile. Vigil's state is then a function of the stored chains (recomputable): a
// hub that starts with no vigil.json reads every chain from #0. `toJSON()` is saved beside vigil.json
// (vigil-fed.json), so a restarted hub resumes where its saved Vigil state ends. One hub on its own
// store keeps feeding directly (hub/consumers.ts), as before.
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../runtime/fsutil.js'
import type { AissEvent } from '../runtime/types.js'
import type { HubStore } from './store/types.js'

export type FeedConsumer = (agentId: string, events: AissEvent[]) => void

export class StoreFeed {
  readonly #store: HubStore
  readonly #consume: FeedConsumer
  /** Per agent: the next seq the consumers have not seen. */
  readonly #fed: Map<string, number>
  readonly #chains = new Map<string, Promise<void>>()
  #catching: Promise<void> | null = null

  constructor (store: HubStore, consume: FeedConsumer, fed: Record<string, number> = {}) {
    this.#store = store; this.#consume = consume
    this.#fed = new Map(Object.entries(fed).filter(([, n]) => Number.isInteger(n) && n >= 0))
  }

  /** Events this hub stored; `count` is the chain's length after them. */
  stored (agentId: string, events: AissEvent[], count: number): void {
    const start = count - events.length
    this.#serial(agentId, async () => {
      const fed = this.#fed.get(agentId) ?? 0
      if (count <= fed) return // a catch-up read them already
      if (fed < start) await this.#read(agentId, fed, start)
      const from = (this.#fed.get(agentId) ?? 0) - start
      if (from < events.length) { this.#consume(agentId, from > 0 ? events.slice(from) : events); this.#fed.set(agentId, count) }
    })
  }

  /** Reads what other hubs appended since the last look (one query for the heads, then only the new events). */
  catchUp (): Promise<void> {
    this.#catching ??= (async () => {
      try {
        const counts = await this.#store.counts?.()
        for (const [agentId, n] of counts ?? []) {
          if (n > (this.#fed.get(agentId) ?? 0)) this.#serial(agentId, () => this.#read(agentId, this.#fed.get(agentId) ?? 0, n))
        }
        await Promise.all([...this.#chains.values()])
      } finally { this.#catching = null }
    })()
    return this.#catching
  }

  /** Per agent: what the consumers have seen (saved with Vigil's state). */
  toJSON (): Record<string, number> { return Object.fromEntries(this.#fed) }

  async #read (agentId: string, from: number, to: number): Promise<void> {
    if (from >= to) return
    // The keys another hub's rotations added are in the record: the stored events name them by index.
    await this.#store.refresh?.(agentId)
    let batch: AissEvent[] = []
    let next = from
    for await (const { seq, event } of this.#store.events(agentId, from, to)) {
      batch.push(event); next = seq + 1
      if (batch.length === 500) { this.#consume(agentId, batch); this.#fed.set(agentId, next); batch = [] }
    }
    if (batch.length) { this.#consume(agentId, batch); this.#fed.set(agentId, next) }
  }

  /** One agent's feeding in order; a failed read (database away) is retried by the next catch-up. */
  #serial (agentId: string, fn: () => Promise<void>): void {
    const run = (this.#chains.get(agentId) ?? Promise.resolve()).then(fn).catch(() => {})
    this.#chains.set(agentId, run)
    void run.then(() => { if (this.#chains.get(agentId) === run) this.#chains.delete(agentId) })
  }
}

const FED_FILE = 'vigil-fed.json'

/**
 * Where feeding resumes: the positions saved with Vigil's state; with a vigil.json but no positions (a hub
 * that ran on its own before), the heads now (its saved state is taken as covering them); with neither,
 * every chain from #0.
 */
export async function loadFed (dataDir: string, store: HubStore): Promise<Record<string, number>> {
  try { return JSON.parse(await readFile(join(dataDir, FED_FILE), 'utf8')) as Record<string, number> } catch {}
  if (!existsSync(join(dataDir, 'vigil.json'))) return {}
  return Object.fromEntries(await store.counts?.() ?? new Map<string, number>())
}

/** Written after vigil.json: a crash between the two re-feeds a few events to a Vigil that saw them, never skips any. */
export async function saveFed (dataDir: string, feed: StoreFeed): Promise<void> {
  await writeFileAtomic(join(dataDir, FED_FILE), JSON.stringify(feed.toJSON()), 0o600)
}
