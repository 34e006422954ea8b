// Reading a store that another process owns (issue 17 #6). LevelDB admits one process per database,
// so while a robot's script runs, `pcp history`/`export`/`memory stats|search` cannot open its store. The
// owner therefore answers read-only questions on a unix socket in the store directory:
//   <store>/inspect.sock   mode 0600 (bound under a temporary name, chmod-ed, then renamed into place,
//                          so it is never connectable with wider permissions), in the 0700 agent dir.
// Only the owner's user (and root) can connect: connect(2) on a unix socket needs write permission on it.
// The protocol is one JSON object per line each way, one request at a time per connection:
//   {"op":"info"}                          → { head, durable, identities: [{ agentId, publicKey(b64) }], pid, durability }
//   {"op":"records","from":a,"to":b}       → { records: [b64 …] }  (stored bytes, decoded by the reader)
//   {"op":"stats"}                         → the EventStore.stats() object
//   {"op":"search","query":{…}}            → { results: [{ seq, record(b64) }] }  (SearchQuery; limit ≤ 10,000)
// There is no write op: the server holds no path to append, put or delete, so a reader can never be
// a second writer. Records travel as stored (runtime/record.ts), so an export made through the socket
// hashes exactly as one made by the owner. The head served is the one WRITTEN to LevelDB, never an
// in-memory head whose batch is still queued (its events could not be read back yet).
import { createServer, connect, type Server, type Socket } from 'node:net'
import { chmod, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PcpError, ErrorCodes } from './errors.js'
import { decodeRecord } from './record.js'
import type { EventStore, Head, StoredIdentity, SearchQuery } from './store.js'
import type { AissEvent } from './types.js'

export const INSPECT_SOCKET = 'inspect.sock'
/** sockaddr_un.sun_path holds 108 bytes with the terminating NUL (Linux unix(7)). */
export const MAX_SOCKET_PATH = 107
const MAX_REQUEST = 4096
const PAGE = 256
const MAX_CONNECTIONS = 8
/** Results of one search over the socket: a reply is one line, held in memory on both sides. */
export const MAX_SEARCH_RESULTS = 10_000

export type StoreStats = Awaited<ReturnType<EventStore['stats']>>

/** What history, export and stats need of a store: the owner's EventStore or a reader over its socket. */
export interface StoreReader {
  readonly head: Head | null
  readonly identities: readonly StoredIdentity[]
  events (from?: number, to?: number): AsyncGenerator<{ seq: number, event: AissEvent }>
  stats (): Promise<StoreStats>
  search (q?: SearchQuery): Promise<Array<{ seq: number, event: AissEvent }>>
  flush (): Promise<void>
  close (): Promise<void>
}

/** Facts only the live owner knows: set on a reader that came through the socket. */
export interface LiveInfo { pid: number, durability: string, durable: number }

export interface InspectionServer { readonly path: string, close (): Promise<void> }

/**
 * Serves `store` read-only at <store.path>/inspect.sock. Never throws: a store that cannot serve
 * (path too long for a unix socket, a read-only directory) still opens, with a process warning.
 */
export async function serveInspection (store: EventStore): Promise<InspectionServer | null> {
  const path = join(store.path, INSPECT_SOCKET)
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    process.emitWarning(`store of agent "${store.name}": ${path} is longer than a unix socket path may be (${MAX_SOCKET_PATH} bytes); pcp history/export cannot read it while this process runs`, { code: 'PCP_INSPECT_UNAVAILABLE' })
    return null
  }
  const tmp = `${path}.${process.pid}.tmp`
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    if (sockets.size >= MAX_CONNECTIONS) { s.destroy(); return }
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    serveConnection(store, s)
  })
  try {
    // We hold the LevelDB lock, so a socket left here was left by an owner that died: ours to replace.
    await unlink(tmp).catch(() => {})
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(tmp, () => { server.off('error', reject); resolve() }) })
    await chmod(tmp, 0o600)
    await rename(tmp, path)
  } catch (err) {
    server.close()
    await unlink(tmp).catch(() => {})
    process.emitWarning(`store of agent "${store.name}": cannot serve ${path} (${(err as Error).message}); pcp history/export cannot read it while this process runs`, { code: 'PCP_INSPECT_UNAVAILABLE' })
    return null
  }
  server.unref()
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy()
      await unlink(path).catch(() => {})
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

function serveConnection (store: EventStore, s: Socket): void {
  let buf = ''
  let busy: Promise<void> = Promise.resolve()
  s.setEncoding('utf8')
  s.on('error', () => s.destroy())
  s.on('data', (d: string) => {
    buf += d
    if (buf.length > MAX_REQUEST && !buf.includes('\n')) { s.destroy(); return }
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl); buf = buf.slice(nl + 1)
      busy = busy.then(async () => {
        let reply: unknown
        try { reply = { ok: true, result: await answer(store, JSON.parse(line) as Request) } } catch (err) {
          reply = { ok: false, error: { code: (err as PcpError).code ?? 'ERROR', message: (err as Error).message } }
        }
        if (!s.destroyed) s.write(JSON.stringify(reply) + '\n')
      })
    }
  })
}

type Request = { op?: unknown, from?: unknown, to?: unknown, query?: unknown }

/** A SearchQuery from the socket, each field checked: the owner runs it against its own store. */
function searchQueryOf (raw: unknown): SearchQuery {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PcpError('ARGUMENT_INVALID', 'search: "query" must be an object')
  const q = raw as Record<string, unknown>
  const out: SearchQuery = {}
  for (const f of ['eventType', 'sessionId', 'peer'] as const) {
    if (q[f] === undefined) continue
    if (typeof q[f] !== 'string') throw new PcpError('ARGUMENT_INVALID', `search: "${f}" must be a string`, { field: f })
    out[f] = q[f] as string
  }
  for (const f of ['after', 'before', 'limit'] as const) {
    if (q[f] === undefined) continue
    if (!Number.isSafeInteger(q[f]) || (q[f] as number) < 0) throw new PcpError('ARGUMENT_INVALID', `search: "${f}" must be a whole non-negative number`, { field: f })
    out[f] = q[f] as number
  }
  if (q.reverse !== undefined) out.reverse = q.reverse === true
  out.limit = Math.min(out.limit ?? 100, MAX_SEARCH_RESULTS)
  return out
}

async function answer (store: EventStore, q: Request): Promise<unknown> {
  const written = store.writtenHead
  if (q.op === 'info') {
    return {
      head: written,
      durable: store.durableSeq,
      identities: store.identities.map((i) => ({ agentId: i.agentId, publicKey: Buffer.from(i.publicKey).toString('base64') })),
      pid: process.pid,
      durability: store.durability
    }
  }
  if (q.op === 'records') {
    const end = (written?.seq ?? -1) + 1
    const from = q.from; const to = q.to
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || (from as number) < 0 || (to as number) < (from as number)) {
      throw new PcpError('ARGUMENT_INVALID', `records: from/to must be whole numbers with 0 <= from <= to, got ${JSON.stringify([from, to])}`)
    }
    const records = await store.recordsRange(from as number, Math.min(to as number, end, (from as number) + PAGE))
    return { records: records.map((r) => Buffer.from(r).toString('base64')) }
  }
  if (q.op === 'stats') return await store.stats()
  if (q.op === 'search') {
    const results = await store.search(searchQueryOf(q.query))
    const out: Array<{ seq: number, record: string }> = []
    // The stored bytes, as for records: the reader decodes exactly what an export would hash.
    for (const r of results) for (const rec of await store.recordsRange(r.seq, r.seq + 1)) out.push({ seq: r.seq, record: Buffer.from(rec).toString('base64') })
    return { results: out }
  }
  throw new PcpError('ARGUMENT_INVALID', `unknown op ${JSON.stringify(q.op)}; this socket is read-only (info, records, stats, search)`)
}

/** A StoreReader over the owner's socket; rejects if nothing answers there. */
export async function connectInspection (storePath: string, name: string): Promise<StoreReader & { live: LiveInfo }> {
  const path = join(storePath, INSPECT_SOCKET)
  const s = connect(path)
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  const lines: string[] = []
  let buf = ''
  let waiting: { resolve: (l: string) => void, reject: (e: unknown) => void } | null = null
  let ended: Error | null = null
  s.setEncoding('utf8')
  s.on('data', (d: string) => {
    buf += d
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1) }
    if (waiting && lines.length) { const w = waiting; waiting = null; w.resolve(lines.shift()!) }
  })
  const fail = (err: Error): void => { ended ??= err; if (waiting) { const w = waiting; waiting = null; w.reject(err) } }
  s.on('error', fail)
  s.on('close', () => fail(new Error('the owner closed the inspection socket')))
  const lost = (err: unknown): PcpError => new PcpError(ErrorCodes.STORE_CLOSED, `agent "${name}": the owning process stopped answering on ${path} (${(err as Error).message})`, { agent: name, file: path, cause: err })
  const ask = async <T>(q: Record<string, unknown>): Promise<T> => {
    if (ended) throw lost(ended)
    s.write(JSON.stringify(q) + '\n')
    const line = lines.length ? lines.shift()! : await new Promise<string>((resolve, reject) => { waiting = { resolve, reject } }).catch((e) => { throw lost(e) })
    const r = JSON.parse(line) as { ok: boolean, result?: T, error?: { code: string, message: string } }
    if (!r.ok) throw new PcpError(r.error?.code ?? 'ERROR', `agent "${name}" (read through ${path}): ${r.error?.message}`, { agent: name, file: path })
    return r.result as T
  }
  let info: { head: Head | null, durable: number, identities: Array<{ agentId: string, publicKey: string }>, pid: number, durability: string }
  try { info = await ask({ op: 'info' }) } catch (err) { s.destroy(); throw err }
  const identities: StoredIdentity[] = info.identities.map((i) => ({ agentId: i.agentId, publicKey: new Uint8Array(Buffer.from(i.publicKey, 'base64')) }))
  const agentIds = identities.map((i) => i.agentId)
  // The chain as it stood at connect: later events are the owner's business until the next look.
  const head = info.head
  return {
    head,
    identities,
    live: { pid: info.pid, durability: info.durability, durable: info.durable },
    async * events (from = 0, to = Infinity) {
      const end = Math.min(to, (head?.seq ?? -1) + 1)
      let seq = from
      while (seq < end) {
        const { records } = await ask<{ records: string[] }>({ op: 'records', from: seq, to: end })
        if (records.length === 0) throw new PcpError(ErrorCodes.STORE_CORRUPTED, `agent "${name}": the owner returned no event #${seq} below its head #${head!.seq}`, { agent: name, index: seq, file: path })
        for (const r of records) yield { seq: seq++, event: decodeRecord(new Uint8Array(Buffer.from(r, 'base64')), agentIds) }
      }
    },
    stats: () => ask<StoreStats>({ op: 'stats' }),
    async search (q: SearchQuery = {}) {
      if ((q.limit ?? 100) > MAX_SEARCH_RESULTS) throw new PcpError('ARGUMENT_INVALID', `agent "${name}" runs in process ${info.pid}: a search through its socket returns at most ${MAX_SEARCH_RESULTS} events (--limit ${q.limit})`, { agent: name, field: 'limit', actual: q.limit })
      const { results } = await ask<{ results: Array<{ seq: number, record: string }> }>({ op: 'search', query: q })
      return results.map((r) => ({ seq: r.seq, event: decodeRecord(new Uint8Array(Buffer.from(r.record, 'base64')), agentIds) }))
    },
    flush: async () => {},
    close: async () => { s.destroy() }
  }
}
