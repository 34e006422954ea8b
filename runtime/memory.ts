// Reading a PCP home without the private keys: stats, search, history and audit exports open the event
// stores directly, so an operator can inspect agents whose keys are encrypted (or absent).
import { open, rename, unlink } from 'node:fs/promises'
import { join, dirname, basename } from 'node:path'
import { EventStore, type SearchQuery } from './store.js'
import { connectInspection, type StoreReader, type LiveInfo } from './store-inspect.js'
import { ErrorCodes, PcpError } from './errors.js'
import { agentDir, listAgentNames, readIdentityDocument, readRotatedIdentityDocument } from './home.js'
import { AUDIT_SPEC, EXPORTER } from './audit.js'
import { eventHash, chainIntegrityHash } from './event.js'
import { stringifyJson } from './json.js'
import { syncDir, writeAll, fileWriteError } from './fsutil.js'
import type { AissEvent, IdentityDocument } from './types.js'

/** Reading never creates: an unknown name is IDENTITY_NOT_FOUND, not a new empty store under a typo. */
export async function openAgentStore (home: string, name: string): Promise<EventStore> {
  await readIdentityDocument(home, name)
  return EventStore.open(join(agentDir(home, name), 'store'), { name })
}

/**
 * A store to read: opened here when no one holds it, else read through the owner's inspection socket
 * (runtime/store-inspect.ts), so an operator can look at a running robot without stopping it and
 * without a second writer. `live` is set in the second case. A lock whose owner does not answer stays
 * STORE_LOCKED, saying so.
 */
export async function openAgentReader (home: string, name: string): Promise<StoreReader & { live?: LiveInfo }> {
  try {
    return await openAgentStore(home, name)
  } catch (err) {
    if ((err as PcpError).code !== ErrorCodes.STORE_LOCKED) throw err
    const path = join(agentDir(home, name), 'store')
    try { return await connectInspection(path, name) } catch (why) {
      throw new PcpError(ErrorCodes.STORE_LOCKED, `${(err as Error).message}, and it does not answer on ${join(path, 'inspect.sock')} (${(why as Error).message}); stop it or run as its user`,
        { agent: name, file: path, cause: err })
    }
  }
}

/** The identity a chain starts with: identity.json, or its rotated/ copy once the key has been rotated. */
export async function firstIdentityDocument (home: string, name: string, store: Pick<StoreReader, 'identities'>): Promise<IdentityDocument> {
  const current = await readIdentityDocument(home, name)
  const first = store.identities[0]
  if (!first || first.agentId === current.agent_id) return current
  return readRotatedIdentityDocument(agentDir(home, name), name, first.agentId)
}

/**
 * Streams an audit export to disk (a long chain never sits in memory twice), then renames it into
 * place. The layout is the reference's (protocol.md §14).
 */
export async function writeAuditExport (store: Pick<StoreReader, 'head' | 'events' | 'flush'>, identity: IdentityDocument, path: string,
  opts: { now?: number, onProgress?: (done: number, total: number) => void } = {}): Promise<{ path: string, eventCount: number, chainIntegrityHash: string }> {
  await store.flush()
  const total = (store.head?.seq ?? -1) + 1
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  const fh = await open(tmp, 'w', 0o644).catch((err: unknown) => { throw fileWriteError(path, err) })
  const hashes: string[] = []
  let first: number | null = null; let last: number | null = null
  try {
    const indent = (s: string, n: number): string => s.split('\n').join('\n' + ' '.repeat(n))
    let chunk = `{\n  "spec": ${JSON.stringify(AUDIT_SPEC)},\n  "agent_identity": ${indent(stringifyJson(identity, 2), 2)},\n  "events": [`
    let n = 0
    for await (const { event } of store.events()) {
      hashes.push(eventHash(event))
      first ??= event.timestamp; last = event.timestamp
      chunk += (n ? ',' : '') + '\n    ' + indent(stringifyJson(event as AissEvent, 2), 4)
      if (++n % 1000 === 0) { await writeAll(fh, chunk); chunk = ''; opts.onProgress?.(n, total) }
    }
    const cih = chainIntegrityHash(hashes)
    const metadata = { event_count: n, first_timestamp: first, last_timestamp: last, exporter: EXPORTER }
    chunk += `${n ? '\n  ' : ''}],\n  "chain_integrity_hash": ${JSON.stringify(cih)},\n  "exported_at": ${opts.now ?? Math.floor(Date.now() / 1000)},\n  "metadata": ${indent(stringifyJson(metadata, 2), 2)}\n}\n`
    await writeAll(fh, chunk)
    await fh.sync()
    opts.onProgress?.(n, total)
    await fh.close()
    await rename(tmp, path)
    await syncDir(dirname(path))
    return { path, eventCount: n, chainIntegrityHash: cih }
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    // A failure reading the store is the store's error; one writing the file names the file.
    throw err instanceof PcpError ? err : fileWriteError(path, err)
  }
}

export interface HomeStats {
  agents: number
  events: number
  bytes: number
  sessions: number
  rotations: number
  perAgent: Array<{ name: string, agent_id: string, events: number, bytes: number, sessions: number, rotations: number }>
  /** Agents that could not be read (open in another process, damaged), with the reason. */
  skipped: Array<{ name: string, code: string, reason: string }>
}

async function forEachStore<S extends StoreReader> (home: string, only: string | undefined, open: (home: string, name: string) => Promise<S>, fn: (name: string, store: S) => Promise<void>, skipped: HomeStats['skipped']): Promise<void> {
  for (const name of only ? [only] : await listAgentNames(home)) {
    let store: S
    try { store = await open(home, name) } catch (err) {
      if (only) throw err
      skipped.push({ name, code: (err as PcpError).code ?? 'ERROR', reason: (err as Error).message })
      continue
    }
    try { await fn(name, store) } finally { await store.close() }
  }
}

export async function homeStats (home: string): Promise<HomeStats> {
  const out: HomeStats = { agents: 0, events: 0, bytes: 0, sessions: 0, rotations: 0, perAgent: [], skipped: [] }
  // A running agent is counted through its owner (openAgentReader), not skipped as locked.
  await forEachStore(home, undefined, openAgentReader, async (name, store) => {
    const s = await store.stats()
    const agentId = store.identities.at(-1)?.agentId ?? (await readIdentityDocument(home, name)).agent_id
    out.perAgent.push({ name, agent_id: agentId, events: s.events, bytes: s.bytes, sessions: s.sessions, rotations: s.rotations })
    out.agents++; out.events += s.events; out.bytes += s.bytes; out.sessions += s.sessions; out.rotations += s.rotations
  }, out.skipped)
  return out
}

export async function searchHome (home: string, q: SearchQuery & { agent?: string }): Promise<{ results: Array<{ agent: string, seq: number, event: AissEvent }>, skipped: HomeStats['skipped'] }> {
  const results: Array<{ agent: string, seq: number, event: AissEvent }> = []
  const skipped: HomeStats['skipped'] = []
  const limit = q.limit ?? 100
  // A running agent is searched through its owner (openAgentReader), not skipped as locked.
  await forEachStore(home, q.agent, openAgentReader, async (name, store) => {
    for (const r of await store.search({ ...q, limit })) results.push({ agent: name, ...r })
  }, skipped)
  results.sort((a, b) => a.event.timestamp - b.event.timestamp || a.agent.localeCompare(b.agent) || a.seq - b.seq)
  return { results: q.reverse ? results.reverse().slice(0, limit) : results.slice(0, limit), skipped }
}
