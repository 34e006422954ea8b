// pcp hub start | approve | revoke | status | verify-store (cli/hub-verify-store.ts)
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { isAgentIdShape } from '../sync/topics.js'
import { join } from 'node:path'
import { PcpError, stringifyJson } from '../runtime/index.js'
import { loadHubServices } from './hub-stack.js'
import { PROFILE_NAMES, type ProfileName } from '../hub/trustgate/profiles.js'
import { LevelHubStore } from '../hub/store/level.js'
import { openHubStore } from '../hub/store/open.js'
import { Registry } from '../hub/registry.js'
import { chainStatus } from '../hub/store/view.js'
import { DEFAULT_DEVICE_ROLE } from '../hub/trustgate/gate-auth.js'
import { readStatus, sendControl } from '../hub/control.js'
import { action, printJson, hubDataDir, EXIT } from './common.js'
import { loggerFromOptions } from './log.js'
import { tsaTrustFromOptions, registerTsaTrustOptions } from './tsa-trust.js'
import { brokerOptions } from './sync.js'
import { registerVerifyStore } from './hub-verify-store.js'

interface DataOpts { data?: string, json?: boolean }

const dataDirOf = (program: Command, o: DataOpts): string => hubDataDir(program, o.data)

function port (v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new PcpError('ARGUMENT_INVALID', `port expected 0..65535, got ${JSON.stringify(v)}`)
  return n
}

function storeUrl (v: string): string {
  if (!/^postgres(ql)?:\/\//.test(v)) throw new PcpError('ARGUMENT_INVALID', `--store expected a postgres:// or postgresql:// URL, got ${JSON.stringify(v.replace(/:[^:@/]*@/, ':***@'))}`, { field: 'store' })
  return v
}

export function registerHubCommands (program: Command): void {
  const hub = program.command('hub').description('the fleet hub: MQTT ingest, verification and storage of every device\'s chain')

  const start = hub.command('start')
    .description('run the hub in the foreground (embedded MQTT broker and LevelDB store unless told otherwise)')
    .option('--data <dir>', 'data directory (default: <home>/hub)')
    .option('--host <host>', 'embedded broker listen address', '127.0.0.1')
    .option('--port <port>', 'embedded broker port', '1883')
    .option('--mqtt-url <url>', 'consume from an external broker (mqtt:// or mqtts://) instead of the embedded one')
    .option('--username <name>', 'external broker username')
    .option('--password-env <var>', 'environment variable holding the external broker password')
    .option('--ca <file>', 'CA certificate (PEM) for mqtts://')
    .option('--cert <file>', 'client certificate (PEM) for mutual TLS')
    .option('--key <file>', 'client key (PEM) for mutual TLS')
    .option('--prefix <prefix>', 'topic prefix', 'pcp/v1')
    .option('--store <url>', 'keep the chains in PostgreSQL (postgres://user@host/db; password from $PGPASSWORD or the URL) instead of LevelDB under --data')
    .option('--share-group <group>', 'MQTT shared-subscription group (several hubs on one clustered broker)')
    .option('--auto-approve', 'trust on first use without operator approval')
    .option('--workers <n>', 'verify worker threads (default: all cores)')
    .option('--api-host <host>', 'where the Vigil and TrustGate HTTP APIs listen', '127.0.0.1')
    .option('--vigil-port <port>', 'Vigil API and dashboard port (token: $VIGIL_TOKEN)', '8421')
    .option('--trustgate-port <port>', 'TrustGate API port (token: $TRUSTGATE_TOKEN)', '8422')
    .option('--local-only', 'serve the HTTP APIs without tokens (loopback host only)')
    .option('--no-api', 'no HTTP APIs (ingest and the MQTT gate only)')
  registerTsaTrustOptions(start, 'a fork at a position a held anchor made final is refused as FORK_AFTER_FINALIZATION')
  start.option('--policy <file|profile>', 'TrustGate policy to activate when none is active (a YAML file, or anssi_strict, nist_balanced, ai_act_high_risk)', 'nist_balanced')
    .option('--log-level <level>', 'structured log on stderr (JSON lines, one stream with the HTTP request log): fatal, error, warn, info, debug, trace or silent (default: $PCP_LOG_LEVEL or info)')
    .option('--log-file <file>', 'append the structured log to this file (mode 0600) instead of stderr')
    .option('--json', 'print the start-up line as one line of JSON')
    .action(action(async (o: DataOpts & Record<string, string | boolean | undefined>) => {
      const apiHost = String(o.apiHost)
      const policy = String(o.policy)
      const initialPolicy = (PROFILE_NAMES as readonly string[]).includes(policy) ? { profile: policy as ProfileName } : await readFile(policy).catch((err: NodeJS.ErrnoException) => {
        throw new PcpError('ARGUMENT_INVALID', `--policy ${policy}: not a profile (${PROFILE_NAMES.join(', ')}) and not a readable file (${err.code ?? err.message})`, { field: 'policy', file: policy })
      })
      const { startHubServices } = await loadHubServices()
      const logger = await loggerFromOptions(o)
      const trust = await tsaTrustFromOptions(o)
      const services = await startHubServices({
        dataDir: dataDirOf(program, o),
        ...(o.mqttUrl ? { mqttUrl: String(o.mqttUrl) } : { host: String(o.host), port: port(String(o.port)) }),
        mqtt: await brokerOptions(o),
        prefix: String(o.prefix),
        ...(o.shareGroup ? { shareGroup: String(o.shareGroup) } : {}),
        ...(o.store ? { store: storeUrl(String(o.store)) } : {}),
        approval: o.autoApprove ? 'auto' : 'manual',
        ...(trust ? { tsaRoots: trust.roots, tsaCrls: trust.revocation.crls, tsaOcsp: trust.revocation.ocsp, tsaFetchRevocation: trust.revocation.fetchRevocation === true } : {}),
        ...(o.workers !== undefined ? { workers: Number(o.workers) } : {}),
        logger,
        initialPolicy,
        vigilApi: o.api === false ? false : { host: apiHost, port: port(String(o.vigilPort)), token: process.env.VIGIL_TOKEN, localOnly: !!o.localOnly },
        trustgateApi: o.api === false ? false : { host: apiHost, port: port(String(o.trustgatePort)), token: process.env.TRUSTGATE_TOKEN, localOnly: !!o.localOnly }
      })
      const h = services.hub
      const info = {
        mqtt: h.mqttUrl, embedded: h.broker !== null, data: h.dataDir, hubAgentId: h.agent.agentId, approval: h.registry.approval, tsaRoots: trust?.roots.length ?? 0, tsaCrls: trust?.revocation.crls?.length ?? 0, tsaOcsp: trust?.revocation.ocsp?.length ?? 0, tsaFetch: trust?.revocation.fetchRevocation === true,
        vigil: services.vigilUrl, dashboard: services.vigilUrl ? `${services.vigilUrl}/dashboard/` : null, trustgate: services.trustgateUrl
      }
      if (o.json) process.stdout.write(stringifyJson(info) + '\n')
      else {
        process.stdout.write(`pcp hub: listening for devices on ${info.mqtt}${info.embedded ? ' (embedded broker)' : ''}, data in ${info.data}, approval ${info.approval}\n`)
        if (info.dashboard) process.stdout.write(`pcp hub: Vigil dashboard ${info.dashboard}, TrustGate API ${info.trustgate}\n`)
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => { void services.close().then(resolve) }
        process.once('SIGINT', stop); process.once('SIGTERM', stop)
      })
    }))

  for (const op of ['approve', 'revoke'] as const) {
    const cmd = hub.command(`${op} <agentId>`)
      .description(op === 'approve' ? 'allow an agent to report (it may be waiting as pending, or not have appeared yet)' : 'refuse an agent from now on (its stored chain stays)')
      .option('--data <dir>', 'data directory (default: <home>/hub)')
      .option('--store <url>', 'the hub\'s PostgreSQL store, when it runs on one and is stopped (as given to hub start)')
    if (op === 'approve') cmd.option('--name <name>', 'a name for the agent').option('--role <role>', 'the TrustGate role its gate requests are decided under (default: the one it has, else operator); the device cannot choose it')
    cmd.option('--json', 'print the agent\'s status as JSON')
      .action(action(async (agentId: string, o: DataOpts & { name?: string, role?: string, store?: string }) => {
        if (o.role !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.role)) throw new PcpError('ARGUMENT_INVALID', `--role ${JSON.stringify(o.role)}: expected 1-64 of [A-Za-z0-9._-] (a role name of the active policy)`, { field: 'role', actual: o.role })
        if (!isAgentIdShape(agentId)) throw new PcpError('ARGUMENT_INVALID', `${JSON.stringify(agentId)} is not an agent_id (32 Base58 characters, as \`pcp identity info\` or \`pcp hub status\` print it)`, { field: 'agentId', actual: agentId })
        const dataDir = dataDirOf(program, o)
        let result: unknown
        const control = async (): Promise<unknown> => {
          const res = await sendControl(dataDir, { op, agentId, ...(o.name ? { name: o.name } : {}), ...(o.role ? { role: o.role } : {}) })
          if (!res.ok) throw new PcpError(res.error!.code, res.error!.message)
          return res.result
        }
        // A running hub changes its own registry (and a hub on PostgreSQL holds no LevelDB lock to tell
        // that it runs: the status file does).
        if ((await readStatus(dataDir))?.running) result = await control()
        else try {
          // No hub running: change the registry directly.
          const store = await openHubStore(dataDir, o.store === undefined ? undefined : storeUrl(o.store))
          try {
            const reg = new Registry(store)
            const rec = op === 'approve' ? await reg.approve(agentId, { ...(o.name ? { name: o.name } : {}), ...(o.role ? { role: o.role } : {}) }) : await reg.revoke(agentId)
            result = { ...chainStatus(rec), state: rec.state, ...(op === 'approve' ? { role: rec.role ?? DEFAULT_DEVICE_ROLE } : {}) }
          } finally { await store.close() }
        } catch (err) {
          if ((err as PcpError).code !== 'STORE_LOCKED') throw err
          result = await control()
        }
        if (o.json) printJson(result)
        else process.stdout.write(`pcp hub: ${agentId} ${op === 'approve' ? 'approved' : 'revoked'}\n`)
      }))
  }

  registerVerifyStore(hub, program, storeUrl)

  hub.command('status')
    .description('the running hub (or the store, when none runs): agents, heads, counts, refusals')
    .option('--data <dir>', 'data directory (default: <home>/hub)')
    .option('--store <url>', 'the hub\'s PostgreSQL store, read when no hub runs (as given to hub start)')
    .option('--json', 'print as JSON')
    .action(action(async (o: DataOpts & { store?: string }) => {
      const dataDir = dataDirOf(program, o)
      const live = await readStatus(dataDir)
      let report: Record<string, unknown>
      if (live?.running) report = { running: true, ...live.status }
      else if (o.store !== undefined) {
        const store = await openHubStore(dataDir, storeUrl(o.store))
        try { report = { running: false, agents: store.agents().map((r) => ({ ...chainStatus(r), state: r.state })) } } finally { await store.close() }
      } else {
        // Reading never creates: a mistyped --data must not become an empty hub store.
        if (!existsSync(join(dataDir, 'store'))) throw new PcpError('HUB_DATA_NOT_FOUND', `no hub data in ${dataDir} (no store/ there, and no hub running): check --data or $PCP_HOME`, { file: dataDir })
        let store: LevelHubStore
        try { store = await LevelHubStore.open(join(dataDir, 'store')) } catch (err) {
          if ((err as PcpError).code === 'STORE_LOCKED') throw new PcpError('HUB_STATUS_UNAVAILABLE', `a hub holds ${dataDir} but wrote no status yet; try again in a second`)
          throw err
        }
        try { report = { running: false, agents: store.agents().map((r) => ({ ...chainStatus(r), state: r.state })) } } finally { await store.close() }
      }
      if (o.json) { printJson(report); return EXIT.OK }
      const agents = (report.agents ?? []) as Array<ReturnType<typeof chainStatus> & { state: string }>
      process.stdout.write(`hub ${report.running ? `running (pid ${String(report.pid)}, ${String((report.mqtt as { url?: string })?.url ?? '')})` : 'not running'}; ${agents.length} agent(s)\n`)
      const st = report.store as { failing?: boolean, code?: string, message?: string } | undefined
      if (st?.failing) process.stdout.write(`  STORE FAILING [${st.code ?? ''}] ${st.message ?? ''}: writes are refused (devices retry) until it has reopened\n`)
      for (const a of agents) {
        process.stdout.write(`  ${a.agentId}  ${a.name.padEnd(16)} ${a.state.padEnd(8)} ${String(a.eventCount).padStart(8)} events  ${a.verification}${a.rejectedCount ? ` (${a.rejectedCount} refused, last ${a.lastProblem?.code})` : ''}\n`)
      }
      return EXIT.OK
    }))
}
