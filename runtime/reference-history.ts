// The event history the reference (PiQrypt 1.9) keeps beside an agent's key (protocol.md §12,
// memory-encryption.md §3): events/plain/YYYY-MM.json and, for Pro, events/encrypted/YYYY-MM.enc under
// a master key wrapped by the memory passphrase. A copied reference directory must continue THAT chain:
// starting a second genesis with the same key is a fork (issue 13 #7). So the first open reads all of
// it, fails closed on anything unreadable or unverifiable, and hands the store one ordered chain.
import { readFile, readdir } from 'node:fs/promises'
import { createDecipheriv, pbkdf2Sync } from 'node:crypto'
import { join, relative } from 'node:path'
import { PcpError, ErrorCodes } from './errors.js'
import { parseJson } from './json.js'
import { eventHash, timestampSeconds } from './event.js'
import { ChainVerifier } from './verify.js'
import { exists } from './fsutil.js'
import type { EventStore, AppendItem } from './store.js'
import type { AissEvent } from './types.js'

export const PLAIN_HISTORY_DIR = join('events', 'plain')
export const ENCRYPTED_HISTORY_DIR = join('events', 'encrypted')
export const MASTER_KEY_FILE = join('keys', 'master.key.enc')
/** The store's record of an import: written in the same batch as the imported events. */
export const IMPORT_META = 'reference_history'

const MONTH_PLAIN = /^\d{4}-\d{2}\.json$/
const MONTH_ENC = /^\d{4}-\d{2}\.enc$/
// memory-encryption.md §2.1: PBKDF2-HMAC-SHA256, 100 000 iterations, 32-byte key; AES-256-GCM, no AAD.
const PBKDF2_ITERATIONS = 100_000
const SALT = 32; const NONCE = 12; const TAG = 16

export interface HistoryFiles { plain: string[], encrypted: string[] }

/** The reference's month files in an agent directory (other entries, e.g. *.json.migrated, are not events). */
export async function referenceHistoryFiles (dir: string): Promise<HistoryFiles> {
  const list = async (sub: string, re: RegExp): Promise<string[]> => {
    let names: string[]
    try { names = await readdir(join(dir, sub)) } catch { return [] }
    return names.filter((n) => re.test(n)).sort().map((n) => join(dir, sub, n))
  }
  return { plain: await list(PLAIN_HISTORY_DIR, MONTH_PLAIN), encrypted: await list(ENCRYPTED_HISTORY_DIR, MONTH_ENC) }
}

export interface HistoryEvent { event: AissEvent, hash: string, file: string, index: number }

const unreadable = (file: string, why: string, cause?: unknown): PcpError =>
  new PcpError(ErrorCodes.HISTORY_UNREADABLE, `reference history ${file} cannot be read: ${why}; the chain is not continued without it`, { file, ...(cause ? { cause } : {}) })

function aesGcmOpen (key: Uint8Array, blob: Uint8Array): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE))
  d.setAuthTag(blob.subarray(blob.length - TAG))
  return Buffer.concat([d.update(blob.subarray(NONCE, blob.length - TAG)), d.final()])
}

/** The master key: salt(32) ‖ nonce(12) ‖ AES-GCM(PBKDF2(passphrase), key) ‖ tag(16). Raw UTF-8 passphrase, as the reference. */
export async function openMasterKey (file: string, passphrase: string): Promise<Buffer> {
  let blob: Buffer
  try { blob = await readFile(file) } catch (err) { throw unreadable(file, `the master key is missing (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err) }
  if (blob.length < SALT + NONCE + TAG) throw unreadable(file, `the master key file is ${blob.length} bytes, too short`)
  const kek = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), blob.subarray(0, SALT), PBKDF2_ITERATIONS, 32, 'sha256')
  let key: Buffer
  try { key = aesGcmOpen(kek, blob.subarray(SALT)) } catch (err) {
    throw new PcpError(ErrorCodes.HISTORY_PASSPHRASE_WRONG, `${file}: wrong memory passphrase (the master key does not decrypt)`, { file, cause: err })
  } finally { kek.fill(0) }
  if (key.length !== 32) throw unreadable(file, `the master key is ${key.length} bytes, not 32`)
  return key
}

/** Where the master key of an agent's encrypted history is: the home's keys/ (the reference's), else the agent's own. */
export async function masterKeyFile (home: string, dir: string): Promise<string> {
  for (const f of [join(home, MASTER_KEY_FILE), join(dir, MASTER_KEY_FILE)]) if (await exists(f)) return f
  return join(home, MASTER_KEY_FILE)
}

function parseMonth (text: string, file: string): HistoryEvent[] {
  let doc: unknown
  try { doc = parseJson(text, file) } catch (err) { throw unreadable(file, (err as Error).message, err) }
  if (!Array.isArray(doc)) throw unreadable(file, 'it is not a JSON array of events')
  return doc.map((event, index) => {
    let hash: string
    try { hash = eventHash(event as AissEvent) } catch (err) {
      throw new PcpError(ErrorCodes.HISTORY_INVALID, `reference history ${file}, event ${index}: not an event (${(err as Error).message})`, { file, index, cause: err })
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      throw new PcpError(ErrorCodes.HISTORY_INVALID, `reference history ${file}, event ${index}: not a JSON object`, { file, index })
    }
    return { event: event as AissEvent, hash, file, index }
  })
}

/**
 * Reads every month file. Encrypted files need `passphrase` (HISTORY_LOCKED without it): importing only
 * the plaintext part of a Pro history would itself fork the chain.
 */
export async function readReferenceHistory (home: string, dir: string, files: HistoryFiles, passphrase: string | undefined): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = []
  for (const file of files.plain) {
    let text: string
    try { text = await readFile(file, 'utf8') } catch (err) { throw unreadable(file, String((err as NodeJS.ErrnoException).code ?? err), err) }
    out.push(...parseMonth(text, file))
  }
  if (files.encrypted.length === 0) return out
  if (passphrase === undefined) {
    throw new PcpError(ErrorCodes.HISTORY_LOCKED,
      `${files.encrypted.length} month file(s) of reference history in ${join(dir, ENCRYPTED_HISTORY_DIR)} are encrypted: give the memory passphrase (memoryPassphrase, PCP_MEMORY_PASSPHRASE) to import them; the chain is not continued without them`,
      { file: files.encrypted[0] })
  }
  const key = await openMasterKey(await masterKeyFile(home, dir), passphrase)
  try {
    for (const file of files.encrypted) {
      let blob: Buffer
      try { blob = await readFile(file) } catch (err) { throw unreadable(file, String((err as NodeJS.ErrnoException).code ?? err), err) }
      if (blob.length < NONCE + TAG) throw unreadable(file, `${blob.length} bytes is too short for nonce and tag`)
      let text: string
      try { text = aesGcmOpen(key, blob).toString('utf8') } catch (err) { throw unreadable(file, 'it does not decrypt with the master key (damaged, or from another installation)', err) }
      out.push(...parseMonth(text, file))
    }
  } finally { key.fill(0) }
  return out
}

const invalid = (e: HistoryEvent, why: string, extra: Record<string, unknown> = {}): PcpError =>
  new PcpError(ErrorCodes.HISTORY_INVALID, `reference history ${e.file}, event ${e.index}: ${why}; the chain is not continued`, { file: e.file, index: e.index, ...extra })

/**
 * One chain from the month files: the same event in the plaintext and the encrypted store counts once
 * (a Pro agent that wrote while locked has both), events are ordered by their links (timestamps tie
 * within a second), and the whole chain is verified from `identity`. Every event must be on the chain.
 */
export function orderHistory (entries: HistoryEvent[], identity: { agentId: string, publicKey: Uint8Array }): Array<HistoryEvent & { signer: { agentId: string, publicKey: Uint8Array } }> {
  const byHash = new Map<string, HistoryEvent>()
  for (const e of entries) {
    const seen = byHash.get(e.hash)
    if (seen && seen.event.signature !== e.event.signature) throw invalid(e, `the same event as ${seen.file} #${seen.index} with a different signature`)
    if (!seen) byHash.set(e.hash, e)
  }
  const next = new Map<unknown, HistoryEvent[]>()
  const starts: HistoryEvent[] = []
  for (const e of byHash.values()) {
    const prev = e.event.previous_hash
    if (typeof prev === 'string' && byHash.has(prev)) {
      const list = next.get(prev)
      if (list) list.push(e); else next.set(prev, [e])
    } else starts.push(e)
  }
  // Walk from the earliest start, verifying as we go: an edited event then fails its own signature
  // here, before the event after it shows up as a second, unlinked start.
  const first = starts.reduce((x, y) => (timestampSeconds(y.event.timestamp) ?? Infinity) < (timestampSeconds(x.event.timestamp) ?? Infinity) ? y : x, starts[0]!)
  if (!first) throw invalid(entries[0]!, 'no event starts the chain')
  const verifier = new ChainVerifier(identity)
  const ordered: Array<HistoryEvent & { signer: { agentId: string, publicKey: Uint8Array } }> = []
  const visited = new Set<HistoryEvent>()
  for (let e: HistoryEvent | undefined = first; e; ) {
    const signer = { agentId: verifier.agentId, publicKey: verifier.publicKey }
    const problem = verifier.push(e.event).problems[0]
    if (problem) throw invalid(e, `${problem.code}: ${problem.message.replace(/^event \d+: /, '')}`, { problem: problem.code })
    ordered.push({ ...e, signer }); visited.add(e)
    const succ: HistoryEvent[] = next.get(e.hash) ?? []
    if (succ.length > 1) throw invalid(succ[1]!, `a fork: it claims the same predecessor as ${succ[0]!.file} #${succ[0]!.index}`, { problem: ErrorCodes.FORK_DETECTED })
    e = succ[0]
  }
  const stray = entries.find((e) => byHash.get(e.hash) === e && !visited.has(e))
  if (stray) throw invalid(stray, `not on the chain that starts at ${first.file} #${first.index} (its previous_hash names no event before it)`)
  return ordered
}

export type MemoryPassphrase = string | (() => Promise<string | undefined>) | undefined

/**
 * Run at every open, before the first stamp: imports the reference history into an empty store (one
 * atomic batch, with the IMPORT_META record) so the next stamp links to its last event. Cheap once
 * imported (one readdir and one key). Returns the number of events imported.
 */
export async function continueReferenceHistory (store: EventStore, home: string, dir: string, identity: { agentId: string, publicKey: Uint8Array }, passphrase: MemoryPassphrase): Promise<number> {
  const files = await referenceHistoryFiles(dir)
  const all = [...files.plain, ...files.encrypted]
  if (all.length === 0) return 0
  if (store.head) {
    if (await store.getMeta(IMPORT_META) !== undefined) return 0
    throw new PcpError(ErrorCodes.HISTORY_CONFLICT,
      `agent "${store.name}": its store holds a chain of ${store.head.seq + 1} events that did not continue the reference history beside it (${all.length} month file(s) in ${join(dir, 'events')}): ` +
      'it was started by a version that ignored that history. Move events/ aside to keep this chain, or store/ aside to import the history',
      { agent: store.name, file: all[0] })
  }
  const pw = typeof passphrase === 'function' ? (files.encrypted.length ? await passphrase() : undefined) : passphrase
  const entries = await readReferenceHistory(home, dir, files, pw)
  if (entries.length === 0) return 0
  const ordered = orderHistory(entries, identity)
  const items: AppendItem[] = []
  for (const e of ordered) items.push({ event: e.event, hash: e.hash, agentIndex: await store.addIdentity(e.signer) })
  const last = ordered.at(-1)!
  await store.append(items, { meta: { [IMPORT_META]: { files: all.map((f) => relative(dir, f)), events: items.length, head: last.hash } } })
  return items.length
}
