// The device store's secondary indexes and the queries over them (runtime/store.ts has the key layout).
// An index key covers all of one batch's events that share it: t!<type>!<first seq> → [seqs], likewise
// S!<session>! and p!<peer>!. Time needs no index: timestamps never decrease along the chain, so a time
// range is a binary search over seq. Nothing here scans the whole chain.
import type { AissEvent } from './types.js'

export interface SearchQuery {
  eventType?: string
  after?: number
  before?: number
  sessionId?: string
  peer?: string
  limit?: number
  /** Newest first instead of chain order. */
  reverse?: boolean
}

export const PEER_FIELDS = ['peer_agent_id', 'peer_id', 'peer'] as const

/** The index prefixes an event belongs to. */
export function indexPrefixes (event: AissEvent): string[] {
  const p = event.payload ?? {}
  const out: string[] = []
  if (typeof p.event_type === 'string') out.push('t!' + p.event_type + '!')
  if (typeof p.session_id === 'string') out.push('S!' + p.session_id + '!')
  for (const f of PEER_FIELDS) if (typeof p[f] === 'string') { out.push('p!' + p[f] + '!'); break }
  return out
}

/** What the queries read from the store. */
export interface IndexedSource {
  /** Number of events (the head's seq + 1). */
  count (): number
  get (seq: number): Promise<AissEvent | undefined>
  /** Seqs listed under an index prefix, in chain order (or reversed), limited to [from, to). */
  indexed (prefix: string, from: number, to: number, reverse: boolean): AsyncIterable<number>
  /** A damaged store: throws STORE_CORRUPTED for this event. */
  corrupt (seq: number, why: string): never
}

/** First seq whose timestamp is >= ts: a binary search, as timestamps never decrease along the chain. */
export async function seqAtTime (src: IndexedSource, ts: number): Promise<number> {
  let lo = 0; let hi = src.count()
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const ev = await src.get(mid)
    if (!ev) src.corrupt(mid, `event #${mid} is missing`)
    if (ev!.timestamp < ts) lo = mid + 1; else hi = mid
  }
  return lo
}

/** A type, session or peer query reads only that index's keys; a time range is two binary searches. */
export async function search (src: IndexedSource, q: SearchQuery = {}): Promise<Array<{ seq: number, event: AissEvent }>> {
  const limit = q.limit ?? 100
  const reverse = q.reverse ?? false
  const from = q.after === undefined ? 0 : await seqAtTime(src, q.after)
  const to = q.before === undefined ? src.count() : await seqAtTime(src, q.before)
  let seqs: AsyncIterable<number> | Iterable<number>
  if (q.eventType !== undefined) seqs = src.indexed('t!' + q.eventType + '!', from, to, reverse)
  else if (q.sessionId !== undefined) seqs = src.indexed('S!' + q.sessionId + '!', from, to, reverse)
  else if (q.peer !== undefined) seqs = src.indexed('p!' + q.peer + '!', from, to, reverse)
  else seqs = (function * () { if (reverse) { for (let s = to - 1; s >= from; s--) yield s } else { for (let s = from; s < to; s++) yield s } })()
  const out: Array<{ seq: number, event: AissEvent }> = []
  for await (const seq of seqs) {
    const event = await src.get(seq)
    if (!event) src.corrupt(seq, `an index names event #${seq}, which is missing`)
    if (q.sessionId !== undefined && event!.payload.session_id !== q.sessionId) continue
    if (q.peer !== undefined && !PEER_FIELDS.some((f) => event!.payload[f] === q.peer)) continue
    out.push({ seq, event: event! })
    if (out.length >= limit) break
  }
  return out
}
