// `pcp trustgate …`: talks to the hub's TrustGate HTTP API. The API token comes from TRUSTGATE_TOKEN; the
// principal token (needed to approve, reject, activate policies: gaps.md #44) from
// TRUSTGATE_PRINCIPAL_TOKEN or --principal-token-file. Only `principal add` works locally, on the hub's
// state directory: it is how the first (admin) principal comes to exist.
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../runtime/fsutil.js'
import { join } from 'node:path'
import { PcpError, pcpHome, parseJson, stringifyJson } from '../runtime/index.js'
import { runningHubApi } from './hub-ports.js'
import { PRINCIPAL_NAME, PrincipalStore } from '../hub/trustgate/principal-store.js'
import { CLEARANCES, type Clearance } from '../hub/trustgate/principals.js'
import { action, printJson } from './common.js'

export const DEFAULT_TRUSTGATE_URL = 'http://127.0.0.1:8422'

interface Common { url?: string, json?: boolean, principalTokenFile?: string, /** the file a submitted policy came from, named in its problems */ source?: string }

/** The hub's TrustGate state directory under a PCP home (where `pcp hub start` keeps it). */
export function trustGateStateDir (home?: string): string { return join(pcpHome(home), 'hub', 'trustgate') }

async function principalToken (o: Common): Promise<string | undefined> {
  if (o.principalTokenFile !== undefined) {
    try { return (await readFile(o.principalTokenFile, 'utf8')).trim() } catch (err) {
      throw new PcpError('PRINCIPAL_AUTH_REQUIRED', `cannot read ${o.principalTokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: o.principalTokenFile })
    }
  }
  return process.env.TRUSTGATE_PRINCIPAL_TOKEN || undefined
}

/** One API call; any non-2xx answer becomes a PcpError carrying the API's code and message. */
async function api (o: Common, method: string, path: string, body?: unknown, asPrincipal = false): Promise<any> {
  const base = (o.url ?? process.env.TRUSTGATE_URL ?? runningHubApi('trustgate') ?? DEFAULT_TRUSTGATE_URL).replace(/\/+$/, '')
  const headers: Record<string, string> = {}
  if (process.env.TRUSTGATE_TOKEN) headers.authorization = `Bearer ${process.env.TRUSTGATE_TOKEN}`
  if (asPrincipal) {
    const t = await principalToken(o)
    if (t === undefined) throw new PcpError('PRINCIPAL_AUTH_REQUIRED', 'this command acts as a principal: set TRUSTGATE_PRINCIPAL_TOKEN or pass --principal-token-file')
    headers['x-trustgate-principal'] = t
  }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(30_000) })
  } catch (err) {
    const c = (err as { cause?: { code?: string, message?: string, errors?: Array<{ code?: string }> } }).cause
    const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (err as Error).message
    throw new PcpError('HUB_UNREACHABLE', `cannot reach TrustGate at ${base} (${cause})`, { field: 'url', actual: base })
  }
  const text = await res.text()
  let data: any = text
  if (res.headers.get('content-type')?.includes('json')) { try { data = parseJson(text) } catch {} }
  if (!res.ok) {
    const code = typeof data?.code === 'string' ? data.code : `HTTP_${res.status}`
    const msg = typeof data?.message === 'string' ? data.message.split('\n')[0] : `HTTP ${res.status}`
    // The CLI prints one line: a policy's problems (path, line) go on it, or the user learns only their count.
    const problems = Array.isArray(data?.problems)
      ? (data.problems as Array<{ path?: string, line?: number, column?: number, message?: string }>).map((p) =>
          `${o.source ?? 'policy'}${p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : ''} ${p.path ?? ''}: ${p.message ?? ''}`.trim()).join('; ')
      : ''
    throw new PcpError(code, `${method} ${path}: ${msg}${problems ? `: ${problems}` : ''}`, { actual: res.status })
  }
  return data
}

function withCommon (cmd: Command, principal = false): Command {
  cmd.option('--url <url>', `TrustGate API base URL (default $TRUSTGATE_URL, else the running hub's port from <home>/hub/status.json, else ${DEFAULT_TRUSTGATE_URL}); API token from $TRUSTGATE_TOKEN`)
    .option('--json', 'print the API\'s JSON answer')
  if (principal) cmd.option('--principal-token-file <file>', 'file holding your principal token (default $TRUSTGATE_PRINCIPAL_TOKEN)')
  return cmd
}

const out = (o: Common, data: unknown, line: () => string): void => {
  if (o.json) printJson(data)
  else process.stdout.write(line() + '\n')
}

export function registerTrustgateCommands (program: Command): void {
  const tg = program.command('trustgate').description('TrustGate: policies, pending human approvals, the signed decision journal')

  withCommon(tg.command('status').description('the service\'s status and active policy'))
    .action(action(async (o: Common) => {
      const s = await api(o, 'GET', '/api/status')
      out(o, s, () => `policy ${s.policy ?? '(none)'}  pending ${s.pending_decisions}  principals ${s.principals}`)
    }))

  withCommon(tg.command('activate-policy <file>').description('store FILE as a new policy version and activate it (needs an admin principal)'), true)
    .option('--comment <text>', 'why (recorded in the activation log and the journal)')
    .action(action(async (file: string, o: Common & { comment?: string }) => {
      let yaml: string
      try { yaml = await readFile(file, 'utf8') } catch (err) {
        throw new PcpError('POLICY_LOAD_FAILED', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file })
      }
      const r = await api({ ...o, source: file }, 'POST', '/api/policy', { yaml, ...(o.comment !== undefined ? { comment: o.comment } : {}) }, true)
      out(o, r, () => `activated ${r.version_id}  version ${r.version}${r.created ? '' : ' (already stored)'}`)
    }))

  withCommon(tg.command('pending').description('decisions waiting for a human'))
    .option('--agent <id>', 'only this agent')
    .action(action(async (o: Common & { agent?: string }) => {
      const r = await api(o, 'GET', '/api/decisions' + (o.agent ? `?agent_id=${encodeURIComponent(o.agent)}` : ''))
      out(o, r, () => r.total === 0
        ? 'no pending decisions'
        : r.decisions.map((d: any) => `${d.decision_id}  ${d.agent_name}  ${d.action}  vrs ${d.vrs}  needs ${d.required_clearance}  expires ${new Date(d.expires_at * 1000).toISOString()}\n    ${d.reason}`).join('\n'))
    }))

  withCommon(tg.command('approve <id>').description('approve a pending decision as yourself (your principal token)'), true)
    .option('--justification <text>', 'why (required by some policies)')
    .action(action(async (id: string, o: Common & { justification?: string }) => {
      const r = await api(o, 'POST', `/api/decisions/${encodeURIComponent(id)}/approve`, { justification: o.justification ?? '' }, true)
      out(o, r, () => `${r.decision_id} ${r.state} by ${r.resolution?.principal_id}`)
    }))

  withCommon(tg.command('reject <id>').description('reject a pending decision as yourself'), true)
    .requiredOption('--reason <text>', 'why')
    .action(action(async (id: string, o: Common & { reason: string }) => {
      const r = await api(o, 'POST', `/api/decisions/${encodeURIComponent(id)}/reject`, { reason: o.reason }, true)
      out(o, r, () => `${r.decision_id} ${r.state} by ${r.resolution?.principal_id}`)
    }))

  withCommon(tg.command('audit').description('the journal (the hub\'s signed chain), newest first; --export writes it as an audit export for `pcp verify`'))
    .option('--agent <id>', 'only entries about this agent')
    .option('--outcome <outcome>', 'only this outcome (BLOCK, REQUIRE_HUMAN, …)')
    .option('--limit <n>', 'at most n entries', '50')
    .option('--export <file>', 'write the whole journal chain as an AISS audit export')
    .action(action(async (o: Common & { agent?: string, outcome?: string, limit: string, export?: string }) => {
      if (o.export !== undefined) {
        const doc = await api(o, 'GET', '/api/audit/export')
        await writeFileAtomic(o.export, stringifyJson(doc, 2) + '\n', 0o644) // whole or not at all: FILE_WRITE_FAILED
        out(o, { file: o.export, event_count: doc.events.length }, () => `wrote ${doc.events.length} events to ${o.export}; check it with: pcp verify ${o.export}`)
        return
      }
      if (!/^[0-9]{1,6}$/.test(o.limit)) throw new PcpError('REQUEST_INVALID', `--limit expects a whole number, got ${o.limit}`, { field: 'limit' })
      const q = new URLSearchParams({ limit: o.limit, ...(o.agent ? { agent_id: o.agent } : {}), ...(o.outcome ? { outcome: o.outcome } : {}) })
      const r = await api(o, 'GET', `/api/audit?${q}`)
      out(o, r, () => [`${r.total} entries, chain ${r.chain_valid === true ? 'valid' : r.chain_valid === false ? 'INVALID' : 'not checked'}`,
        ...r.entries.map((e: any) => {
          const d = e.payload.decision
          return `#${e.seq} ${new Date(e.timestamp * 1000).toISOString()} ${e.type}${d ? ` ${d.agent_id} ${d.action} → ${d.outcome}` : ''}${e.payload.decision_id ? ` ${e.payload.decision_id}` : ''}${e.payload.final_outcome ? ` → ${e.payload.final_outcome}` : ''}`
        })].join('\n'))
    }))

  withCommon(tg.command('simulate').description('what the active (or a given) policy would decide; records nothing'))
    .requiredOption('--agent <id>', 'agent id')
    .requiredOption('--action <name>', 'action / tool name')
    .option('--role <role>', 'role', 'operator')
    .option('--payload <json>', 'payload as a JSON object', '{}')
    .option('--vrs <x>', 'VRS in [0, 1] (default: Vigil\'s latest, else 0)')
    .option('--tsi <state>', 'TSI state (default: Vigil\'s latest, else STABLE)')
    .option('--policy <file>', 'simulate against this policy file instead of the active one')
    .action(action(async (o: Common & { agent: string, action: string, role: string, payload: string, vrs?: string, tsi?: string, policy?: string }) => {
      let payload: unknown
      try { payload = JSON.parse(o.payload) } catch { throw new PcpError('REQUEST_INVALID', '--payload is not JSON', { field: 'payload' }) }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new PcpError('REQUEST_INVALID', '--payload must be a JSON object', { field: 'payload' })
      const vrs = o.vrs === undefined ? undefined : Number(o.vrs)
      if (vrs !== undefined && !(vrs >= 0 && vrs <= 1)) throw new PcpError('REQUEST_INVALID', `--vrs expects a number in [0, 1], got ${o.vrs}`, { field: 'vrs' })
      const yaml = o.policy === undefined ? undefined : await readFile(o.policy, 'utf8').catch((err) => { throw new PcpError('POLICY_LOAD_FAILED', `${o.policy}: cannot read (${err.code})`, { file: o.policy }) })
      const r = await api(o, 'POST', '/api/policy/simulate', {
        agent_id: o.agent, action: o.action, role: o.role, payload, ...(vrs !== undefined ? { vrs } : {}), ...(o.tsi ? { tsi_state: o.tsi } : {}), ...(yaml ? { yaml } : {})
      })
      out(o, r, () => `${r.decision.outcome}  (${r.decision.rule})  ${r.decision.reason}`)
    }))

  const principal = tg.command('principal').description('the humans who answer REQUIRE_HUMAN decisions')
  principal.command('add <name>')
    .description('create a principal in the hub\'s local state directory and print their token ONCE (run on the hub; bootstraps the first admin)')
    .requiredOption('--clearance <level>', `one of ${CLEARANCES.join(', ')} (L3 may also administer TrustGate)`)
    .option('--state-dir <dir>', 'TrustGate state directory (default $PCP_HOME/hub/trustgate)')
    .option('--json', 'print {id, name, clearance, token}')
    .action(action(async (name: string, o: { clearance: string, stateDir?: string, json?: boolean }) => {
      if (!(CLEARANCES as readonly string[]).includes(o.clearance)) throw new PcpError('REQUEST_INVALID', `--clearance expects one of ${CLEARANCES.join(', ')}, got ${o.clearance}`, { field: 'clearance' })
      if (!PRINCIPAL_NAME.test(name)) throw new PcpError('REQUEST_INVALID', `principal name must be 1-64 of [A-Za-z0-9._@-], got ${JSON.stringify(name)}`, { field: 'name' })
      const store = PrincipalStore.open(o.stateDir ?? trustGateStateDir(program.opts().home))
      const { principal: p, token } = store.create({ name, clearance: o.clearance as Clearance, createdBy: 'local-cli', now: Math.floor(Date.now() / 1000) })
      out(o, { ...p, token }, () => `created ${p.id} (${p.name}, ${p.clearance})\ntoken (shown once; store it safely): ${token}`)
    }))

  withCommon(principal.command('list').description('principals known to the hub'))
    .action(action(async (o: Common) => {
      const r = await api(o, 'GET', '/api/principals')
      out(o, r, () => r.principals.map((p: any) => `${p.id}  ${p.name.padEnd(20)} ${p.clearance}  ${p.active ? 'active' : 'inactive'}`).join('\n') || 'no principals')
    }))
}
