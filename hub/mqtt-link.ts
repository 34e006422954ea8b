// The hub's MQTT side: the embedded broker it starts when no external one is named (devices log in with
// their keys, checked against the registry; each may use only its own topics), the hub's own client of
// whichever broker it uses, and the `hello` that tells known devices the hub is (back) up. hub/hub.ts
// starts them in this order and owns what they return; an oversized publish is counted through `oversize`.
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import type { Duplex } from 'node:stream'
import { downTopic, MAX_PAYLOAD_BYTES } from '../sync/topics.js'
import { connectMqtt } from '../sync/connect.js'
import { encodeEnvelope } from '../sync/wire.js'
import { guardPublishSize, PUBLISH_OVERHEAD_BYTES } from './packet-guard.js'
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js'
import { BrokerAuth } from './broker-auth.js'
import type { OpenedHubStore } from './store/open.js'
import type { HubOptions } from './hub-options.js'

/** The embedded broker and the login the hub's own client uses on it. */
export interface HubBroker { broker: EmbeddedBroker, url: string, hubLogin: { username: string, password: string } }

/** Starts the embedded broker; its refusals are counted in opts.metrics (pcp_broker_refused_total). */
export async function startHubBroker (opts: HubOptions, store: OpenedHubStore, prefix: string, oversize: (bytes: number) => void): Promise<HubBroker> {
  // Devices log in with their keys, checked against the registry; each may use only its own topics.
  const refused = opts.metrics!.counter('pcp_broker_refused_total', 'Embedded broker: connections, publishes and subscriptions refused (no or bad login, another agent\'s topic), per reason.', ['reason'])
  const brokerLog = opts.logger?.child({ component: 'broker' })
  const auth = new BrokerAuth({
    prefix,
    ...(opts.now ? { now: opts.now } : {}),
    devices: { device: (id) => { const rec = store.agent(id); return rec === undefined ? undefined : { state: rec.state, publicKey: rec.keys.at(-1)?.publicKey ?? null } } },
    onRefused: (reason, detail) => { refused.inc({ reason }); brokerLog?.debug({ event: 'refused', reason }, detail) }
  })
  const broker = await startEmbeddedBroker({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 1883, auth, onRefused: (b) => oversize(b), ...(brokerLog ? { logger: brokerLog } : {}) })
  return { broker, url: broker.url, hubLogin: auth.hubCredentials }
}

/** The hub's client: of the embedded broker (`embedded`, with the hub's login) or of the external one at `url`. */
export function connectHubClient (opts: HubOptions, url: string, embedded: HubBroker | null, oversize: (bytes: number) => void): MqttClient {
  // TLS options are for an external broker: the embedded one is plain TCP on loopback (connectMqtt
  // refuses certificates with an mqtt:// URL).
  const { tls: _externalOnly, ...plainMqtt } = opts.mqtt ?? {}
  // An external broker may pass on what it was given whole (100 MB): cut it off at its header.
  const maxIncoming = embedded ? {} : { maxIncoming: { payloadBytes: MAX_PAYLOAD_BYTES, overheadBytes: PUBLISH_OVERHEAD_BYTES, guard: (st: Duplex) => guardPublishSize(st, MAX_PAYLOAD_BYTES, (b) => oversize(b)) } }
  return connectMqtt({ clientId: `pcp-hub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, ...(embedded ? { ...plainMqtt, ...embedded.hubLogin } : opts.mqtt), ...maxIncoming, ...(opts.logger ? { logger: opts.logger.child({ component: 'ingest' }) } : {}), url, protocolVersion: embedded ? embedded.broker.protocolVersion : (opts.mqtt?.protocolVersion ?? 'auto') })
}

// After a broker outage the devices may have reconnected before us and sent handshakes no one heard:
// tell each known device we are back, so it asks again now instead of at its next (grown) timeout.
export function sayHello (client: MqttClient, store: OpenedHubStore, prefix: string): void {
  for (const r of store.agents()) {
    if (r.state === 'revoked') continue
    client.publish(downTopic(r.agentId, prefix), Buffer.from(encodeEnvelope({ v: 1, kind: 'hello', corr: randomBytes(8) })), { qos: 1 })
  }
}
