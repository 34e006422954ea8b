// What consumes the events the hub stores: Vigil and the A2A interaction cross-check (hub/interactions.ts).
// Each sees every event of a chain once, in chain order: straight from this hub's ingest, or, with several
// hubs on one store, from the store (hub/store-feed.ts), so that every hub's Vigil answers alike. Refused
// events reach Vigil as anomalies, and so do the cross-check's findings.
import type { AissEvent, ChainProblem } from '../runtime/index.js'
import type { OpenedHubStore } from './store/open.js'
import type { VigilEngine } from './vigil/engine.js'
import type { InteractionAnomaly, InteractionCrossCheck } from './interactions.js'
import { StoreFeed, saveFed } from './store-feed.js'
import { saveVigil } from './vigil-state.js'

export class EventConsumers {
  readonly vigil: VigilEngine | null
  readonly #interactions: InteractionCrossCheck | null
  readonly #store: OpenedHubStore
  /** Several hubs on one store: Vigil and the cross-check are fed from the store (hub/store-feed.ts). */
  readonly #feed: StoreFeed | null

  /** `fed`: where feeding from a shared store resumes (hub/store-feed.ts loadFed). */
  constructor (p: { store: OpenedHubStore, vigil: VigilEngine | null, interactions: InteractionCrossCheck | null, fed?: Record<string, number> }) {
    this.vigil = p.vigil
    this.#interactions = p.interactions
    this.#store = p.store
    this.#feed = p.store.shared ? new StoreFeed(p.store, (id, events) => this.#consume(id, events), p.fed) : null
  }

  /** Events this hub stored; `count` is the chain's length after them. */
  stored (agentId: string, events: AissEvent[], count: number): void {
    if (this.#feed) this.#feed.stored(agentId, events, count)
    else this.#consume(agentId, events)
  }

  /** An event ingest refused, as Vigil's anomaly at `at` (Unix seconds). */
  refused (agentId: string, problem: ChainProblem, at: number): void {
    this.vigil?.onAnomaly(agentId, { code: problem.code, index: problem.index, message: problem.message, at })
  }

  /** Periodic: Vigil's windows slide, and interactions the cross-check still waits for may come due. */
  tick (): void {
    this.vigil?.tick()
    for (const a of this.#interactions?.tick() ?? []) this.#anomaly(a)
  }

  /** Whether what other hubs store must be read back (a shared store and something to feed). */
  get followsStore (): boolean { return this.#feed !== null && (this.vigil !== null || this.#interactions !== null) }

  /** Reads what other hubs appended since the last look. */
  catchUp (): Promise<void> { return this.#feed?.catchUp() ?? Promise.resolve() }

  /** Vigil's state (and, from a shared store, where its feeding stands) for the next start; failures are left to the next save. */
  async save (dataDir: string): Promise<void> {
    if (!this.vigil) return
    // Positions only after the state they belong with: positions saved past an older vigil.json (a full
    // disk that still takes the small file) would resume the feed beyond events that Vigil never saw.
    if (!await saveVigil(dataDir, this.vigil).then(() => true, () => false)) return
    if (this.#feed) await saveFed(dataDir, this.#feed).catch(() => {})
  }

  #consume (agentId: string, events: AissEvent[]): void {
    const name = this.#store.agent(agentId)?.name
    this.vigil?.onEvents(agentId, events, name === undefined ? {} : { name })
    for (const ev of events) {
      for (const a of this.#interactions?.onEvent(agentId, ev) ?? []) this.#anomaly(a)
    }
  }

  #anomaly (a: InteractionAnomaly): void {
    this.vigil?.onAnomaly(a.agentId, { code: a.code, index: -1, message: a.reason, at: a.at })
  }
}
