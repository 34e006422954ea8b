// One MQTT client setup for the device's sync agent and the hub: TLS and credentials, MQTT 5 with an
// automatic fall-back to 3.1.1, and reconnect with jittered exponential backoff. Never waits for the broker:
// the client is returned at once and keeps trying, so a device starts (and stamps) while offline.
//
// Catch-up after an outage: a backoff that has grown to 30 s would leave a device (and the hub) offline
// for up to 30 s after the broker is back. Between attempts we therefore probe the broker's TCP port every
// `probeMs` (a SYN, closed at once: cheap for a broker, no CONNECT, nothing in its session state) and
// reconnect as soon as it accepts. A probe only follows a network failure: after a refused CONNECT
// (credentials, client id, certificate) or a probe-triggered attempt that failed, the full delay is
// waited, so a broker that accepts TCP but refuses us is not hammered.
//
// Protocol level: the PCP protocol uses no MQTT 5 feature (correlation is in the payload, see
// sync/topics.ts), so either level carries it. We ask for 5 first, because external brokers (Mosquitto,
// EMQX) then give reason codes in acks and disconnects; a broker that refuses it (the embedded aedes
// broker answers CONNACK 0x01 "unacceptable protocol version", a v5 broker configured for 3.1.1 only
// 0x84) gets 3.1.1 from the next attempt on, and the level is kept for later reconnects.
import { X509Certificate } from 'node:crypto'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { connect as tcpConnect, type Socket } from 'node:net'
import { connect, type IClientOptions, type MqttClient } from 'mqtt'
import { jitteredDelay } from './backoff.js'
import type { Logger } from './log.js'

export type ProtocolChoice = 'auto' | 4 | 5

export interface MqttTls {
  /** CA certificate(s) (PEM) the broker's certificate must chain to. */
  ca?: string | Uint8Array
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | Uint8Array
  key?: string | Uint8Array
  /** Default true. Turning it off is for tests with self-signed brokers only. */
  rejectUnauthorized?: boolean
}

export interface MqttConnectOptions {
  /** `mqtt://host:port` or `mqtts://host:port` (TLS). */
  url: string
  clientId?: string
  username?: string
  password?: string
  /**
   * Credentials made afresh for every connection attempt (they win over username/password): a signed
   * login (sync/broker-login.ts) is valid once, so a reconnect must not resend the last one.
   */
  credentials?: () => { username: string, password: string }
  tls?: MqttTls
  /** Default 'auto': MQTT 5, falling back to 3.1.1 when the broker refuses 5. */
  protocolVersion?: ProtocolChoice
  /** Shortest reconnect delay (default 500 ms); the ceiling doubles after each failed attempt up to maxReconnectMs, the delay is drawn uniformly below it. */
  minReconnectMs?: number
  /** Default 30 000 ms. */
  maxReconnectMs?: number
  /** While waiting out a reconnect delay longer than this, probe the broker's TCP port this often (default 1000 ms; 0 turns probing off). */
  probeMs?: number
  /** Randomness for the reconnect jitter (default Math.random), injectable so tests can pin the delays. */
  random?: () => number
  keepaliveSeconds?: number
  connectTimeoutMs?: number
  /** Called with each connection error (refused CONNACK, TLS, socket); the client keeps retrying. */
  onError?: (err: Error & { code?: number | string }) => void
  /**
   * Largest PUBLISH payload this client takes. MQTT 5 tells the broker (CONNECT maximumPacketSize), so it
   * does not send more; on either version a larger PUBLISH is cut off at its header (hub/packet-guard.ts
   * rule, given here as `guard`) and the connection dropped, so it is never buffered whole.
   */
  maxIncoming?: { payloadBytes: number, overheadBytes: number, guard: (stream: import('node:stream').Duplex) => void }
  /** Structured log (sync/log.ts): connected (info, with the protocol level), offline (warn), each reconnect attempt (debug). Errors go to onError. */
  logger?: Logger
}

const REFUSED_VERSION = new Set([1, 0x84])

export function connectMqtt (opts: MqttConnectOptions): MqttClient {
  if (typeof opts?.url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(opts.url)) throw new TypeError(`"url" expected mqtt://host:port or mqtts://host:port, got ${JSON.stringify(opts?.url)}`)
  // Certificates with a plain URL would be ignored by mqtt.js, and the password sent in clear to a broker
  // the operator believes is authenticated: refuse the combination rather than downgrade silently.
  if (opts.tls && !/^(mqtts|ssl|wss):\/\//.test(opts.url)) throw new TypeError(`"tls" options given but "url" ${JSON.stringify(opts.url)} is not TLS: use mqtts://host:port`)
  const choice = opts.protocolVersion ?? 'auto'
  if (choice !== 'auto' && choice !== 4 && choice !== 5) throw new RangeError(`"protocolVersion" expected 'auto', 4 or 5, got ${String(choice)}`)
  const minMs = opts.minReconnectMs ?? 500
  const maxMs = opts.maxReconnectMs ?? 30_000
  if (!(minMs > 0) || !(maxMs >= minMs)) throw new RangeError(`"minReconnectMs"/"maxReconnectMs" expected 0 < min <= max, got ${minMs}/${maxMs}`)
  const probeMs = opts.probeMs ?? 1000
  if (!(probeMs >= 0) || !Number.isFinite(probeMs)) throw new RangeError(`"probeMs" expected a non-negative number of milliseconds, got ${String(opts.probeMs)}`)
  const options: IClientOptions = {
    protocolVersion: choice === 4 ? 4 : 5,
    clean: true,
    reconnectPeriod: minMs,
    reconnectOnConnackError: true,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    keepalive: opts.keepaliveSeconds ?? 30,
    // The sync protocol resends on its own (app-level acks): never queue publishes while offline,
    // or a reconnect would replay stale batches ahead of the fresh head exchange.
    queueQoSZero: false,
    resubscribe: true
  }
  if (opts.clientId !== undefined) options.clientId = opts.clientId
  if (opts.username !== undefined) options.username = opts.username
  if (opts.password !== undefined) options.password = opts.password
  if (opts.tls) {
    const buf = (v: string | Uint8Array | undefined): Buffer | undefined => v === undefined ? undefined : Buffer.from(v)
    const ca = buf(opts.tls.ca); const cert = buf(opts.tls.cert); const key = buf(opts.tls.key)
    checkTlsMaterial(ca, cert, key)
    if (ca) options.ca = ca
    if (cert) options.cert = cert
    if (key) options.key = key
    options.rejectUnauthorized = opts.tls.rejectUnauthorized ?? true
  }
  if (opts.credentials !== undefined) {
    if (typeof opts.credentials !== 'function') throw new TypeError('"credentials" expected a function returning { username, password }')
    Object.assign(options, opts.credentials())
  }
  if (opts.maxIncoming && options.protocolVersion === 5) options.properties = { maximumPacketSize: opts.maxIncoming.payloadBytes + opts.maxIncoming.overheadBytes }
  const client = connect(opts.url, options)
  // mqtt.js emits 'reconnect' right before it builds the next CONNECT from client.options.
  if (opts.credentials !== undefined) { const fresh = opts.credentials; client.on('reconnect', () => { Object.assign(client.options, fresh()) }) }
  if (opts.maxIncoming) {
    // connect() built the first stream synchronously (nothing read from it yet); mqtt.js builds each
    // later one through streamBuilder (typed private, assigned in its constructor).
    const guard = opts.maxIncoming.guard
    const cl = client as unknown as { stream: import('node:stream').Duplex, streamBuilder: (c: MqttClient) => import('node:stream').Duplex }
    guard(cl.stream)
    const build = cl.streamBuilder
    cl.streamBuilder = (c) => { const st = build(c); guard(st); return st }
  }
  const backoff = reconnectBackoff(client, minMs, maxMs, probeMs, opts.random ?? Math.random)
  // mqtt.js 5 emits a failed TLS handshake (unknown CA, no client certificate) twice: from its TLS
  // wrapper and from its stream handler, with the same Error object. Report each failure once.
  let lastReported: Error | null = null
  client.on('error', (err: Error & { code?: number | string }) => {
    if (choice === 'auto' && client.options.protocolVersion === 5 && typeof err.code === 'number' && REFUSED_VERSION.has(err.code)) {
      client.options.protocolVersion = 4
      delete client.options.properties // MQTT 5 only
      client.options.reconnectPeriod = 1 // retry at once at 3.1.1: this was not a failure of the broker
      return
    }
    if (isConnectRefusal(err)) backoff.refused()
    if (err === lastReported) return
    lastReported = err
    opts.onError?.(err)
  })
  if (opts.logger) logConnection(client, opts.logger, opts.url)
  return client
}

// mqtt.js arms its reconnect timer on 'close' with the `reconnectPeriod` of that moment and clears it when
// an attempt starts ('reconnect'), so each attempt sets the period its own failure will wait.
function logConnection (client: MqttClient, log: Logger, url: string): void {
  const broker = url.replace(/\/\/[^@/]*@/, '//') // never a password from the URL in a log
  let attempts = 0
  client.on('connect', () => { log.info({ event: 'mqtt_connected', broker, protocolVersion: client.options.protocolVersion, attempts }, `connected to ${broker}`); attempts = 0 })
  client.on('offline', () => log.warn({ event: 'mqtt_offline', broker }, `offline from ${broker}; reconnecting`))
  client.on('reconnect', () => { attempts++; log.debug({ event: 'mqtt_reconnect', broker, attempt: attempts }, `reconnecting to ${broker} (attempt ${attempts})`) })
}

function reconnectBackoff (client: MqttClient, minMs: number, maxMs: number, probeMs: number, random: () => number): { refused: () => void } {
  let attempt = 0
  let refused = false
  let probeTriggered = false
  let timer: NodeJS.Timeout | undefined
  let socket: Socket | undefined
  const waiting = (): boolean => client.reconnecting && !client.connected && !client.disconnecting
  const stopProbe = (): void => { clearTimeout(timer); timer = undefined; socket?.destroy(); socket = undefined }
  const probeLater = (): void => {
    const { host, port } = client.options
    if (!host || !port) return
    // ±20 %, so that the probes of a fleet spread out as well.
    timer = setTimeout(() => {
      timer = undefined
      const s = socket = tcpConnect({ host, port })
      s.setTimeout(probeMs, () => s.destroy())
      s.once('error', () => {})
      s.once('connect', () => {
        stopProbe()
        if (!waiting()) return
        probeTriggered = true
        client.reconnect()
      })
      s.once('close', () => { if (socket === s) { socket = undefined; if (waiting()) probeLater() } })
    }, Math.round(probeMs * (0.8 + 0.4 * random())))
    timer.unref()
  }
  client.on('reconnect', () => {
    stopProbe()
    client.options.reconnectPeriod = jitteredDelay(attempt++, minMs, maxMs, random)
    refused = false
  })
  client.on('close', () => {
    stopProbe()
    if (client.disconnecting) return
    if (probeMs > 0 && (client.options.reconnectPeriod ?? 0) > probeMs && !refused && !probeTriggered) probeLater()
    probeTriggered = false
  })
  client.on('connect', () => { attempt = 0; probeTriggered = false; client.options.reconnectPeriod = minMs })
  client.on('end', stopProbe)
  return { refused: () => { refused = true } }
}

// Without this, a file that is not PEM (or a key that does not match its certificate) surfaces as a bare
// OpenSSL message ("PEM routines::no start line") thrown from inside mqtt.js, naming neither option.
function checkTlsMaterial (ca: Buffer | undefined, cert: Buffer | undefined, key: Buffer | undefined): void {
  const check = (what: string, o: SecureContextOptions): void => {
    try { createSecureContext(o) } catch (err) {
      const e = err as Error & { reason?: string }
      throw new TypeError(`${what}: ${e.reason ?? e.message.replace(/^error:[0-9A-F]+:/, '')}`, { cause: err })
    }
  }
  if (ca) {
    // Node skips a `ca` entry it cannot parse (then every broker certificate is "untrusted"): parse it here.
    const blocks = ca.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
    if (!blocks) throw new TypeError('"tls.ca" expected PEM CA certificate(s), found no "BEGIN CERTIFICATE" block')
    blocks.forEach((pem, i) => {
      try { void new X509Certificate(pem) } catch (err) { throw new TypeError(`"tls.ca" certificate #${i + 1} does not parse: ${(err as Error).message}`, { cause: err }) }
    })
  }
  if ((cert === undefined) !== (key === undefined)) throw new TypeError(`"tls.cert" and "tls.key" go together, got only "tls.${cert ? 'cert' : 'key'}"`)
  if (cert && key) check('"tls.cert"/"tls.key" expected a PEM client certificate and its private key', { cert, key })
}

// Refusals that retrying with the same options cannot cure: the broker rejected the credentials or the
// client id (CONNACK 3.1.1: 2, 4, 5; MQTT 5: 0x85, 0x86, 0x87, 0x8A banned, 0x8C bad auth method), or TLS
// failed on a certificate (ours refused, or the broker's not trusted). A device keeps retrying anyway (the
// broker's configuration may be fixed while it runs); a hub starting up reports them at once.
const REFUSED_CONNACK = new Set([2, 4, 5, 0x85, 0x86, 0x87, 0x8A, 0x8C])
const CERT_ERRORS = /^(ERR_SSL_|ERR_TLS_CERT_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH)/

/** Whether `err` (an MQTT client 'error') is a refusal of our credentials or certificates, not a network problem. */
export function isConnectRefusal (err: { code?: unknown } | null | undefined): boolean {
  const code = err?.code
  if (typeof code === 'number') return REFUSED_CONNACK.has(code)
  return typeof code === 'string' && CERT_ERRORS.test(code)
}

/**
 * Resolves once the client is connected, or rejects after `ms` naming the last connection error (a
 * timeout alone hides a wrong password or an untrusted certificate). With `failOnRefusal`, rejects at the
 * first refusal (isConnectRefusal) instead of waiting out the timeout. The error's `cause` is the client's.
 */
export function whenConnected (client: MqttClient, ms = 10_000, opts: { failOnRefusal?: boolean } = {}): Promise<void> {
  if (client.connected) return Promise.resolve()
  return new Promise((resolve, reject) => {
    let last: (Error & { code?: unknown }) | null = null
    const done = (err?: Error): void => {
      clearTimeout(timer); client.off('connect', ok); client.off('error', onError)
      if (err) reject(err); else resolve()
    }
    const o = client.options
    const where = o.host ? ` at ${o.protocol ?? 'mqtt'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port ?? ''}` : ''
    // OpenSSL's messages carry its internal error stack; Node's `reason` is the readable part.
    const describe = (e: Error & { code?: unknown, reason?: unknown }): string => {
      const text = typeof e.reason === 'string' ? e.reason : e.message.trim()
      return `${text}${e.code !== undefined && !text.includes(String(e.code)) ? ` (${String(e.code)})` : ''}`
    }
    const timer = setTimeout(() => {
      done(Object.assign(new Error(`MQTT: not connected to the broker${where} after ${ms} ms${last ? `; last error: ${describe(last)}` : ''}`), last ? { cause: last } : {}))
    }, ms)
    function ok (): void { done() }
    function onError (err: Error & { code?: unknown }): void {
      last = err
      if (opts.failOnRefusal && isConnectRefusal(err)) done(Object.assign(new Error(`MQTT: the broker${where} refused the connection: ${describe(err)}`), { cause: err }))
    }
    client.once('connect', ok)
    client.on('error', onError)
  })
}
