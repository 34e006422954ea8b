// Tampering, and what catches it. The robot's chain is exported (the AISS-1.0-AUDIT file an auditor
// receives), one event's payload is edited in the JSON file (which stays valid JSON), and both files go
// through exactly what `pcp verify --json` runs: parseJson (lossless) + verifyAuditExport.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { parseJson, stringifyJson, verifyAuditExport, stampEvent, eventHash, type Agent, type AissEvent } from '../../runtime/index.js'
import { loadAgentIdentity } from '../../runtime/home.js'

export interface Verdict { valid: boolean, eventCount: number, firstError: { code: string, index: number, message: string } | null, errorCount: number }

export interface TamperResult {
  exportFile: string
  tamperedFile: string
  original: Verdict
  tampered: Verdict
  /** What was edited: the event's index in the chain, its type, the field, the value before and after. */
  edit: { index: number, eventType: string, field: string, before: string, after: string }
  /** The edited event, as it now reads in the file. */
  event: AissEvent
}

/** What `pcp verify FILE --json` reports, for a file. */
export async function verifyFile (file: string): Promise<Verdict> {
  const result = verifyAuditExport(parseJson(await readFile(file, 'utf8'), file))
  if (!result.usable) throw new Error(`${file} is not an audit export: ${result.reason}`)
  const r = result.report
  const e = r.errors[0]
  return { valid: r.valid, eventCount: r.event_count, firstError: e === undefined ? null : { code: e.code, index: e.index, message: e.message }, errorCount: r.errors.length }
}

/**
 * Exports `agent`'s chain to `dir`, then writes a copy with one payload edit: the first laser-scan digest
 * claims fewer scans than the robot received (as if someone hid what the robot saw). Falls back to the
 * middle event if the chain has no such digest.
 */
export async function tamperWithExport (agent: Agent, dir: string, name: string): Promise<TamperResult> {
  const exportFile = join(dir, `${name}.audit.json`)
  const tamperedFile = join(dir, `${name}.tampered.json`)
  await agent.export(exportFile)
  const original = await verifyFile(exportFile)
  const doc = parseJson(await readFile(exportFile, 'utf8'), exportFile) as { events: AissEvent[] }
  let index = doc.events.findIndex((e) => e.payload.topic === '/scan' && typeof e.payload.count === 'number' && e.payload.count > 0)
  let field = 'count'
  if (index < 0) { index = Math.floor(doc.events.length / 2); field = 'note' }
  const event = doc.events[index]!
  const before = event.payload[field]
  const after = typeof before === 'number' ? Math.max(0, before - 3) : 'edited'
  event.payload[field] = after
  await writeFile(tamperedFile, stringifyJson(doc, 2) + '\n')
  return {
    exportFile,
    tamperedFile,
    original,
    tampered: await verifyFile(tamperedFile),
    edit: { index, eventType: String(event.payload.event_type), field, before: before === undefined ? '(none)' : String(before), after: String(after) },
    event
  }
}

/** POSTs the edited event to Vigil's record route, which verifies it against the hub's stored chain. */
export async function offerToVigil (vigilUrl: string, agentId: string, event: AissEvent): Promise<{ status: number, code: string | null, vrs: number | null, state: string | null }> {
  const res = await fetch(`${vigilUrl}/api/agent/${encodeURIComponent(agentId)}/record`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: stringifyJson(event)
  })
  const body = await res.json() as { problems?: Array<{ code: string }>, vrs?: number, state?: string }
  return { status: res.status, code: body.problems?.[0]?.code ?? null, vrs: body.vrs ?? null, state: body.state ?? null }
}

/**
 * What a copy of the robot's key can do that an edited file cannot. The hub holds the robot's key, so
 * what the copy signs IS the robot's doing, unlike the edited event. `stale`: a restored backup, run
 * beside the robot, continues from an older event of the chain (a forked history: FORK_DETECTED, which
 * Vigil makes CRITICAL); otherwise the copy's damaged store has it link to no event of the chain at all
 * (CHAIN_LINK_BROKEN: ALERT).
 */
export async function cloneSigns (home: string, name: string, agent: Agent, link: 'stale' | 'unlinked'): Promise<AissEvent> {
  const clone = await loadAgentIdentity(home, name)
  const history = await agent.history()
  const previousHash = link === 'stale' ? eventHash(history[Math.floor(history.length / 2)]!) : randomBytes(32).toString('hex')
  const ts = Math.max(Math.floor(Date.now() / 1000), history.at(-1)!.timestamp)
  const text = link === 'stale' ? 'written by a restored copy of the robot' : 'written by a copy of the robot with a damaged store'
  return stampEvent(clone, { event_type: 'note', text }, { previousHash, timestamp: ts }).event
}
