// TEST FIXTURE (a stand-in for the hub's chain store, which MQTT ingest owns): an in-memory ChainView
// holding real signed events and verifying each incoming one with the protocol core's ChainVerifier,
// the same checks the real store makes. Not for production: everything lives in memory.
import {
  ChainVerifier, identityFrom, buildAuditExport, stringifyJson, type AissEvent, type ChainProblem, type IdentityDocument
} from '../runtime/index.js'
import type { AgentChainStatus, ChainView, IngestResult } from '../hub/chain-view.js'

interface Entry {
  identity: IdentityDocument
  status: AgentChainStatus
  events: AissEvent[]
  hashes: string[]
  verifier: ChainVerifier
}

export class MemoryChainView implements ChainView {
  readonly #agents = new Map<string, Entry>()
  constructor (private readonly now: () => number) {}

  /** Registers an agent from its first identity document. */
  register (identity: IdentityDocument, name?: string): AgentChainStatus {
    const id = identityFrom(identity)
    const status: AgentChainStatus = {
      agentId: id.agentId, currentAgentId: id.agentId, name: name ?? id.agentId, headHash: null, eventCount: 0,
      lastEventAt: null, lastSeen: null, verification: 'valid', rejectedCount: 0, lastProblem: null
    }
    this.#agents.set(id.agentId, { identity, status, events: [], hashes: [], verifier: new ChainVerifier(id) })
    return status
  }

  agents (): AgentChainStatus[] { return [...this.#agents.values()].map((e) => ({ ...e.status })) }
  status (agentId: string): AgentChainStatus | undefined {
    const e = this.#agents.get(agentId)
    return e === undefined ? undefined : { ...e.status }
  }

  async recent (agentId: string, limit: number): Promise<AissEvent[]> {
    return (this.#agents.get(agentId)?.events ?? []).slice(-limit).reverse()
  }

  async identity (agentId: string): Promise<IdentityDocument | undefined> { return this.#agents.get(agentId)?.identity }

  async exportChain (agentId: string, opts: { now?: number } = {}): Promise<AsyncIterable<string> | undefined> {
    const e = this.#agents.get(agentId)
    if (e === undefined) return undefined
    const doc = buildAuditExport(e.identity, e.events, { hashes: e.hashes, ...(opts.now === undefined ? {} : { now: opts.now }) })
    const text = stringifyJson(doc, 2) + '\n'
    // Several chunks, as a streaming store would send them.
    return (async function * () { for (let i = 0; i < text.length; i += 4096) yield text.slice(i, i + 4096) })()
  }

  async ingest (agentId: string, event: unknown): Promise<IngestResult> {
    const e = this.#agents.get(agentId)
    if (e === undefined) throw new TypeError(`"agentId" ${agentId} is not registered`)
    const index = e.events.length
    e.status.lastSeen = this.now()
    const { problems, hash } = e.verifier.push(event)
    if (problems.length > 0) {
      // The verifier moved past the refused event: rebuild it from what is stored (fine for a fixture).
      e.verifier = new ChainVerifier(identityFrom(e.identity))
      for (const ev of e.events) e.verifier.push(ev)
      this.#reject(e, problems)
      return { accepted: false, problems, index, hash }
    }
    const ev = event as AissEvent
    e.events.push(ev)
    e.hashes.push(hash as string)
    Object.assign(e.status, { headHash: hash, eventCount: e.events.length, lastEventAt: ev.timestamp, currentAgentId: e.verifier.agentId })
    return { accepted: true, problems: [], index, hash }
  }

  #reject (e: Entry, problems: ChainProblem[]): void {
    const p = problems[0] as ChainProblem
    e.status.verification = 'anomalous'
    e.status.rejectedCount++
    e.status.lastProblem = { code: p.code, index: p.index, message: p.message, at: this.now() }
  }
}
