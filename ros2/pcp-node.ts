// An audited node configured the ROS way. The chain must exist before the node does (the node's
// constructor already stamps node_init), so the pcp.* parameters are read from the same ROS arguments
// rclnodejs.init() reads (ros-args.ts), the agent is opened, and once the node exists attach():
//   - declares the pcp.* parameters on it, read-only, so `ros2 param get /arm pcp.name` tells what
//     chain this node writes to; rclnodejs fills them from its own overrides, and a value that differs
//     from what the agent was opened with (NodeOptions.parameterOverrides, say) is ROS2_CONFIG
//   - serves ~/pcp/head (std_srvs/srv/Trigger: `message` is the chain head as JSON; Trigger because
//     every ROS 2 install has it and `ros2 service call /arm/pcp/head std_srvs/srv/Trigger` needs
//     no custom interface package)
//   - publishes /diagnostics every pcp.diagnostics_period seconds (diagnostics.ts), on a ROS timer
//   - stamps pcp_config: what the node was configured with (never the passphrase, only its source)
// The service, publisher and timer are not audited: answering who-is-the-head must not move the head,
// and a 1 Hz health message is not an action of the robot.
import { Agent, PcpError, type AgentOpenOptions, type Durability } from '../runtime/index.js'
import { Ros2ErrorCodes, type AuditOptions } from './auditor.js'
import { pcpConfig, readPassphraseWithSource, type PassphraseSource, type PcpConfig } from './config.js'
import { overridesFor, parseRosArgs, RosArgsError, type ParamOverride } from './ros-args.js'
import { diagnosticArray, DIAGNOSTICS_TOPIC } from './diagnostics.js'
import type { AuditPolicy } from './policy.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the node and module are rclnodejs's or the stand-in's */

export const HEAD_SERVICE = '~/pcp/head'

export interface OpenPcpOptions {
  /** The node's name, as `-p <node>:pcp.name:=…` addresses it. */
  nodeName: string
  /** The arguments rclnodejs.init() was given (default process.argv, as there). */
  argv?: readonly string[]
  env?: { [k: string]: string | undefined }
  /** Used where no pcp.* parameter says otherwise. */
  defaults?: { name?: string, policies?: { [topic: string]: AuditPolicy }, timerPolicy?: AuditPolicy, durability?: Durability }
  agent?: Pick<AgentOpenOptions, 'create' | 'clock' | 'scryptN'>
}

interface AttachOptions {
  /** rclnodejs (or the stand-in's module): Parameter and ParameterDescriptor come from it. */
  rclnodejs: { Parameter: new (name: string, type: any, value?: any) => any, ParameterDescriptor: new (name: string, type?: any, description?: string, readOnly?: boolean) => any }
  /** A SyncAgent (or anything with status()), to report its backlog on /diagnostics too. */
  sync?: { status (): { agents: Array<{ name: string, backlog: number }> } }
}

const sameValue = (a: unknown, b: unknown): boolean =>
  Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => sameValue(x, b[i])) : Object.is(a, b)

export class PcpRuntime {
  readonly config: PcpConfig
  readonly agent: Agent
  readonly passphraseSource: PassphraseSource
  /** Stamp failures seen through the audit options' onError. */
  failures = 0
  lastError: string | undefined
  private reported = 0
  private timer: unknown
  private node: any
  private sync: AttachOptions['sync']

  private constructor (config: PcpConfig, agent: Agent, passphraseSource: PassphraseSource) {
    this.config = config; this.agent = agent; this.passphraseSource = passphraseSource
  }

  /** Reads the pcp.* parameters and the passphrase, and opens the agent. */
  static async open (opts: OpenPcpOptions): Promise<PcpRuntime> {
    let config: PcpConfig
    try {
      config = pcpConfig(overridesFor(parseRosArgs(opts.argv ?? process.argv), opts.nodeName), { ...opts.defaults, name: opts.defaults?.name ?? opts.nodeName })
    } catch (err) {
      if (err instanceof RosArgsError) throw new PcpError(Ros2ErrorCodes.ROS2_CONFIG, err.message, { field: err.argument, cause: err })
      throw err
    }
    const { passphrase, source } = readPassphraseWithSource({ ...(config.passphraseFile ? { file: config.passphraseFile } : {}), ...(opts.env ? { env: opts.env } : {}) })
    const agentOpts: AgentOpenOptions = {
      ...opts.agent, durability: config.durability, ...(config.syncIntervalMs !== undefined ? { syncIntervalMs: config.syncIntervalMs } : {}), ...(config.home ? { home: config.home } : {}), ...(passphrase ? { passphrase } : {})
    }
    const agent = await Agent.open(config.identityFile ? { identityFile: config.identityFile } : { name: config.name }, agentOpts)
    return new PcpRuntime(config, agent, source)
  }

  /** The node's audit options: this agent, the configured policies, and failures counted for /diagnostics. */
  auditOptions (extra: Partial<AuditOptions> = {}): AuditOptions {
    const c = this.config
    const onError = extra.onError ?? ((err: unknown, ctx: { eventType: string }) => { console.error(`pcp-edge ros2: ${ctx.eventType}: ${(err as Error)?.message ?? String(err)}`) })
    return {
      ...extra,
      stamper: this.agent,
      policies: { ...c.policies, ...extra.policies },
      ...(c.timerPolicy ? { timerPolicy: c.timerPolicy } : {}),
      latestWins: [...c.latestWins, ...(extra.latestWins ?? [])],
      onError: (err, ctx) => {
        // callback errors also come here; only failed stamps are store errors
        if (ctx.eventType !== 'callback_error') { this.failures++; this.lastError = (err as { code?: string })?.code ?? (err as Error)?.name ?? 'Error' }
        onError(err, ctx)
      }
    }
  }

  /** The chain head, as ~/pcp/head answers it. */
  head (): { agent: string, agent_id: string, seq: number | null, hash: string | null, timestamp: number | null, durable_seq: number | null, durable_hash: string | null } {
    const h = this.agent.head
    const d = this.agent.store.head
    return { agent: this.agent.name, agent_id: this.agent.agentId, seq: h?.seq ?? null, hash: h?.hash ?? null, timestamp: h?.timestamp ?? null, durable_seq: d?.seq ?? null, durable_hash: d?.hash ?? null }
  }

  /** Declares pcp.* on the node, starts ~/pcp/head and /diagnostics, stamps pcp_config. */
  attach (node: any, opts: AttachOptions): void {
    if (this.node) throw new Error('PcpRuntime.attach: already attached to a node')
    this.node = node
    this.sync = opts.sync
    this.declare(node, opts.rclnodejs)
    const unaudited = <T>(fn: () => T): T => typeof node._pcpUnaudited === 'function' ? node._pcpUnaudited(fn) : fn()
    const service = unaudited(() => node.createService('std_srvs/srv/Trigger', HEAD_SERVICE, (_req: unknown, res: { send (r: unknown): void }) => {
      const head = this.head()
      res.send({ success: head.seq !== null, message: JSON.stringify(head) })
    }))
    const period = this.config.diagnosticsPeriodS
    if (period > 0) {
      const pub = unaudited(() => node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', DIAGNOSTICS_TOPIC))
      this.timer = unaudited(() => node.createTimer(BigInt(Math.round(period * 1e9)), () => { pub.publish(this.diagnostics()) }))
    }
    const c = this.config
    node.audit?.stamp('pcp_config', {
      agent: c.name, agent_id: this.agent.agentId, durability: c.durability, passphrase_source: this.passphraseSource,
      ...(c.identityFile ? { identity_file: c.identityFile } : {}),
      policies: Object.fromEntries(Object.entries(c.policies).map(([t, p]) => [t, policyText(p)])),
      ...(c.timerPolicy ? { timer_policy: policyText(c.timerPolicy) } : {}),
      latest_wins: c.latestWins, head_service: service.serviceName ?? HEAD_SERVICE,
      diagnostics_topic: period > 0 ? DIAGNOSTICS_TOPIC : null, diagnostics_period_s: period
    })
  }

  /** The DiagnosticArray the next /diagnostics message carries. */
  diagnostics (): ReturnType<typeof diagnosticArray> {
    const node = this.node
    const audit = node?.audit
    const syncBacklog = this.sync?.status().agents.find((a) => a.name === this.agent.name)?.backlog
    const msg = diagnosticArray({
      node: node?.getFullyQualifiedName?.() ?? '', agent: this.agent.name, agentId: this.agent.agentId,
      head: this.agent.head, durable: this.agent.store.head, callbacksWaiting: audit?.callbacks.length ?? 0,
      stamped: audit?.stamped ?? 0, failures: this.failures, failuresBefore: this.reported,
      ...(this.lastError ? { lastError: this.lastError } : {}), ...(syncBacklog !== undefined ? { syncBacklog } : {}),
      rosTimeNs: node?.now?.().nanoseconds ?? BigInt(Date.now()) * 1_000_000n
    })
    this.reported = this.failures
    return msg
  }

  private declare (node: any, rcl: AttachOptions['rclnodejs']): void {
    const wanted = [...this.config.parameters.values()]
    const params = wanted.map((p) => new rcl.Parameter(p.name, p.type, p.value))
    const descriptors = wanted.map((p) => new rcl.ParameterDescriptor(p.name, p.type, 'pcp-edge: set at start (--ros-args -p), read-only', true))
    let declared: Array<{ name: string, type: number, value: unknown }>
    try { declared = node.declareParameters(params, descriptors) } catch (err) {
      throw new PcpError(Ros2ErrorCodes.ROS2_CONFIG, `cannot declare the pcp.* parameters on ${node.getFullyQualifiedName()}: ${(err as Error).message}`, { cause: err, field: 'pcp' })
    }
    for (const d of declared) {
      const w = this.config.parameters.get(d.name) as ParamOverride
      if (d.type !== w.type || !sameValue(d.value, w.value)) {
        throw new PcpError(Ros2ErrorCodes.ROS2_CONFIG,
          `parameter ${d.name} of ${node.getFullyQualifiedName()} is ${fmt(d.value)}, but the agent was opened with ${fmt(w.value)} from the ROS arguments: set pcp.* with --ros-args (or a --params-file), not NodeOptions`, { field: d.name })
      }
    }
  }

  /** Stops /diagnostics and closes the agent; close the node's audit (node.audit.close()) first. */
  async close (): Promise<void> {
    if (this.timer) { try { this.node.destroyTimer(this.timer) } catch { /* the node is gone already */ } }
    await this.agent.close()
  }
}

const fmt = (v: unknown): string => typeof v === 'bigint' ? String(v) : JSON.stringify(v)

export function policyText (p: AuditPolicy): string {
  switch (p.mode) {
    case 'every': return 'every'
    case 'nth': return `nth:${p.n}`
    case 'rate': return `rate:${p.perSecond}`
    case 'window': return `window:${p.windowMs}:${p.maxMessages}`
  }
}
