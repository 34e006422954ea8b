// pcp vigil: read a running hub's Vigil API (status, alerts) and fetch an agent's audit export.
// The token comes from $VIGIL_TOKEN or --token-file, never from argv (visible in `ps` and shell history).
import { createWriteStream } from 'node:fs'
import { readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Command, InvalidArgumentError } from 'commander'
import { PcpError } from '../runtime/index.js'
import { runningHubApi } from './hub-ports.js'
import { SEVERITY_RANK } from '../hub/vigil/alerts.js'
import { action, printJson } from './common.js'

export const VIGIL_CLI_ERRORS = { HUB_UNREACHABLE: 'HUB_UNREACHABLE', HUB_UNAUTHORIZED: 'HUB_UNAUTHORIZED', HUB_ERROR: 'HUB_ERROR' } as const

interface HubOpts { url?: string, tokenFile?: string, json?: boolean }

const SEVERITIES = Object.keys(SEVERITY_RANK)

async function token (opts: HubOpts): Promise<string | undefined> {
  if (opts.tokenFile) return (await readFile(opts.tokenFile, 'utf8')).trim()
  return process.env.VIGIL_TOKEN || undefined
}

function baseUrl (opts: HubOpts): URL {
  const text = opts.url ?? process.env.VIGIL_URL ?? runningHubApi('vigil') ?? 'http://127.0.0.1:8421'
  let url: URL
  try { url = new URL(text) } catch { throw new PcpError('HUB_URL_INVALID', `--url ${JSON.stringify(text)} is not a URL`, { field: 'url' }) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PcpError('HUB_URL_INVALID', `--url must be http(s), got ${url.protocol}`, { field: 'url' })
  return url
}

/** GET a hub path; a refused connection, a 401 or an error body become one-line PcpErrors. */
async function hubGet (opts: HubOpts, path: string): Promise<Response> {
  const url = new URL(path, baseUrl(opts))
  const t = await token(opts)
  let res: Response
  try {
    res = await fetch(url, { headers: { Accept: 'application/json', ...(t ? { Authorization: `Bearer ${t}` } : {}) } })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new PcpError(VIGIL_CLI_ERRORS.HUB_UNREACHABLE, `cannot reach the hub at ${url.origin} (${cause}); start it or pass --url`, { cause: err })
  }
  if (res.status === 401) throw new PcpError(VIGIL_CLI_ERRORS.HUB_UNAUTHORIZED, `the hub at ${url.origin} refused the token: set VIGIL_TOKEN or --token-file`)
  if (!res.ok) {
    const body = await res.json().catch(() => ({})) as { error?: string, message?: string }
    throw new PcpError(body.error ?? VIGIL_CLI_ERRORS.HUB_ERROR, `hub: ${body.message ?? `HTTP ${res.status}`}`)
  }
  return res
}

const fmt = (n: unknown, d: number): string => typeof n === 'number' ? n.toFixed(d) : '-'
const time = (t: unknown): string => typeof t === 'number' ? new Date(t * 1000).toISOString().slice(0, 19) + 'Z' : '-'

function table (rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n'
}

function hubOptions (cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the hub\'s Vigil API (default: $VIGIL_URL, else the running hub\'s port from <home>/hub/status.json, else http://127.0.0.1:8421)')
    .option('--token-file <file>', 'read the API token from this file (default: $VIGIL_TOKEN)')
}

export function registerVigilCommands (program: Command): void {
  const vigil = program.command('vigil').description('query a running hub\'s Vigil monitor (risk scores, alerts, audit exports)')

  hubOptions(vigil.command('status'))
    .description('installation state and every agent\'s VRS, chain and verification state')
    .option('--json', 'print the hub\'s summary as JSON')
    .action(action(async (opts: HubOpts) => {
      const s = await (await hubGet(opts, '/api/summary')).json() as SummaryJson
      if (opts.json) { printJson(s); return }
      process.stdout.write(`installation ${s.installationState}  global VRS ${fmt(s.globalVrs, 4)}  agents ${s.totals.agents}  events ${s.totals.events}  open alerts ${s.totals.openAlerts}\n`)
      if (s.agents.length === 0) { process.stdout.write('no agents registered\n'); return }
      const rows = [['AGENT', 'AGENT_ID', 'STATE', 'VRS', 'TRUST', 'TSI', 'CHAIN', 'VERIFICATION', 'EVENTS', 'ALERTS', 'LAST SEEN']]
      for (const a of s.agents) {
        rows.push([a.name, a.agentId, a.state ?? 'unscored', fmt(a.vrs, 4), fmt(a.trustScore, 2), a.tsiState ?? '-', a.chainLabel ?? '-',
          a.chain?.verification ?? '-', String(a.chain?.eventCount ?? '-'), String(a.openAlerts ?? 0), time(a.chain?.lastSeen ?? a.lastEventAt)])
      }
      process.stdout.write(table(rows))
    }))

  hubOptions(vigil.command('alerts'))
    .description('alerts across all agents (or one), newest first')
    .option('--agent <ref>', 'only this agent (agent_id or registered name)')
    .option('--severity <level>', `at least this severe: ${SEVERITIES.join(', ')}`, (v: string) => {
      const up = v.toUpperCase()
      if (!SEVERITIES.includes(up)) throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`)
      return up
    })
    .option('--open', 'only unacknowledged alerts')
    .option('--limit <n>', 'at most n alerts (1-1000, default 100)', (v: string) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000')
      return n
    })
    .option('--json', 'print the alerts as JSON')
    .action(action(async (opts: HubOpts & { agent?: string, severity?: string, open?: boolean, limit?: number }) => {
      const q = new URLSearchParams()
      if (opts.agent) q.set('agent', opts.agent)
      if (opts.severity) q.set('severity', opts.severity)
      if (opts.open) q.set('open', 'true')
      q.set('limit', String(opts.limit ?? 100))
      const body = await (await hubGet(opts, `/api/alerts?${q}`)).json() as { alerts: AlertJson[], count: number }
      if (opts.json) { printJson(body); return }
      if (body.alerts.length === 0) { process.stdout.write('no alerts\n'); return }
      const rows = [['ID', 'TIME', 'AGENT_ID', 'SEVERITY', 'TYPE', 'ACK', 'MESSAGE']]
      for (const a of body.alerts) rows.push([a.id, time(a.at), a.agentId, a.severity, a.type, a.acknowledged ? a.acknowledged.by : '-', a.message])
      process.stdout.write(table(rows))
    }))

  hubOptions(vigil.command('export <agent>'))
    .description('download an agent\'s audit export (AISS-1.0-AUDIT) from the hub; check it with `pcp verify <file>`')
    .option('-o, --output <file>', 'where to write it (default: <agent_id>.audit.json)')
    .option('--json', 'print what was written as JSON')
    .action(action(async (ref: string, opts: HubOpts & { output?: string }) => {
      const res = await hubGet(opts, `/api/agent/${encodeURIComponent(ref)}/export`)
      const name = /filename="([1-9A-HJ-NP-Za-km-z]{32})\.audit\.json"/.exec(res.headers.get('content-disposition') ?? '')?.[1]
      const out = opts.output ?? `${name ?? 'agent'}.audit.json`
      // Written aside and renamed: an interrupted download never leaves a truncated export behind.
      const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`)
      let bytes = 0
      try {
        const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)
        body.on('data', (c: Buffer) => { bytes += c.length })
        await pipeline(body, createWriteStream(tmp, { mode: 0o644 }))
        await rename(tmp, out)
      } catch (err) {
        await unlink(tmp).catch(() => {})
        throw err
      }
      if (opts.json) printJson({ path: out, bytes, agent_id: name ?? null })
      else process.stdout.write(`wrote ${out} (${bytes} bytes); verify it with: pcp verify ${out}\n`)
    }))
}

interface AlertJson { id: string, at: number, agentId: string, severity: string, type: string, message: string, acknowledged: { by: string } | null }
interface SummaryJson {
  installationState: string
  globalVrs: number
  totals: { agents: number, events: number, openAlerts: number }
  agents: Array<{ name: string, agentId: string, state?: string, vrs: number | null, trustScore?: number, tsiState?: string, chainLabel?: string,
    openAlerts?: number, lastEventAt?: number | null, chain: { verification: string, eventCount: number, lastSeen: number | null } | null }>
}
