// ChainView.ingest (hub/chain-view.ts), the in-process way in: one event at an allowed agent's head,
// through the same lane of hub/ingest.ts as the device's batches, so it is ordered with them and verified
// alike. Vigil is the caller's job. A refusal is a result with problems, never a throw.
import { ErrorCodes, type AissEvent, type ChainProblem } from '../runtime/index.js'
import { encodeRecord } from '../runtime/record.js'
import type { BatchOutcome } from './ingest.js'
import { HOSTILE_PROBLEM_CODE } from './hostile.js'
import type { IngestResult } from './chain-view.js'
import type { SyncKindsContext } from './sync-kinds.js'

export async function ingestOne (ctx: Pick<SyncKindsContext, 'registry' | 'ingest' | 'reject'>, agentId: string, event: unknown): Promise<IngestResult> {
  const refuse = (code: string, message: string): IngestResult => ({ accepted: false, problems: [{ code: code as ChainProblem['code'], index: -1, message }], index: -1, hash: null })
  if (ctx.registry.state(agentId) !== 'allowed') return refuse('AGENT_UNKNOWN', `agent ${agentId} is not an allowed agent of this hub`)
  let record: Uint8Array
  try { record = encodeRecord(event as AissEvent, 0) } catch (err) { return refuse(ErrorCodes.EVENT_MALFORMED, `not an event: ${(err as Error).message}`) }
  const ids = [typeof (event as AissEvent)?.agent_id === 'string' ? (event as AissEvent).agent_id : agentId]
  const out: BatchOutcome = await ctx.ingest.submit(agentId, { from: 'head', ids, records: [record], topic: 'api' })
  if ('ack' in out) return { accepted: true, problems: [], index: out.ack.head.seq, hash: out.ack.head.hash }
  if ('hostile' in out) {
    ctx.reject(out.hostile)
    const problem = out.problem ?? { code: HOSTILE_PROBLEM_CODE[out.hostile], index: out.index, message: out.message }
    return { accepted: false, hostile: out.hostile, problems: [problem], index: out.index, hash: null }
  }
  if (out.problem) return { accepted: false, problems: [out.problem], index: out.index ?? -1, hash: out.hash ?? null }
  return refuse(out.nack.code, out.nack.message)
}
