// Opening the device store's state (runtime/store.ts): identities, repair reports and the head are single
// keys, so this takes constant time whatever the chain length; only after a crash in relaxed or interval
// mode are the keys after the last completed fsync scanned for a hole (runtime/store-repair.ts).
import type { Level } from 'level'
import { eventHash } from './event.js'
import { writeError } from './store-space.js'
import { findHole, setAside, seqKey, type RepairReport } from './store-repair.js'
import type { Head } from './store-batch.js'
import type { AissEvent } from './types.js'

export interface LoadCodec {
  decode<T> (key: string, value: Uint8Array): T
  /** Decodes an event record against the identities loaded so far. */
  decodeEvent (key: string, value: Uint8Array, agentIds: string[]): AissEvent
  corrupt (key: string, why: string): never
}

export interface LoadedState {
  identities: Array<{ agentId: string, publicKey: Uint8Array }>
  repairs: RepairReport[]
  head: Head | null
  /** Every event up to this seq was covered by a completed fsync (-1: none, or a store from before it was kept). */
  durable: number
}

export async function loadState (db: Level<string, Uint8Array>, c: LoadCodec): Promise<LoadedState> {
  const identities: LoadedState['identities'] = []
  const repairs: RepairReport[] = []
  for await (const [key, value] of db.iterator({ gte: 'a!', lt: 'a"' })) {
    const id = c.decode<{ agentId: string, publicKey: Uint8Array }>(key, value)
    identities[Number(key.slice(2))] = { agentId: id.agentId, publicKey: new Uint8Array(id.publicKey) }
  }
  for await (const [key, value] of db.iterator({ gte: 'r!', lt: 'r"' })) repairs.push(c.decode<RepairReport>(key, value))
  const raw = await db.get('h')
  if (raw === undefined) return { identities, repairs, head: null, durable: -1 }
  const { durable, ...head } = c.decode<Head & { durable?: number }>('h', raw)
  // The head and its event are written in one atomic batch; if the event is missing or differs,
  // the store was damaged after the fact. Say so instead of continuing a shortened chain.
  const ev = await db.get(seqKey(head.seq))
  if (ev === undefined) c.corrupt(seqKey(head.seq), `the head names event #${head.seq}, which is missing`)
  const event = c.decodeEvent(seqKey(head.seq), ev!, identities.map((i) => i.agentId))
  if (eventHash(event) !== head.hash) c.corrupt(seqKey(head.seq), `event #${head.seq} does not hash to the recorded head ${head.hash}`)
  // A store from before `durable` was kept: scanned once, whole.
  return { identities, repairs, head, durable: durable ?? -1 }
}

/**
 * Unless the head says every event is durable (a clean close): the keys after the last fsync must be
 * gapless, or the events after the first gap are set aside and the head cut back before it. Returns the
 * repair (with the cut head and durable seq), or null when there was no hole.
 */
export async function repairHole (db: Level<string, Uint8Array>, s: LoadedState, where: { name: string, path: string }):
Promise<{ report: RepairReport, head: Head | null, durable: number } | null> {
  const head = s.head
  if (!head || s.durable >= head.seq) return null
  const hole = await findHole(db, s.durable + 1, head.seq)
  if (!hole) return null
  const n = s.repairs.length
  let done: Awaited<ReturnType<typeof setAside>>
  try {
    done = await setAside(db, { n, ...hole, previousHead: { seq: head.seq, hash: head.hash }, agentIds: s.identities.map((i) => i.agentId), durable: s.durable })
  } catch (err) {
    // Nothing changed (one atomic batch); the next open tries again.
    throw writeError(`cannot set aside the events after the hole at event #${hole.lostFrom} in the store of agent "${where.name}"`, where.path, err, { agent: where.name, index: hole.lostFrom })
  }
  const { report, head: cut } = done
  process.emitWarning(`store of agent "${where.name}" (${where.path}) came back from a power cut with a hole at event #${report.lostFrom}: ` +
    `${report.setAside.length} later events (#${report.setAside[0]?.seq ?? report.lostFrom}-#${head.seq}) set aside in quarantine ${n}; the chain continues after #${report.lostFrom - 1}`, { code: 'PCP_STORE_HOLE_REPAIRED' })
  return { report, head: cut, durable: Math.min(s.durable, cut?.seq ?? -1) }
}
