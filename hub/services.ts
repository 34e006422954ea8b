// The whole hub as `pcp hub start` runs it: ingest (hub.ts) plus TrustGate (policy service, MQTT gate,
// HTTP API) and Vigil's HTTP API and dashboard, wired together: Vigil's VRS changes feed TrustGate's
// decisions, alerts feed /metrics, and gate requests share each agent's `up` topic with its events.
import { join } from 'node:path'
import { Hub, loadVigil, type HubOptions } from './hub.js'
import { MetricsRegistry, HUB_HISTOGRAMS, hubHistogram } from './metrics.js'
import { startVigilApi, VIGIL_DEFAULT_PORT } from './vigil/http.js'
import { countAlert } from './vigil/vigil-metrics.js'
import { createTrustGateService, type TrustGateService } from './trustgate/service.js'
import { createTrustGateHttp } from './trustgate/http.js'
import { createGateHandler } from './trustgate/gate-handler.js'
import { DEFAULT_DEVICE_ROLE, type GateDevices } from './trustgate/gate-auth.js'
import type { ProfileName } from './trustgate/profiles.js'
import { GATE_KINDS } from '../sync/gate-wire.js'
import { checkAuthConfig } from './http-common.js'
import { isPostgresUrl } from './store/pg.js'
import type { TrustGateState } from './trustgate/state.js'
import { PrincipalStore } from './trustgate/principal-store.js'
import { loadAgentIdentity, readIdentityDocument } from '../runtime/home.js'
import { silentLogger } from '../sync/log.js'

export interface ApiOptions { host?: string, port?: number, token?: string | undefined, localOnly?: boolean }

export interface HubServicesOptions extends Omit<HubOptions, 'vigil' | 'metrics'> {
  /** Vigil's HTTP API and dashboard (default port 8421); false: none. */
  vigilApi?: ApiOptions | false
  /** TrustGate's HTTP API (default port 8422); false: none (the MQTT gate still answers). */
  trustgateApi?: ApiOptions | false
  /** Policy activated when none is yet: a profile name or the YAML bytes. Default the nist_balanced profile. */
  initialPolicy?: Uint8Array | string | { profile: ProfileName }
}

export interface HubServices {
  hub: Hub
  trustgate: TrustGateService
  vigilUrl: string | null
  trustgateUrl: string | null
  close (): Promise<void>
}

export async function startHubServices (opts: HubServicesOptions): Promise<HubServices> {
  // Refuse an open API before anything starts listening (no token and not explicitly local-only).
  for (const [api, tokenName] of [[opts.vigilApi, 'VIGIL_TOKEN'], [opts.trustgateApi, 'TRUSTGATE_TOKEN']] as const) {
    if (api !== false) checkAuthConfig({ token: api?.token, localOnly: api?.localOnly ?? false, host: api?.host ?? '127.0.0.1', publicPaths: [], tokenName })
  }
  const metrics = new MetricsRegistry()
  const vigilLog = (opts.logger ?? silentLogger).child({ component: 'vigil' })
  const gateLog = (opts.logger ?? silentLogger).child({ component: 'trustgate' })
  let trustgate: TrustGateService | undefined
  const vigil = await loadVigil(opts.dataDir, {
    // Vigil's risk goes to TrustGate the right way round (gaps.md #56): high VRS = high risk.
    onVrsChange: (update) => { trustgate?.ingestAgentState(update) },
    onAlert: (alert) => {
      countAlert(metrics, alert)
      vigilLog[alert.severity === 'INFO' || alert.severity === 'WATCH' ? 'info' : 'warn']({ event: 'alert', agent: alert.agentId, type: alert.type, severity: alert.severity, id: alert.id }, alert.message)
    },
    // The hub's clock, when one is injected: every hub of a fleet then scores on the same time.
    ...(opts.now ? { now: opts.now } : {})
  }, opts.logger)
  const { vigilApi, trustgateApi, initialPolicy, ...hubOpts } = opts
  const hub = await Hub.start({ ...hubOpts, vigil, metrics })
  const closers: Array<() => Promise<unknown>> = [() => hub.close()]
  const close = async (): Promise<void> => { for (const c of closers.splice(0).reverse()) await c().catch(() => {}) }
  try {
    const decisionSeconds = hubHistogram(metrics, HUB_HISTOGRAMS.gateDecision)
    const races = metrics.counter('pcp_trustgate_journal_races_total', 'TrustGate journal appends that lost the race to another hub on the shared store; each was decided again on the entries it had missed.')
    const state = opts.store !== undefined && isPostgresUrl(opts.store) ? await sharedTrustGateState(opts, () => races.inc()) : undefined
    trustgate = await createTrustGateService({
      dir: join(opts.dataDir, 'trustgate'), hub: hub.agent, initialPolicy: initialPolicy ?? { profile: 'nist_balanced' },
      ...(state ? { state } : {}),
      onDecided: (d) => {
        decisionSeconds.observe({ source: d.source, outcome: d.outcome }, d.seconds)
        // Every decision is in the signed journal already; the log line is for following the hub live.
        gateLog[d.outcome === 'ALLOW' ? 'debug' : 'info']({ event: 'decision', source: d.source, outcome: d.outcome, agent: d.decision.agent_id, action: d.decision.action, rule: d.decision.rule, decision_id: d.decision.decision_id, ms: Math.round(d.seconds * 1e6) / 1e3 }, `${d.decision.action} of ${d.decision.agent_id}: ${d.outcome}`)
      },
      ...(opts.now ? { clock: () => opts.now!() * 1000 } : {})
    })
    const tg = trustgate
    closers.push(() => tg.close())
    // The expiry timer and, on a shared store, catching up with the other hubs run on their own: a failure
    // there (the database gone a moment, a journal row that does not verify) is logged and the next call
    // meets it again and fails closed; it does not end the hub.
    tg.on('error', (err: Error & { code?: string }) => gateLog.error({ event: 'trustgate_error', code: err.code ?? null, reason: err.message }, `trustgate: ${err.message}`))
    // The gate asks the registry who a device is: its state, its current key, the role set at approval.
    const devices: GateDevices = {
      device (agentId) {
        const rec = hub.store.agent(agentId)
        return rec === undefined ? undefined : { state: rec.state, publicKey: rec.keys.at(-1)?.publicKey ?? null, role: rec.role ?? DEFAULT_DEVICE_ROLE }
      }
    }
    const refused = metrics.counter('pcp_gate_refused_total', 'Gate requests refused before evaluation (unknown, pending or revoked agent; unsigned, forged, stale or replayed request), per reason. Never journalled.', ['reason'])
    const gate = createGateHandler(tg, { devices, signer: hub.agent, ...(hubOpts.prefix ? { prefix: hubOpts.prefix } : {}), ...(hubOpts.now ? { now: hubOpts.now } : {}), onRefused: (reason) => { refused.inc({ reason }); gateLog.debug({ event: 'refused', reason }, `gate request refused before evaluation: ${reason}`) } })
    for (const kind of [GATE_KINDS.request, GATE_KINDS.wait, GATE_KINDS.policy]) hub.handle(kind, (agentId, envelope) => gate.handle(agentId, envelope))
    let vigilUrl: string | null = null
    if (vigilApi !== false) {
      const api = await startVigilApi({ vigil, chain: hub.chain, metrics, ...(opts.logger ? { logger: opts.logger } : {}), port: vigilApi?.port ?? VIGIL_DEFAULT_PORT, host: vigilApi?.host ?? '127.0.0.1', token: vigilApi?.token, localOnly: vigilApi?.localOnly ?? false })
      closers.push(() => api.close())
      vigilUrl = api.url
    }
    let trustgateUrl: string | null = null
    if (trustgateApi !== false) {
      const host = trustgateApi?.host ?? '127.0.0.1'
      const api = await createTrustGateHttp(tg, { host, port: trustgateApi?.port ?? 8422, ...(opts.logger ? { logger: opts.logger } : {}), ...(trustgateApi?.token ? { token: trustgateApi.token } : {}), localOnly: trustgateApi?.localOnly ?? false, vigilPush: false })
      closers.push(() => api.close())
      trustgateUrl = `http://${host.includes(':') ? `[${host}]` : host}:${api.port}`
    }
    hub.statusExtra = { api: { vigil: vigilUrl, trustgate: trustgateUrl } }
    return { hub, trustgate: tg, vigilUrl, trustgateUrl, close }
  } catch (err) {
    await close()
    throw err
  }
}

/**
 * On the PostgreSQL store TrustGate's versions, queue and journal are the store's (hub/trustgate/pg-state.ts),
 * signed by the hub's key, which every hub on the store must share (a device pins one hub key).
 */
async function sharedTrustGateState (opts: HubServicesOptions, onRace: () => void): Promise<TrustGateState> {
  const { PgTrustGateState } = await import('./trustgate/pg-state.js')
  const document = await readIdentityDocument(opts.dataDir, 'hub')
  const identity = await loadAgentIdentity(opts.dataDir, 'hub', opts.passphrase ? { passphrase: opts.passphrase } : {})
  // open() owns the identity from here, and destroys it when it fails.
  return await PgTrustGateState.open({ url: opts.store!, identity, document, principalsFile: PrincipalStore.open(join(opts.dataDir, 'trustgate')), onRace })
}
