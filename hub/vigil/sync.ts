// A2C synchronisation indicator (vigil.md §4) computed as events stream in. The reference sorts both
// agents' 48 h timestamps and greedily pairs each agent timestamp with an unused peer timestamp within
// ±5 s. Fed in time order, the same greedy matching needs only the unmatched timestamps of the last
// 5 s per pair, plus a windowed count of matches: memory is bounded by the event rate over 5 s, not by
// the chain. Pairs are the agents an agent names as peers in its A2A events (ours: the reference only
// compared agents when a caller passed `peer_events_map`).
import { type VigilConfig, round4, clamp01 } from './config.js'
import { CountWindow } from './window.js'

const PEND_CAP = 1024

class Pair {
  pend: [number[], number[]] = [[], []]
  matched: CountWindow

  constructor (readonly a: string, readonly b: string, cfg: VigilConfig) {
    this.matched = new CountWindow(cfg.shortBucket, cfg.a2cShortWindow, 1)
  }

  push (side: 0 | 1, t: number, tol: number): void {
    const mine = this.pend[side]
    const other = this.pend[1 - side]
    // Timestamps older than t − tol can match nothing from here on (events arrive in time order).
    while (other.length > 0 && other[0] < t - tol) other.shift()
    while (mine.length > 0 && mine[0] < t - tol) mine.shift()
    if (other.length > 0 && other[0] <= t + tol) {
      other.shift()
      this.matched.add(t, [1])
    } else if (mine.length < PEND_CAP) {
      mine.push(t)
    }
  }
}

export interface SyncResult {
  score: number
  peer: string | null
  correlation: number
  matched: number
  agentEvents: number
  peerEvents: number
  anchored: boolean
  pairsChecked: number
}

export interface SyncJSON { pairs: Array<{ a: string, b: string, pend: [number[], number[]], matched: ReturnType<CountWindow['toJSON']> }> }

export type WindowCounts = (agentId: string, now: number) => { events: number, unanchored: number }

export class SyncPairs {
  readonly #pairs = new Map<string, Pair>()
  readonly #byAgent = new Map<string, Set<string>>()

  constructor (private readonly cfg: VigilConfig) {}

  /** Starts comparing `agent` and `peer` (both directions). No-op if already paired or over the cap. */
  link (agent: string, peer: string): void {
    if (agent === peer || peer === 'unknown') return
    const key = agent < peer ? `${agent}\n${peer}` : `${peer}\n${agent}`
    if (this.#pairs.has(key)) return
    const mine = this.#byAgent.get(agent)
    if (mine !== undefined && mine.size >= this.cfg.maxPeersPerAgent) return
    const [a, b] = agent < peer ? [agent, peer] : [peer, agent]
    this.#add(key, new Pair(a, b, this.cfg))
  }

  #add (key: string, pair: Pair): void {
    this.#pairs.set(key, pair)
    for (const id of [pair.a, pair.b]) {
      let set = this.#byAgent.get(id)
      if (set === undefined) { set = new Set(); this.#byAgent.set(id, set) }
      set.add(key)
    }
  }

  /** Any event of `agent` (not only A2A: §4 compares all events). */
  onEvent (agent: string, t: number): void {
    const keys = this.#byAgent.get(agent)
    if (keys === undefined) return
    for (const key of keys) {
      const pair = this.#pairs.get(key) as Pair
      pair.push(pair.a === agent ? 0 : 1, t, this.cfg.syncTolerance)
    }
  }

  /** Worst pair for `agent` at `now`. */
  result (agent: string, now: number, counts: WindowCounts): SyncResult {
    const cfg = this.cfg
    const best: SyncResult = { score: 0, peer: null, correlation: 0, matched: 0, agentEvents: 0, peerEvents: 0, anchored: true, pairsChecked: 0 }
    const keys = this.#byAgent.get(agent)
    if (keys === undefined) return best
    const mine = counts(agent, now)
    let first = true
    for (const key of keys) {
      const pair = this.#pairs.get(key) as Pair
      const peer = pair.a === agent ? pair.b : pair.a
      const theirs = counts(peer, now)
      const [matched] = pair.matched.totals(now)
      if (mine.events < cfg.syncMinEvents || theirs.events < cfg.syncMinEvents) continue
      best.pairsChecked++
      const correlation = clamp01(matched / Math.min(mine.events, theirs.events))
      const anchored = mine.unanchored === 0 && theirs.unanchored === 0
      let score = correlation < cfg.syncThreshold ? 0 : (correlation - cfg.syncThreshold) / (1 - cfg.syncThreshold)
      if (!anchored) score /= 2
      score = round4(clamp01(score))
      if (first || score > best.score || (score === best.score && correlation > best.correlation)) {
        first = false
        Object.assign(best, { score, peer, correlation: round4(correlation), matched, agentEvents: mine.events, peerEvents: theirs.events, anchored })
      }
    }
    return best
  }

  toJSON (): SyncJSON {
    return { pairs: [...this.#pairs.values()].map((p) => ({ a: p.a, b: p.b, pend: [p.pend[0].slice(), p.pend[1].slice()], matched: p.matched.toJSON() })) }
  }

  static fromJSON (json: SyncJSON, cfg: VigilConfig): SyncPairs {
    const s = new SyncPairs(cfg)
    for (const p of json.pairs) {
      const pair = new Pair(p.a, p.b, cfg)
      pair.pend = [p.pend[0].slice(), p.pend[1].slice()]
      pair.matched = CountWindow.fromJSON(p.matched, cfg.shortBucket, cfg.a2cShortWindow, 1)
      s.#add(`${p.a}\n${p.b}`, pair)
    }
    return s
  }
}
