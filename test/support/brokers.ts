// The MQTT brokers every MQTT test runs against: always the embedded broker (hub/broker.ts, a fresh one per
// test on port 0), and also the external broker named by PCP_TEST_MQTT_URL when it is set (CI sets it to
// the Mosquitto on 127.0.0.1:1883). Each started target gets its own topic prefix and client-id stem, so
// parallel test files and repeated runs against the same external broker never see each other's traffic.
import { randomBytes } from 'node:crypto'
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { startEmbeddedBroker } from '../../hub/broker.js'

export type ProtocolVersion = 4 | 5

export interface BrokerTarget {
  readonly name: string
  readonly url: string
  /** MQTT protocol levels the broker speaks: the embedded one 3.1.1 only, Mosquitto/EMQX both. */
  readonly protocolVersions: readonly ProtocolVersion[]
  readonly sharedSubscriptions: boolean
  /** Whether the broker itself refuses payloads over MAX_PAYLOAD_BYTES (an unconfigured Mosquitto does not). */
  readonly enforcesPayloadLimit: boolean
  /** A PCP topic prefix no other test or run uses (`pcptest/<run>/<n>/pcp/v1`). */
  readonly prefix: string
  /** A client id no other test or run uses. */
  clientId (label: string): string
  /** Connects (reconnect off, so a test sees disconnects) and closes the client in close(). */
  connect (opts?: IClientOptions): Promise<MqttClient>
  /** Like connect() but not yet connected: attach listeners, then call `client.connect()`. */
  create (opts?: IClientOptions): MqttClient
  /** Ends every client connect() made, drops their persistent sessions, stops an embedded broker. */
  close (): Promise<void>
}

export interface BrokerTargetSpec {
  readonly name: string
  start (): Promise<BrokerTarget>
}

const RUN = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`
let counter = 0

export function brokerTargets (): BrokerTargetSpec[] {
  const specs: BrokerTargetSpec[] = [{
    name: 'embedded',
    async start () {
      const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
      return makeTarget({ name: 'embedded', url: broker.url, protocolVersions: [4], sharedSubscriptions: false, enforcesPayloadLimit: true }, () => broker.close())
    }
  }]
  const external = process.env.PCP_TEST_MQTT_URL
  if (external) {
    specs.push({
      name: `external ${external}`,
      async start () {
        return makeTarget({ name: `external ${external}`, url: external, protocolVersions: [4, 5], sharedSubscriptions: true, enforcesPayloadLimit: false }, async () => {})
      }
    })
  }
  return specs
}

interface TargetFacts {
  name: string
  url: string
  protocolVersions: readonly ProtocolVersion[]
  sharedSubscriptions: boolean
  enforcesPayloadLimit: boolean
}

function makeTarget (facts: TargetFacts, stop: () => Promise<void>): BrokerTarget {
  const n = ++counter
  const clients: MqttClient[] = []
  const persistent = new Map<string, ProtocolVersion>()
  const track = (client: MqttClient, opts: IClientOptions): MqttClient => {
    clients.push(client)
    if (opts.clean === false && opts.clientId) persistent.set(opts.clientId, (opts.protocolVersion ?? 4) as ProtocolVersion)
    return client
  }
  return {
    ...facts,
    prefix: `pcptest/${RUN}/${n}/pcp/v1`,
    clientId: (label) => `pcpt-${RUN}-${n}-${label}`,
    async connect (opts = {}) {
      return track(await connectAsync(facts.url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts }), opts)
    },
    create (opts = {}) {
      return track(connect(facts.url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts, manualConnect: true }), opts)
    },
    async close () {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})))
      // An external broker keeps `clean: false` sessions (on disk, for Mosquitto) until told otherwise:
      // reconnecting with clean: true discards them, so test runs leave nothing behind.
      if (facts.name !== 'embedded') {
        for (const [clientId, protocolVersion] of persistent) {
          const c = await connectAsync(facts.url, { clientId, clean: true, protocolVersion, reconnectPeriod: 0, connectTimeout: 5000 }).catch(() => undefined)
          await c?.endAsync().catch(() => {})
        }
      }
      await stop()
    }
  }
}
