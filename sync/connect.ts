// One MQTT client setup for the device's sync agent and the hub: TLS and credentials, MQTT 5 with an
// automatic fall-back to 3.1.1, and reconnect with exponential backoff. Never waits for the broker: the
// client is returned at once and keeps trying, so a device starts (and stamps) while offline.
//
// Protocol level: the PCP protocol uses no MQTT 5 feature (correlation is in the payload, see
// sync/topics.ts), so either level carries it. We ask for 5 first, because external brokers (Mosquitto,
// EMQX) then give reason codes in acks and disconnects; a broker that refuses it (the embedded aedes
// broker answers CONNACK 0x01 "unacceptable protocol version", a v5 broker configured for 3.1.1 only
// 0x84) gets 3.1.1 from the next attempt on, and the level is kept for later reconnects.
import { connect, type IClientOptions, type MqttClient } from 'mqtt'

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
  tls?: MqttTls
  /** Default 'auto': MQTT 5, falling back to 3.1.1 when the broker refuses 5. */
  protocolVersion?: ProtocolChoice
  /** First reconnect delay (default 500 ms), doubled after each failed attempt up to maxReconnectMs. */
  minReconnectMs?: number
  /** Default 30 000 ms. */
  maxReconnectMs?: number
  keepaliveSeconds?: number
  connectTimeoutMs?: number
  /** Called with each connection error (refused CONNACK, TLS, socket); the client keeps retrying. */
  onError?: (err: Error & { code?: number | string }) => void
}

const REFUSED_VERSION = new Set([1, 0x84])

export function connectMqtt (opts: MqttConnectOptions): MqttClient {
  if (typeof opts?.url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(opts.url)) throw new TypeError(`"url" expected mqtt://host:port or mqtts://host:port, got ${JSON.stringify(opts?.url)}`)
  const choice = opts.protocolVersion ?? 'auto'
  if (choice !== 'auto' && choice !== 4 && choice !== 5) throw new RangeError(`"protocolVersion" expected 'auto', 4 or 5, got ${String(choice)}`)
  const minMs = opts.minReconnectMs ?? 500
  const maxMs = opts.maxReconnectMs ?? 30_000
  if (!(minMs > 0) || !(maxMs >= minMs)) throw new RangeError(`"minReconnectMs"/"maxReconnectMs" expected 0 < min <= max, got ${minMs}/${maxMs}`)
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
    if (ca) options.ca = ca
    if (cert) options.cert = cert
    if (key) options.key = key
    options.rejectUnauthorized = opts.tls.rejectUnauthorized ?? true
  }
  const client = connect(opts.url, options)
  let delay = minMs
  client.on('error', (err: Error & { code?: number | string }) => {
    if (choice === 'auto' && client.options.protocolVersion === 5 && typeof err.code === 'number' && REFUSED_VERSION.has(err.code)) {
      client.options.protocolVersion = 4
      client.options.reconnectPeriod = 1 // retry at once at 3.1.1: this was not a failure of the broker
      return
    }
    opts.onError?.(err)
  })
  // mqtt.js reads reconnectPeriod at each attempt: grow it on every failure, reset it once connected.
  client.on('close', () => {
    client.options.reconnectPeriod = delay
    delay = Math.min(maxMs, delay * 2)
  })
  client.on('connect', () => { delay = minMs; client.options.reconnectPeriod = minMs })
  return client
}

/** Resolves once the client is connected (or rejects after `ms`). */
export function whenConnected (client: MqttClient, ms = 10_000): Promise<void> {
  if (client.connected) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('connect', ok); reject(new Error(`MQTT: not connected to the broker after ${ms} ms`)) }, ms)
    function ok (): void { clearTimeout(timer); resolve() }
    client.once('connect', ok)
  })
}
