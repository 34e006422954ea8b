// One problem, four paths (test/chain-step.test.ts, test/aiss2-every-path.test.ts): a real Hub with one
// verify worker and Vigil's HTTP API over it, so a fault can be offered through ingest and through the
// record route, and the problem fields every user must agree on, compared.
import { join } from 'node:path'
import { stringifyJson, type AissEvent, type ChainProblem } from '../../runtime/index.js'
import { encodeRecord } from '../../runtime/record.js'
import { Hub } from '../../hub/hub.js'
import type { BatchOutcome } from '../../hub/ingest.js'
import { createVigilApi } from '../../hub/vigil/http.js'
import { freePort } from './hub-helpers.js'
import { tmpDir } from '../helpers.js'

const TOKEN = 'test-token-0123456789abcdef'

/** The fields every user must agree on. */
export const fields = (p: Partial<ChainProblem> | undefined): Record<string, unknown> =>
  ({ code: p?.code, index: p?.index, field: p?.field, expected: p?.expected, actual: p?.actual, message: p?.message })

export interface EveryPath {
  hub: Hub
  /** Offers `event` at `agentId`'s head through ingest, as a device's batch of one (the MQTT path). */
  offerIngest (agentId: string, event: AissEvent): Promise<BatchOutcome>
  /** POSTs `event` to Vigil's record route for `agentId`, as an operator's tool would: status and body. */
  offerRecord (agentId: string, event: AissEvent | Record<string, unknown>): Promise<{ status: number, body: string }>
}

export async function withEveryPath (fn: (p: EveryPath) => Promise<void>): Promise<void> {
  const tmp = tmpDir()
  const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: await freePort(), approval: 'auto', workers: 1, control: false })
  const api = await createVigilApi({ vigil: hub.vigil!, chain: hub.chain, metrics: hub.metrics, token: TOKEN })
  try {
    await fn({
      hub,
      offerIngest: (agentId, ev) => {
        // An event naming another agent_id travels with that id in the batch's table, as sync sends it.
        const ids = ev.agent_id === agentId ? [agentId] : [agentId, String(ev.agent_id)]
        return hub.ingest.submit(agentId, { from: 'head', ids, records: [encodeRecord(ev, ids.length - 1)], topic: 'test' })
      },
      offerRecord: async (agentId, event) => {
        const r = await api.inject({ method: 'POST', url: `/api/agent/${agentId}/record`, payload: stringifyJson(event), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } })
        return { status: r.statusCode, body: r.body }
      }
    })
  } finally { await api.close(); await hub.close(); tmp.cleanup() }
}
