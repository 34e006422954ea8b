// `pcp hub verify-store`: every chain a hub store holds, verified again from its stored bytes, as an
// auditor would (signatures, links, timestamps, nonces, rotations: runtime/verify.ts's ChainVerifier), and
// checked against the store's own record of it (event count, head hash). Meant for a store restored from a
// backup, or one copied between LevelDB and PostgreSQL: ingest verified each event once on arrival, this
// proves the bytes that are there now are still those events. Reports the first fault of each agent; a
// damaged chain does not stop the others being checked.
import { ChainVerifier } from '../../runtime/verify.js'
import { parseIdentityDocument } from '../../runtime/identity.js'
import type { AgentRecord, HubStore } from './types.js'

export interface StoreFault {
  agentId: string
  name: string
  /** Chain position of the first fault; -1 for a fault of the chain as a whole (no identity, head mismatch). */
  index: number
  /** A verifier code (SIGNATURE_INVALID, CHAIN_LINK_BROKEN, ...), STORE_CORRUPTED, or HEAD_MISMATCH / IDENTITY_MISSING. */
  code: string
  message: string
}

export interface AgentVerdict { agentId: string, name: string, state: string, events: number, ok: boolean }

export interface StoreVerdict {
  ok: boolean
  agents: number
  /** Events read and verified, over all agents. */
  events: number
  perAgent: AgentVerdict[]
  /** The first fault of each agent that has one. */
  faults: StoreFault[]
  ms: number
}

export async function verifyStore (store: HubStore, opts: { onAgent?: (v: AgentVerdict) => void } = {}): Promise<StoreVerdict> {
  const t0 = performance.now()
  const perAgent: AgentVerdict[] = []
  const faults: StoreFault[] = []
  let total = 0
  for (const rec of store.agents()) {
    const base = { agentId: rec.agentId, name: rec.name }
    const { n, fault } = await checkAgent(store, rec)
    total += n
    const verdict = { ...base, state: rec.state, events: n, ok: fault === null }
    perAgent.push(verdict)
    opts.onAgent?.(verdict)
    if (fault) faults.push({ ...base, ...fault })
  }
  return { ok: faults.length === 0, agents: perAgent.length, events: total, perAgent, faults, ms: Math.round(performance.now() - t0) }
}

type Fault = Omit<StoreFault, 'agentId' | 'name'>

/** One agent's stored chain against its identity and its record: the events read and the first fault. */
async function checkAgent (store: HubStore, rec: AgentRecord): Promise<{ n: number, fault: Fault | null }> {
  if (!rec.identity) {
    return { n: 0, fault: rec.count > 0 ? { index: -1, code: 'IDENTITY_MISSING', message: `the store holds ${rec.count} events of ${rec.agentId} but no identity document to verify them against` } : null }
  }
  let verifier: ChainVerifier
  try {
    const { doc, publicKey, publicKeyPq } = parseIdentityDocument(rec.identity, `stored identity of ${rec.agentId}`)
    verifier = new ChainVerifier({ agentId: doc.agent_id, publicKey, publicKeyPq })
  } catch (err) { return { n: 0, fault: { index: -1, code: (err as { code?: string }).code ?? 'IDENTITY_INVALID', message: (err as Error).message } } }
  let n = 0
  let hash: string | null = null
  try {
    for await (const { seq, event } of store.events(rec.agentId, 0, rec.count)) {
      const out = verifier.push(event)
      n++
      hash = out.hash
      const p = out.problems[0]
      if (p) return { n, fault: { index: seq, code: p.code, message: p.message } }
    }
  } catch (err) {
    const e = err as { code?: string, index?: number }
    return { n, fault: { index: e.index ?? n, code: e.code ?? 'STORE_CORRUPTED', message: (err as Error).message } }
  }
  if (n !== rec.count) return { n, fault: { index: n, code: 'STORE_CORRUPTED', message: `the record of ${rec.agentId} counts ${rec.count} events, the store holds ${n}` } }
  if ((rec.head?.hash ?? null) !== hash) return { n, fault: { index: -1, code: 'HEAD_MISMATCH', message: `the record of ${rec.agentId} names head ${rec.head?.hash ?? 'none'}, the stored chain ends at ${hash ?? 'none'}` } }
  return { n, fault: null }
}
