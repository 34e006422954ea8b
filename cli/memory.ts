import { type Command, InvalidArgumentError } from 'commander'
import cliProgress from 'cli-progress'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  pcpHome, Agent, parseJson, Float, readIdentityDocument, stringifyJson, homeStats, searchHome, openAgentReader, firstIdentityDocument, writeAuditExport, isKeyEncrypted, PcpError,
  type AissEvent, type JsonObject
} from '../runtime/index.js'
import { action, printJson, passphrase } from './common.js'

/** Longest event type `pcp stamp` accepts: types are indexed and shown in every listing. */
export const MAX_EVENT_TYPE_LENGTH = 128
/** Largest payload `pcp stamp` signs: a sync message (1 MiB on the embedded broker) must still carry the event. */
export const MAX_PAYLOAD_JSON_BYTES = 512 * 1024

/** `--payload JSON`, `--payload @file` or `--payload -` (stdin); always a JSON object without event_type. */
async function parsePayload (arg: string | undefined): Promise<JsonObject> {
  if (arg === undefined) return {}
  let text = arg
  let source = '--payload'
  if (arg === '-') {
    source = '--payload - (stdin)'
    text = await readStdin()
  } else if (arg.startsWith('@')) {
    source = arg.slice(1)
    try { text = await readFile(source, 'utf8') } catch (err) {
      throw new PcpError('ARGUMENT_INVALID', `--payload ${arg}: cannot read ${source} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { field: 'payload', file: source })
    }
  }
  const v = parseJson(text, source)
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Float) throw new PcpError('JSON_INVALID', `--payload must be a JSON object (${source})`, { field: 'payload' })
  // The event type is the positional argument; a second one in the payload would be silently replaced.
  const size = Buffer.byteLength(stringifyJson(v))
  if (size > MAX_PAYLOAD_JSON_BYTES) throw new PcpError('ARGUMENT_INVALID', `--payload is ${size} bytes of JSON; the limit is ${MAX_PAYLOAD_JSON_BYTES} so that sync can deliver the event (${source})`, { field: 'payload', actual: size })
  if (Object.hasOwn(v, 'event_type')) throw new PcpError('ARGUMENT_INVALID', `--payload has an "event_type" key; the event type is the command's second argument (${source})`, { field: 'payload.event_type' })
  return v as JsonObject
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function checkEventType (type: string): void {
  if (type.length === 0) throw new PcpError('ARGUMENT_INVALID', 'event type is empty', { field: 'event_type' })
  if (type.length > MAX_EVENT_TYPE_LENGTH) throw new PcpError('ARGUMENT_INVALID', `event type is ${type.length} characters; the limit is ${MAX_EVENT_TYPE_LENGTH}`, { field: 'event_type', actual: type.length })
}

function int (name: string) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} expects a whole non-negative number, got ${JSON.stringify(v)}`)
    return n
  }
}

const line = (e: AissEvent): string => `${new Date(e.timestamp * 1000).toISOString()}  ${String(e.payload.event_type ?? '-').padEnd(24)} ${stringifyJson(e.payload)}`

export function registerMemoryCommands (program: Command): void {
  const home = (): string => pcpHome(program.opts().home)

  program.command('stamp <name> <event_type>')
    .description('sign one event onto an agent\'s chain (durable before it returns)')
    .option('--payload <json|@file|->', 'payload object: JSON text (\'{"temp": 21.5}\'), @file to read it from a file, - for stdin')
    .option('--create', 'create the identity if there is none (otherwise an unknown name is an error)')
    .option('--json', 'print the signed event')
    .action(action(async (name: string, type: string, opts: { payload?: string, create?: boolean, json?: boolean }) => {
      checkEventType(type)
      const payload = await parsePayload(opts.payload)
      const pw = await isKeyEncrypted(home(), name).catch(() => false) ? await passphrase() : undefined
      // A typo in the name must not start a new identity and chain; --create says it is meant.
      if (!opts.create) {
        await readIdentityDocument(home(), name).catch((err: PcpError) => {
          throw err.code === 'IDENTITY_NOT_FOUND' ? new PcpError(err.code, `${err.message}: create it with \`pcp identity create ${name}\` or stamp with --create`, { agent: name, cause: err }) : err
        })
      }
      // Asked only when a copied reference directory has encrypted history still to import.
      const memoryPassphrase = async (): Promise<string | undefined> => process.env.PCP_MEMORY_PASSPHRASE ?? pw ?? await passphrase('Memory passphrase: ')
      const agent = await Agent.open({ name }, { home: home(), create: !!opts.create, memoryPassphrase, ...(pw ? { passphrase: pw } : {}) })
      try {
        const ev = await agent.stamp(type, payload)
        if (opts.json) printJson(ev)
        else process.stdout.write(`#${agent.head!.seq} ${agent.head!.hash}\n`)
      } finally { await agent.close() }
    }))

  const memory = program.command('memory').description('inspect the device store (no private key needed)')

  memory.command('stats')
    .description('events, agents, bytes on disk, sessions, rotations')
    .option('--json', 'print JSON')
    .action(action(async (opts: { json?: boolean }) => {
      const s = await homeStats(home())
      if (opts.json) { printJson(s); return }
      process.stdout.write(`agents ${s.agents}  events ${s.events}  bytes ${s.bytes}  sessions ${s.sessions}  rotations ${s.rotations}\n`)
      for (const a of s.perAgent) process.stdout.write(`  ${a.name.padEnd(24)} ${String(a.events).padStart(9)} events  ${String(a.bytes).padStart(11)} bytes\n`)
      for (const k of s.skipped) process.stdout.write(`  ${k.name.padEnd(24)} skipped: ${k.reason}\n`)
    }))

  memory.command('head <name>')
    .description('the chain head of an agent (read through its process if it is running)')
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { json?: boolean }) => {
      const store = await openAgentReader(home(), name)
      try {
        const h = store.head
        const out = { name, seq: h?.seq ?? -1, hash: h?.hash ?? null, timestamp: h?.timestamp ?? null, agent_id: store.identities.at(-1)?.agentId ?? null,
          running_pid: store.live?.pid ?? null, durability: store.live?.durability ?? null, fsynced_through: store.live?.durable ?? null }
        if (opts.json) { printJson(out); return }
        process.stdout.write(h ? `#${h.seq} ${h.hash} ${new Date(h.timestamp * 1000).toISOString()}` : 'empty chain')
        process.stdout.write(store.live ? `  (running in process ${store.live.pid}, ${store.live.durability}, fsynced through #${store.live.durable})\n` : '\n')
      } finally { await store.close() }
    }))

  memory.command('search')
    .description('search events by type, time, session or peer (through the indexes)')
    .option('--agent <name>', 'only this agent')
    .option('--type <event_type>', 'payload.event_type')
    .option('--after <ts>', 'Unix seconds, inclusive', int('--after'))
    .option('--before <ts>', 'Unix seconds, exclusive', int('--before'))
    .option('--session <id>', 'payload.session_id')
    .option('--peer <agent_id>', 'payload.peer_agent_id')
    .option('--limit <n>', 'at most n results (default 100)', int('--limit'))
    .option('--json', 'print JSON')
    .action(action(async (opts: { agent?: string, type?: string, after?: number, before?: number, session?: string, peer?: string, limit?: number, json?: boolean }) => {
      const { results, skipped } = await searchHome(home(), {
        ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.type ? { eventType: opts.type } : {}),
        ...(opts.after !== undefined ? { after: opts.after } : {}), ...(opts.before !== undefined ? { before: opts.before } : {}),
        ...(opts.session ? { sessionId: opts.session } : {}), ...(opts.peer ? { peer: opts.peer } : {}), ...(opts.limit ? { limit: opts.limit } : {})
      })
      if (opts.json) { printJson({ results, skipped }); return }
      for (const r of results) process.stdout.write(`${r.agent.padEnd(16)} #${String(r.seq).padEnd(7)} ${line(r.event)}\n`)
      for (const k of skipped) process.stderr.write(`skipped ${k.name}: ${k.reason}\n`)
    }))

  program.command('history <name>')
    .description('an agent\'s events in chain order (under its current key, or all keys with --follow-rotation)')
    .option('--follow-rotation', 'include the events signed by earlier keys, as one chronological list')
    .option('--limit <n>', 'only the last n events', int('--limit'))
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { followRotation?: boolean, limit?: number, json?: boolean }) => {
      const store = await openAgentReader(home(), name)
      try {
        const current = store.identities.at(-1)?.agentId
        let events: AissEvent[] = []
        for await (const { event } of store.events()) {
          if (opts.followRotation || event.agent_id === current) events.push(event)
          if (opts.limit && events.length > opts.limit * 2) events = events.slice(-opts.limit)
        }
        if (opts.limit) events = events.slice(-opts.limit)
        if (opts.json) printJson(events)
        else for (const e of events) process.stdout.write(line(e) + '\n')
      } finally { await store.close() }
    }))

  program.command('export <name>')
    .description('write an audit export (AISS-1.0-AUDIT) of an agent\'s whole chain')
    .requiredOption('-o, --output <file>', 'where to write it')
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { output: string, json?: boolean }) => {
      const dir = dirname(resolve(opts.output))
      if (!existsSync(dir)) throw new PcpError('ARGUMENT_INVALID', `-o ${opts.output}: directory ${dir} does not exist`, { field: 'output', file: opts.output })
      const store = await openAgentReader(home(), name)
      try {
        const total = (store.head?.seq ?? -1) + 1
        const bar = !opts.json && process.stderr.isTTY && total > 5000
          ? new cliProgress.SingleBar({ format: 'export [{bar}] {value}/{total} events', stream: process.stderr }, cliProgress.Presets.shades_classic)
          : undefined
        bar?.start(total, 0)
        const r = await writeAuditExport(store, await firstIdentityDocument(home(), name, store), opts.output, { onProgress: (n) => bar?.update(n) })
        bar?.stop()
        if (opts.json) printJson({ path: r.path, event_count: r.eventCount, chain_integrity_hash: r.chainIntegrityHash })
        else process.stdout.write(`wrote ${r.eventCount} events to ${r.path} (chain_integrity_hash ${r.chainIntegrityHash})\n`)
      } finally { await store.close() }
    }))
}
