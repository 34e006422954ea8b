// pcp sync status | run
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseJson, type IdentityDocument, PcpError, pcpHome, agentDir, listAgentNames, openAgentStore, firstIdentityDocument, loadAgentIdentity, statementSigner, type Identity, type StatementSigner } from '../runtime/index.js'
import { SyncAgent, type SyncSource, type SyncStatus } from '../sync/agent.js'
import { pinnedHubKey } from '../sync/gate.js'
import type { MqttConnectOptions } from '../sync/connect.js'
import { pidAlive } from '../hub/control.js'
import { action, printJson, EXIT } from './common.js'
import { ANCHOR_STATUS_FILE, type AnchorStatus } from '../runtime/anchor/anchorer.js'
import { loggerFromOptions } from './log.js'

/** --username, --password-env and --ca/--cert/--key (files read here) as client options for a broker. */
export async function brokerOptions (o: Record<string, unknown>): Promise<Pick<MqttConnectOptions, 'username' | 'password' | 'tls'>> {
  const read = (opt: string, file: unknown): Promise<Buffer> => readFile(String(file)).catch((err: NodeJS.ErrnoException) => {
    throw new PcpError('ARGUMENT_INVALID', `--${opt} ${String(file)}: cannot read (${err.code ?? err.message})`, { field: opt, file: String(file) })
  })
  const tls = o.ca || o.cert || o.key
    ? { ...(o.ca ? { ca: await read('ca', o.ca) } : {}), ...(o.cert ? { cert: await read('cert', o.cert) } : {}), ...(o.key ? { key: await read('key', o.key) } : {}) }
    : undefined
  const password = o.passwordEnv ? process.env[String(o.passwordEnv)] : undefined
  return { ...(o.username ? { username: String(o.username) } : {}), ...(password !== undefined ? { password } : {}), ...(tls ? { tls } : {}) }
}

/** Each agent's trusted-time queue, as its Anchorer publishes it (runtime/anchor/anchorer.ts). */
async function anchorStatuses (home: string): Promise<Record<string, AnchorStatus>> {
  const out: Record<string, AnchorStatus> = {}
  for (const name of await listAgentNames(home).catch(() => [] as string[])) {
    try { out[name] = JSON.parse(await readFile(join(agentDir(home, name), ANCHOR_STATUS_FILE), 'utf8')) as AnchorStatus } catch { /* this agent does not anchor */ }
  }
  return out
}

function printAnchors (anchors: Record<string, AnchorStatus>): void {
  if (Object.keys(anchors).length === 0) return
  process.stdout.write('trusted time (RFC 3161 anchors):\n')
  for (const [name, a] of Object.entries(anchors)) {
    const last = a.last_anchor ? `last anchor #${a.last_anchor.index} covers #${a.last_anchor.from}..#${a.last_anchor.to} at ${a.last_anchor.gen_time}` : 'never anchored'
    const unanchored = a.head_seq - a.next_from + 1
    const pending = a.pending.length
      ? `PENDING ${a.pending.length} (since ${new Date(a.oldest_pending_at!).toISOString()}, ${a.pending[0]!.attempts} attempts${a.pending[0]!.last_error ? `, ${a.pending[0]!.last_error.code}: ${a.pending[0]!.last_error.message}` : ''})`
      : 'nothing pending'
    process.stdout.write(`  ${name.padEnd(16)} ${pending}; ${last}; ${Math.max(unanchored, 0)} events not cut yet\n`)
  }
}

function print (s: SyncStatus & { pid?: number | null }, running: boolean): void {
  process.stdout.write(`sync ${running ? `running (pid ${String(s.pid)})` : 'not running'}; broker ${s.url} ${s.connected ? 'connected' : 'not connected'}\n`)
  for (const a of s.agents) {
    const last = a.lastAckAt ? new Date(a.lastAckAt).toISOString() : 'never'
    process.stdout.write(`  ${a.name.padEnd(16)} ${a.phase.padEnd(9)} backlog ${String(a.backlog).padStart(7)}  acked #${a.ackedSeq}  last ack ${last}${a.lastError ? `  ERROR ${a.lastError.code}: ${a.lastError.message}` : ''}\n`)
  }
}

export function registerSyncCommands (program: Command): void {
  const sync = program.command('sync').description('forward agents\' chains to a hub over MQTT')
  const home = (): string => pcpHome(program.opts().home as string | undefined)

  sync.command('status')
    .description('what the sync agent of this home reports: connection, backlog and last ack per agent; and each anchoring agent\'s pending RFC 3161 anchors')
    .option('--json', 'print as JSON')
    .action(action(async (o: { json?: boolean }) => {
      let s: (SyncStatus & { pid?: number | null }) | undefined
      try { s = JSON.parse(await readFile(join(home(), 'sync', 'status.json'), 'utf8')) } catch { s = undefined }
      const anchors = await anchorStatuses(home())
      const hasAnchors = Object.keys(anchors).length > 0
      // A device that anchors but never synced still shows its pending anchors (offline first).
      if (!s && !hasAnchors) throw new PcpError('SYNC_NEVER_RAN', `no sync agent has run for ${home()} (no sync/status.json)`)
      const running = s ? pidAlive(s.pid) : false
      if (o.json) printJson({ running, ...s, ...(hasAnchors ? { anchors } : {}) })
      else { if (s) print(s, running); else process.stdout.write('sync never ran\n'); printAnchors(anchors) }
      return EXIT.OK
    }))

  sync.command('run')
    .description('forward the named agents (default: all) until interrupted, or with --until-synced until the hub holds everything')
    .requiredOption('--url <url>', 'broker URL (mqtt:// or mqtts://)')
    .option('--agent <name...>', 'agents to forward (default: every agent of the home)')
    .option('--prefix <prefix>', 'topic prefix', 'pcp/v1')
    .option('--username <name>', 'broker account (Mosquitto/EMQX, docs/brokers.md); without it the agents\' keys sign the login the hub\'s embedded broker requires')
    .option('--password-env <var>', 'environment variable holding the broker password')
    .option('--ca <file>', 'CA certificate (PEM)')
    .option('--cert <file>', 'client certificate (PEM)')
    .option('--key <file>', 'client key (PEM)')
    .option('--hub <identity>', 'pin the hub key: its identity.json (<hub data>/agents/hub/identity.json) or its base64 public key; answers the hub did not sign are ignored (needed on a broker without the ACL of docs/brokers.md)')
    .option('--rate <n>', 'most events per second per agent while draining a backlog', '5000')
    .option('--until-synced', 'exit once the hub has acknowledged everything')
    .option('--timeout <seconds>', 'with --until-synced: give up after this long', '300')
    .option('--json', 'print the final status as JSON')
    .option('--log-level <level>', 'a structured log (JSON lines, needs pino) on stderr in place of the plain warning lines: fatal, error, warn, info, debug, trace or silent')
    .option('--log-file <file>', 'append the structured log to this file instead (level: --log-level, else info)')
    .action(action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      // Plain lines for a person at the terminal unless a log is asked for: a device install has no pino.
      const logger = o.logLevel === undefined && o.logFile === undefined ? undefined : await loggerFromOptions(o)
      const names = (o.agent as string[] | undefined) ?? (await listAgentNames(home())).filter((n) => n !== 'hub')
      if (names.length === 0) throw new PcpError('ARGUMENT_INVALID', `no agents in ${home()}`)
      // The stores are opened directly: whoever stamps must not be running meanwhile. The keys are loaded
      // to sign the broker login (the hub's embedded broker requires it), unless --username names an account.
      const creds = await brokerOptions(o)
      const sources: SyncSource[] = []
      const keys: Identity[] = []
      try {
        for (const name of names) {
          let signer: StatementSigner | undefined
          if (creds.username === undefined) {
            const id = await loadAgentIdentity(home(), name)
            keys.push(id)
            signer = statementSigner(id)
          }
          const store = await openAgentStore(home(), name)
          sources.push({ name, store, firstIdentityDocument: () => firstIdentityDocument(home(), name, store), ...(signer ? { signer } : {}) })
        }
      } catch (err) {
        for (const src of sources) await src.store.close()
        for (const k of keys) k.destroy()
        throw err
      }
      const agent = await SyncAgent.start({
        url: String(o.url), agents: sources, prefix: String(o.prefix), maxEventsPerSec: Number(o.rate),
        statusFile: join(home(), 'sync', 'status.json'),
        ...creds,
        ...(o.hub !== undefined ? { hub: readHubPin(String(o.hub)) } : {}),
        ...(logger ? { logger } : {})
      })
      if (logger === undefined || o.logFile !== undefined) {
        agent.on('stopped', (e: { agent: string, message: string }) => process.stderr.write(`pcp sync: ${e.agent}: ${e.message}\n`))
        agent.on('warning', (e: { message: string }) => process.stderr.write(`pcp sync: ${e.message}\n`))
      }
      try {
        if (o.untilSynced) await agent.flush(Number(o.timeout) * 1000)
        else await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
      } finally {
        const s = agent.status()
        await agent.close()
        for (const src of sources) await src.store.close()
        for (const k of keys) k.destroy()
        if (o.json) printJson(s); else print(s, false)
      }
      return EXIT.OK
    }))
}

/** `--hub`: a file holding the hub's identity document, else the base64 of its public key. */
function readHubPin (value: string): IdentityDocument | string {
  let pin: IdentityDocument | string = value
  if (existsSync(value)) {
    try { pin = parseJson(readFileSync(value, 'utf8'), value) as unknown as IdentityDocument } catch (err) { throw new PcpError('ARGUMENT_INVALID', `--hub ${value}: ${(err as Error).message}`, { file: value }) }
  }
  try { pinnedHubKey(pin) } catch (err) { throw new PcpError('ARGUMENT_INVALID', `--hub ${value}: ${(err as Error).message}`, { field: 'hub' }) }
  return pin
}
