// Device-side gate round trip for `npm run bench`: a real DeviceGate asks a real gate-handler over the
// embedded broker (TCP on 127.0.0.1, port 0), one request at a time. Each round trip includes what the
// gate really does: the hub evaluates and durably stamps the decision into its journal, the device
// verifies the hub's signature and durably stamps its own gate_decision event.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import { Agent } from '../runtime/index.js'
import { startEmbeddedBroker } from '../hub/broker.js'
import { hubFilter } from '../sync/topics.js'
import { DeviceGate } from '../sync/gate.js'
import { createGateHandler } from '../hub/trustgate/gate-handler.js'
import { allowedDevices } from '../hub/trustgate/gate-auth.js'
import { createTrustGateService } from '../hub/trustgate/service.js'

export async function benchGateRoundTrip (n: number): Promise<{ p50Ms: number, p99Ms: number, perSec: number }> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`"n" expected a positive integer, got ${String(n)}`)
  const home = mkdtempSync(join(tmpdir(), 'pcp-bench-gate-'))
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
  const prefix = 'bench/pcp/v1'
  const hub = await Agent.open({ name: 'hub' }, { home })
  const device = await Agent.open({ name: 'device' }, { home })
  const service = await createTrustGateService({ dir: join(home, 'trustgate'), hub, initialPolicy: { profile: 'nist_balanced' }, expiryIntervalMs: 0 })
  const handler = createGateHandler(service, { prefix, devices: allowedDevices([{ agentId: device.agentId, publicKey: device.publicKey }]) })
  const hubClient = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 })
  const devClient = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 })
  // Nagle's algorithm against delayed ACKs costs ~40 ms per small request/response on loopback. DeviceGate
  // turns it off on the device's socket; the hub's consumer should do the same on its own.
  ;(hubClient.stream as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true)
  try {
    hubClient.on('message', (topic, payload) => {
      handler.handleMessage(topic, payload).then((out) => { if (out) hubClient.publish(out.topic, Buffer.from(out.payload), { qos: 1 }) }, () => {})
    })
    await hubClient.subscribeAsync(hubFilter({ prefix }), { qos: 1 })
    const gate = await DeviceGate.open({ client: devClient, agent: device, hub: hub.identityDocument(), prefix, timeoutMs: 5000 })
    const payload = { table: 'orders', values: { id: 42, qty: 3 } }
    for (let i = 0; i < Math.min(20, n); i++) await gate.check('read_db', payload, { role: 'operator' })
    const times = new Float64Array(n)
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint()
      const v = await gate.check('read_db', payload, { role: 'operator' })
      if (v.source !== 'hub' || !v.allowed) throw new Error(`bench gate answered ${v.source}/${v.outcome}: ${v.reason}`)
      times[i] = Number(process.hrtime.bigint() - s) / 1e6
    }
    const total = Number(process.hrtime.bigint() - t0) / 1e9
    times.sort()
    const at = (q: number): number => Math.round(times[Math.min(n - 1, Math.floor(q * n))]! * 100) / 100
    await gate.close()
    return { p50Ms: at(0.5), p99Ms: at(0.99), perSec: Math.round(n / total) }
  } finally {
    await hubClient.endAsync(true).catch(() => {})
    await devClient.endAsync(true).catch(() => {})
    await service.close(); await hub.close(); await device.close(); await broker.close()
    rmSync(home, { recursive: true, force: true })
  }
}
