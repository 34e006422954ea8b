// The ChainView (hub/chain-view.ts) the Vigil HTTP API reads: served from a HubStore, with ingest()
// going through the same per-agent lane as MQTT batches, so an event posted over HTTP and a batch from
// the device can never interleave inside one chain.
import { eventHash, chainIntegrityHash } from '../../runtime/event.js'
import { stringifyJson } from '../../runtime/json.js'
import { AUDIT_SPEC, EXPORTER } from '../../runtime/audit.js'
import type { AissEvent, IdentityDocument } from '../../runtime/types.js'
import type { AgentChainStatus, ChainView, IngestResult } from '../chain-view.js'
import type { AgentRecord, HubStore } from './types.js'

export function chainStatus (rec: AgentRecord): AgentChainStatus {
  return {
    agentId: rec.agentId,
    currentAgentId: rec.keys.at(-1)?.agentId ?? rec.agentId,
    name: rec.name,
    headHash: rec.head?.hash ?? null,
    eventCount: rec.count,
    lastEventAt: rec.head?.timestamp ?? null,
    lastSeen: rec.lastSeen,
    verification: rec.rejectedCount > 0 ? 'anomalous' : 'valid',
    rejectedCount: rec.rejectedCount,
    lastProblem: rec.lastProblem
  }
}

export class StoreChainView implements ChainView {
  constructor (private readonly store: HubStore, private readonly ingestOne: (agentId: string, event: unknown) => Promise<IngestResult>) {}

  agents (): AgentChainStatus[] { return this.store.agents().map(chainStatus) }

  status (agentId: string): AgentChainStatus | undefined {
    const rec = this.store.agent(agentId)
    return rec ? chainStatus(rec) : undefined
  }

  async recent (agentId: string, limit: number): Promise<AissEvent[]> {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`"limit" expected a non-negative integer, got ${String(limit)}`)
    const count = this.store.agent(agentId)?.count ?? 0
    const out: AissEvent[] = []
    for await (const { event } of this.store.events(agentId, Math.max(0, count - limit), count)) out.push(event)
    return out.reverse()
  }

  async identity (agentId: string): Promise<IdentityDocument | undefined> {
    return this.store.agent(agentId)?.identity ?? undefined
  }

  async exportChain (agentId: string, opts: { now?: number } = {}): Promise<AsyncIterable<string> | undefined> {
    const rec = this.store.agent(agentId)
    if (!rec?.identity) return undefined
    const store = this.store
    const identity = rec.identity
    const count = rec.count // a snapshot: events stored while streaming are not half-included
    return (async function * () {
      const indent = (s: string, n: number): string => s.split('\n').join('\n' + ' '.repeat(n))
      let chunk = `{\n  "spec": ${JSON.stringify(AUDIT_SPEC)},\n  "agent_identity": ${indent(stringifyJson(identity, 2), 2)},\n  "events": [`
      const hashes: string[] = []
      let first: number | null = null; let last: number | null = null; let n = 0
      for await (const { event } of store.events(agentId, 0, count)) {
        hashes.push(eventHash(event))
        first ??= event.timestamp; last = event.timestamp
        chunk += (n ? ',' : '') + '\n    ' + indent(stringifyJson(event, 2), 4)
        if (++n % 500 === 0) { yield chunk; chunk = '' }
      }
      const metadata = { event_count: n, first_timestamp: first, last_timestamp: last, exporter: EXPORTER }
      yield chunk + `${n ? '\n  ' : ''}],\n  "chain_integrity_hash": ${JSON.stringify(chainIntegrityHash(hashes))},\n  "exported_at": ${opts.now ?? Math.floor(Date.now() / 1000)},\n  "metadata": ${indent(stringifyJson(metadata, 2), 2)}\n}\n`
    })()
  }

  ingest (agentId: string, event: unknown): Promise<IngestResult> { return this.ingestOne(agentId, event) }
}
