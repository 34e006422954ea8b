// The hub side of the TrustGate HTTP tests: the hub's own Agent as the journal, the service on a state
// directory, and its HTTP API on 127.0.0.1 (port 0).
import { Agent } from '../runtime/index.js'
import { createTrustGateService, type TrustGateService } from '../hub/trustgate/service.js'
import { createTrustGateHttp } from '../hub/trustgate/http.js'

export interface TrustGateApi {
  hub: Agent
  service: TrustGateService
  port: number
  url: string
  /** Closes the API, the service and the hub's Agent (the caller owns `home`). */
  close: () => Promise<void>
}

export async function startTrustGateApi (opts: { home: string, dir: string, token: string, clock?: () => number, initialPolicy?: string }): Promise<TrustGateApi> {
  const hub = await Agent.open({ name: 'hub' }, { home: opts.home, ...(opts.clock ? { clock: opts.clock } : {}) })
  const service = await createTrustGateService({
    dir: opts.dir, hub, expiryIntervalMs: 0,
    ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.initialPolicy !== undefined ? { initialPolicy: opts.initialPolicy } : {})
  })
  const http = await createTrustGateHttp(service, { host: '127.0.0.1', port: 0, token: opts.token })
  return {
    hub, service, port: http.port, url: `http://127.0.0.1:${http.port}`,
    async close () { await http.close(); await service.close(); await hub.close() }
  }
}
