import { type Command, InvalidArgumentError } from 'commander'
import cliProgress from 'cli-progress'
import {
  pcpHome, Agent, parseJson, stringifyJson, homeStats, searchHome, openAgentStore, firstIdentityDocument, writeAuditExport, isKeyEncrypted, PcpError,
  type AissEvent, type JsonObject
} from '../runtime/index.js'
import { action, printJson, passphrase } from './common.js'

function parsePayload (text: string | undefined): JsonObject {
  if (text === undefined) return {}
  const v = parseJson(text, '--payload')
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new PcpError('JSON_INVALID', '--payload must be a JSON object', { field: 'payload' })
  return v as JsonObject
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
    .option('--payload <json>', 'payload object, e.g. \'{"temp": 21.5}\'')
    .option('--json', 'print the signed event')
    .action(action(async (name: string, type: string, opts: { payload?: string, json?: boolean }) => {
      const payload = parsePayload(opts.payload)
      const pw = await isKeyEncrypted(home(), name).catch(() => false) ? await passphrase() : undefined
      const agent = await Agent.open({ name }, { home: home(), ...(pw ? { passphrase: pw } : {}) })
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
      const store = await openAgentStore(home(), name)
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
      const store = await openAgentStore(home(), name)
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
