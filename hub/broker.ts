// The hub's embedded MQTT broker (aedes 1.2, in memory), so `pcp hub start` needs no external service.
//
// What it is and is not (checked against aedes 1.2.0's source and by test/mqtt-broker.test.ts):
// - MQTT 3.1.1 only. aedes answers a protocol-version-5 CONNECT with "unacceptable protocol version"
//   (lib/handlers/connect.js), so every PCP client speaks 3.1.1 to it, and the PCP protocol uses no MQTT 5
//   feature: correlation travels in the payload (sync/topics.ts), sessions are `clean: false`.
// - No shared subscriptions: aedes grants `$share/<group>/<filter>` as a literal filter that never matches
//   anything, which would leave a hub silently deaf. We refuse such subscriptions (SUBACK failure, 0x80)
//   so a misconfigured hub learns it at subscribe time. Several hubs need an external clustered broker.
// - Sessions and queued QoS 1 messages live in this process's memory: they survive a client reconnect,
//   not a hub restart (devices then resend from the hub's head, see the sync protocol).
// - Payload limit: aedes has none, so we refuse a PUBLISH whose payload exceeds `maxPayloadBytes`
//   (default MAX_PAYLOAD_BYTES, 1 MiB): at its fixed header, before aedes buffers it (hub/packet-guard.ts),
//   and exactly in authorizePublish, before it is routed or queued. MQTT 3.1.1 has no reason code, so the
//   offending client is disconnected; `onRefused` counts it.
// - Authentication and ACL: with `auth` (the hub always passes one, hub/broker-auth.ts), only the hub's
//   own client and devices with a signed login connect, and each device publishes and subscribes only on
//   its own topics; a denied publish disconnects the client, a denied subscription gets SUBACK 0x80.
//   Without `auth` the broker is open (tests and benchmarks that exercise the broker alone).
import type { Logger } from '../sync/log.js'
import { createServer, type Server, type Socket } from 'node:net'
import { Aedes, type Client } from 'aedes'
import { PcpError } from '../runtime/errors.js'
import { MAX_PAYLOAD_BYTES } from '../sync/topics.js'
import type { BrokerAuth, BrokerIdentity } from './broker-auth.js'
import { guardPublishSize } from './packet-guard.js'

/** Codes this module throws; the lead adds them to runtime/errors.ts ErrorCodes. */
export const BrokerErrorCodes = {
  PORT_IN_USE: 'PORT_IN_USE',
  PORT_DENIED: 'PORT_DENIED',
  BROKER_LISTEN_FAILED: 'BROKER_LISTEN_FAILED'
} as const

/** The MQTT protocol level clients must use against the embedded broker (4 = MQTT 3.1.1). */
export const EMBEDDED_PROTOCOL_VERSION = 4

export interface EmbeddedBrokerOptions {
  /** Interface to listen on. Default 127.0.0.1: exposing the broker to the network is a choice. */
  host?: string
  /** TCP port; 0 picks a free one. Default 1883. */
  port?: number
  /** Largest PUBLISH payload accepted, in bytes. Default MAX_PAYLOAD_BYTES (1 MiB). */
  maxPayloadBytes?: number
  /** Device connects and disconnects go here (hub/log.ts). */
  logger?: Logger
  /** Who may connect and what each may do. Without it, anyone may do anything. */
  auth?: BrokerAuth
  /** Called for each PUBLISH refused as too large, with its size in bytes. */
  onRefused?: (bytes: number) => void
}

export interface EmbeddedBroker {
  /** `mqtt://host:port`, connectable (an unspecified listen address becomes loopback). */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly protocolVersion: typeof EMBEDDED_PROTOCOL_VERSION
  /** Closes the connections that logged in for `agentId` (it was revoked); returns how many. */
  disconnect (agentId: string): number
  /** Disconnects every client and stops listening. Idempotent. */
  close (): Promise<void>
}

/** The identity broker-auth gave a connection at CONNECT. */
type AuthedClient = { pcp?: BrokerIdentity }

export async function startEmbeddedBroker (opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1'
  const port = opts.port ?? 1883
  const maxPayloadBytes = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES
  if (typeof host !== 'string' || host.length === 0) throw new TypeError(`"host" expected a non-empty string, got ${typeof host}`)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`"port" expected an integer 0..65535, got ${String(port)}`)
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1) throw new RangeError(`"maxPayloadBytes" expected a positive integer, got ${String(maxPayloadBytes)}`)

  const auth = opts.auth
  // aedes keeps its connected clients by id (not in its types); authenticate() asks who holds an id.
  const clients = (): Record<string, Client> => (aedes as unknown as { clients: Record<string, Client> }).clients
  const aedes: Aedes = await Aedes.createBroker({
    // Clients that reconnect with a burst of resends must not hit aedes' default pre-session queue of 42.
    queueLimit: 1000,
    ...(auth
      ? {
          authenticate: (client, username, password, done) => {
            const holder = (clients()[client.id] as unknown as AuthedClient | undefined)?.pcp
            const id = auth.authenticate(client.id, username, password, holder)
            if (id === null) return done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }), false)
            ;(client as unknown as AuthedClient).pcp = id
            done(null, true)
          }
        }
      : {}),
    authorizePublish: (client, packet, done) => {
      const size = packet.payload?.length ?? 0
      if (size > maxPayloadBytes) { opts.onRefused?.(size); return done(new Error(`payload of ${size} bytes exceeds the ${maxPayloadBytes}-byte limit on ${packet.topic}`)) }
      if (auth && !auth.mayPublish((client as unknown as AuthedClient | null)?.pcp, packet.topic, packet.retain === true)) return done(new Error(`not authorized to publish on ${packet.topic}`))
      done(null)
    },
    authorizeSubscribe: (client, sub, done) => {
      if (sub.topic.startsWith('$share/')) return done(null, null) // SUBACK 0x80: see the header
      if (auth && !auth.maySubscribe((client as unknown as AuthedClient | null)?.pcp, sub.topic)) return done(null, null)
      done(null, sub)
    }
  })
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    // Request/response (gate checks, A2A) is small messages: Nagle's delay doubled a round trip here.
    socket.setNoDelay(true)
    socket.once('close', () => sockets.delete(socket))
    aedes.handle(socket)
    guardPublishSize(socket, maxPayloadBytes, (bytes) => opts.onRefused?.(bytes))
  })
  // A protocol error from one client must not become an unhandled 'error' on the broker.
  aedes.on('clientError', () => {})
  if (opts.logger) {
    const log = opts.logger
    aedes.on('client', (c) => log.info({ event: 'connect', client: c.id }, `client ${c.id} connected`))
    aedes.on('clientDisconnect', (c) => log.info({ event: 'disconnect', client: c.id }, `client ${c.id} disconnected`))
  }
  aedes.on('connectionError', () => {})

  try {
    await listen(server, host, port)
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    throw listenError(err, host, port)
  }
  const bound = server.address()
  const actualPort = typeof bound === 'object' && bound !== null ? bound.port : port

  let closing: Promise<void> | undefined
  return {
    url: `mqtt://${urlHost(host)}:${actualPort}`,
    host,
    port: actualPort,
    protocolVersion: EMBEDDED_PROTOCOL_VERSION,
    disconnect (agentId) {
      let n = 0
      for (const c of Object.values(clients())) {
        const id = (c as unknown as AuthedClient).pcp
        if (id !== undefined && !id.hub && id.agents.has(agentId)) { c.close(); n++ }
      }
      return n
    },
    close () {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        await new Promise<void>((resolve) => aedes.close(() => resolve()))
        for (const s of sockets) s.destroy()
        await stopped
      })()
      return closing
    }
  }
}

function listen (server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { server.off('listening', onListening); reject(err) }
    const onListening = (): void => { server.off('error', onError); resolve() }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen({ host, port, exclusive: true })
  })
}

function listenError (err: unknown, host: string, port: number): PcpError {
  const code = (err as NodeJS.ErrnoException)?.code
  const where = `${urlHost(host)}:${port}`
  if (code === 'EADDRINUSE') {
    return new PcpError(BrokerErrorCodes.PORT_IN_USE,
      `cannot start the embedded MQTT broker: ${where} is already in use (another broker such as Mosquitto, or another hub?). ` +
      'Pick another with --port (e.g. --port 1884, and devices sync to mqtt://<hub>:1884), or use --mqtt-url to consume from the broker that holds it', { host, port, cause: err })
  }
  if (code === 'EACCES') {
    return new PcpError(BrokerErrorCodes.PORT_DENIED,
      `cannot start the embedded MQTT broker: not permitted to listen on ${where} (ports below 1024 need privileges)`, { host, port, cause: err })
  }
  return new PcpError(BrokerErrorCodes.BROKER_LISTEN_FAILED,
    `cannot start the embedded MQTT broker on ${where}: ${(err as Error)?.message ?? String(err)}`, { host, port, cause: err })
}

/** A host as it appears in a URL: unspecified addresses become loopback, IPv6 literals get brackets. */
function urlHost (host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}
