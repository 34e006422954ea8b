// Proving a bag against a chain, message by message. Pure: the bag's records and the chain's events in,
// a verdict per message out (no file or clock here; cli/ros2-bag.ts does the I/O).
//   proven    its bytes hash to the entry the signed window lists for its (topic, sequence), at the listed log time
//   altered   it sits where a signed window expects a message, but its bytes or log time differ
//   missing   a signed window expects a message there and the bag has none
//   inserted  no signed window covers it (or a second message claims a covered place)
// A window's list of hashes travels in the bag (pcp.window metadata) and counts only when it reproduces
// the signed merkle_root, count and log_times_hash; without such a list the window can still be proven
// whole (the bag's messages in that range give the signed root), but not localised when they do not.
// Publisher-side topic_digest windows (a node's own chain, same CDR hashes) are matched as a contiguous
// run of the topic's messages in recorded order giving the signed root.
import { sha256Hex, type AissEvent } from '../runtime/index.js'
import { merkleRoot } from './merkle.js'
import { wireHash, WIRE_HASH_RECIPE } from './msg-hash.js'
import type { BagContents, BagMessage } from './bag.js'
import { BAG_WINDOW_EVENT, logTimesHash } from './recorder.js'

export type MessageStatus = 'proven' | 'altered' | 'missing' | 'inserted'

export interface MessageVerdict { topic: string, sequence: number, log_time: bigint | null, status: MessageStatus, window: number | null }

export interface WindowVerdict { event_index: number, topic: string, first_seq: number | null, last_seq: number | null, count: number, list: 'verified' | 'absent' | 'forged' | 'n/a', proven: boolean }

export interface BagReport {
  valid: boolean
  counts: Record<MessageStatus, number>
  messages: MessageVerdict[]
  windows: WindowVerdict[]
  problems: string[]
}

interface WindowEvent { index: number, topic: string, count: number, root: string, firstSeq: number, lastSeq: number, logTimesHash: string | null, bagId: string | null }

const str = (v: unknown): string | null => typeof v === 'string' ? v : null
const int = (v: unknown): number | null => typeof v === 'number' && Number.isSafeInteger(v) ? v : typeof v === 'bigint' ? Number(v) : null

function windowEvents (events: AissEvent[]): { recorder: WindowEvent[], publisher: WindowEvent[] } {
  const recorder: WindowEvent[] = []; const publisher: WindowEvent[] = []
  events.forEach((e, index) => {
    const p = e.payload as Record<string, unknown>
    const type = p.event_type
    if (type !== BAG_WINDOW_EVENT && !(type === 'topic_digest' && p.hash_recipe === WIRE_HASH_RECIPE && typeof p.topic === 'string')) return
    const w: WindowEvent = {
      index, topic: str(p.topic) ?? '', count: int(p.count) ?? 0, root: str(p.merkle_root) ?? '',
      firstSeq: int(p.first_seq) ?? 0, lastSeq: int(p.last_seq) ?? 0, logTimesHash: str(p.log_times_hash), bagId: str(p.bag_id)
    }
    if (type === BAG_WINDOW_EVENT) recorder.push(w); else publisher.push(w)
  })
  return { recorder, publisher }
}

/** The bag's pcp.window lists, by topic and first sequence. */
function windowLists (bag: BagContents): Map<string, { hashes: string[], logTimes: string[] }> {
  const out = new Map<string, { hashes: string[], logTimes: string[] }>()
  for (const m of bag.metadata) {
    if (m.name !== 'pcp.window') continue
    const topic = m.metadata.get('topic'); const first = m.metadata.get('first_seq')
    if (topic === undefined || first === undefined) continue
    out.set(`${topic}\n${first}`, { hashes: (m.metadata.get('hashes') ?? '').split(',').filter(Boolean), logTimes: (m.metadata.get('log_times') ?? '').split(',').filter(Boolean) })
  }
  return out
}

export function bagIdOf (bag: BagContents): string | null {
  return bag.metadata.find((m) => m.name === 'pcp.bag')?.metadata.get('bag_id') ?? null
}

export function verifyBag (bag: BagContents, events: AissEvent[]): BagReport {
  const { recorder, publisher } = windowEvents(events)
  const problems: string[] = []
  // Which recording: the bag names its id; the chain's windows for other bags are not this bag's.
  const ids = new Set(recorder.map((w) => w.bagId))
  const bagId = bagIdOf(bag) ?? (ids.size === 1 ? [...ids][0]! : null)
  const mine = recorder.filter((w) => w.bagId === bagId)
  if (recorder.length > 0 && mine.length === 0) problems.push(`no bag_window event of this chain is for bag ${String(bagId)}`)
  if (bag.truncated) problems.push(`bag is damaged after ${bag.messages.length} messages: ${bag.truncated}`)
  const lists = windowLists(bag)
  const status = new Map<BagMessage, MessageVerdict>()
  const verdicts: MessageVerdict[] = []
  const byPlace = new Map<string, BagMessage[]>()
  for (const m of bag.messages) {
    const k = `${m.topic}\n${m.sequence}`
    const l = byPlace.get(k); if (l) l.push(m); else byPlace.set(k, [m])
  }
  const set = (m: BagMessage, s: MessageStatus, window: number): void => {
    if (status.has(m)) return
    const v = { topic: m.topic, sequence: m.sequence, log_time: m.logTime, status: s, window }
    status.set(m, v); verdicts.push(v)
  }
  const windows: WindowVerdict[] = []
  for (const w of mine) {
    const key = `${w.topic}\n${w.firstSeq}`
    const list = lists.get(key)
    const listOk = list !== undefined && list.hashes.length === w.count && merkleRoot(list.hashes) === w.root &&
      (w.logTimesHash === null || sha256Hex(list.logTimes.join(',')) === w.logTimesHash)
    let proven = true
    for (let s = w.firstSeq; s <= w.lastSeq; s++) {
      const at = byPlace.get(`${w.topic}\n${s}`) ?? []
      if (at.length === 0) {
        proven = false
        verdicts.push({ topic: w.topic, sequence: s, log_time: listOk ? BigInt(list.logTimes[s - w.firstSeq]!) : null, status: 'missing', window: w.index })
        continue
      }
      const i = s - w.firstSeq
      const good = listOk
        ? at.find((m) => wireHash(m.data) === list.hashes[i] && String(m.logTime) === list.logTimes[i])
        : undefined
      if (good) set(good, 'proven', w.index)
      for (const m of at) if (m !== good) { set(m, good ? 'inserted' : 'altered', w.index); proven = false }
    }
    if (!listOk) {
      // No usable list: the window is proven only as a whole, by its signed root over the bag's messages.
      const run: BagMessage[] = []
      for (let s = w.firstSeq; s <= w.lastSeq; s++) { const at = byPlace.get(`${w.topic}\n${s}`); if (at?.length === 1) run.push(at[0]!) }
      const whole = run.length === w.count && merkleRoot(run.map((m) => wireHash(m.data))) === w.root
      if (whole) { for (const m of run) { const v = status.get(m); if (v) v.status = 'proven' } proven = true }
    }
    windows.push({ event_index: w.index, topic: w.topic, first_seq: w.firstSeq, last_seq: w.lastSeq, count: w.count, list: list === undefined ? 'absent' : listOk ? 'verified' : 'forged', proven })
  }
  // A node's own windows: the same CDR hashes, matched by position in the topic's stream.
  for (const w of publisher) {
    const stream = bag.messages.filter((m) => m.topic === w.topic).sort((a, b) => a.sequence - b.sequence || a.index - b.index)
    const hashes = stream.map((m) => wireHash(m.data))
    let at = -1
    for (let i = 0; i + w.count <= hashes.length && at < 0; i++) if (merkleRoot(hashes.slice(i, i + w.count)) === w.root) at = i
    if (at >= 0) for (const m of stream.slice(at, at + w.count)) set(m, 'proven', w.index)
    windows.push({ event_index: w.index, topic: w.topic, first_seq: w.firstSeq, last_seq: w.lastSeq, count: w.count, list: 'n/a', proven: at >= 0 })
    if (at < 0 && stream.length > 0) problems.push(`publisher window (event ${w.index}, ${w.topic}, ${w.count} messages) matches no run of the bag's messages`)
  }
  for (const m of bag.messages) if (!status.has(m)) set(m, 'inserted', -1)
  for (const v of verdicts) if (v.window === -1) v.window = null
  verdicts.sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.sequence - b.sequence)
  const counts: Record<MessageStatus, number> = { proven: 0, altered: 0, missing: 0, inserted: 0 }
  for (const v of verdicts) counts[v.status]++
  if (mine.length === 0 && publisher.length === 0) problems.push('the chain holds no window of this bag (bag_window or wire-recipe topic_digest events)')
  const valid = problems.length === 0 && counts.altered === 0 && counts.missing === 0 && counts.inserted === 0 && windows.every((w) => w.proven)
  return { valid, counts, messages: verdicts, windows, problems }
}

export { logTimesHash }
