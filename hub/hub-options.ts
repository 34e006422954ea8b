// What a hub is started with (Hub.start, and `pcp hub start` through hub/services.ts). Apart from hub/hub.ts
// so the modules it wires (hub/mqtt-link.ts) read the same options without importing the hub.
import type { Logger } from '../sync/log.js'
import type { MqttConnectOptions } from '../sync/connect.js'
import type { ApprovalMode } from './registry.js'
import type { MetricsRegistry } from './metrics.js'
import type { VigilEngine } from './vigil/engine.js'
import type { InteractionCrossCheck } from './interactions.js'

export interface HubOptions {
  /** Holds store/, agents/hub/ (the hub's own identity), vigil.json, status.json, inbox/. */
  dataDir: string
  /** A postgres:// URL: the chains live in PostgreSQL (hub/store/pg.ts). Absent: LevelDB in <dataDir>/store. */
  store?: string
  /** External broker (`mqtt://`, `mqtts://`). Without it the hub starts its embedded broker. */
  mqttUrl?: string
  /** Embedded broker listen address. Default 127.0.0.1:1883. */
  host?: string
  port?: number
  /** Client options for an external broker (credentials, TLS, protocol level). */
  mqtt?: Omit<MqttConnectOptions, 'url'>
  /** MQTT 5 shared-subscription group, for several hubs behind one clustered broker (docs/scaling.md). */
  shareGroup?: string
  prefix?: string
  approval?: ApprovalMode
  /** Verify worker threads. Default: os.availableParallelism(). 0: verify on the main thread. */
  workers?: number
  metrics?: MetricsRegistry
  /** Default: a new engine, restored from <data>/vigil.json when present. false: no Vigil. */
  vigil?: VigilEngine | false
  /** Default: a new cross-check. false: none. */
  interactions?: InteractionCrossCheck | false
  /** Passphrase of the hub's own key (default $PCP_PASSPHRASE; none: a plaintext key file). */
  passphrase?: string
  /** Unix seconds. */
  now?: () => number
  /** Events accepted but not yet stored, over all agents and per agent (hub/ingest.ts), before HUB_BUSY. */
  maxQueuedEvents?: number
  maxQueuedPerAgent?: number
  /** Default true. false skips fsync (benchmarks only). */
  durable?: boolean
  /**
   * TSA trust roots (DER; runtime/tsa/trust-file.ts reads a PEM file): a fork at a position that a held
   * anchor with a token verifying under them made final is refused as FORK_AFTER_FINALIZATION
   * (hub/finality.ts). Without: every fork is FORK_DETECTED (a token nobody checked proves nothing).
   */
  tsaRoots?: Uint8Array[]
  /** With tsaRoots: CRLs (DER) the anchors' TSA paths are checked against; a revoked TSA finalizes nothing. */
  tsaCrls?: Uint8Array[]
  /** With tsaRoots: OCSP responses (DER) covering the anchors' TSA paths, like tsaCrls (TokenCheck.ocsp). */
  tsaOcsp?: Uint8Array[]
  /** With tsaRoots: fetch what tsaCrls/tsaOcsp leave uncovered from the certificates' OCSP/CRL URLs, at each fork check (TokenCheck.fetchRevocation). */
  tsaFetchRevocation?: boolean
  /** Status file and inbox polling (default true). */
  control?: boolean
  /**
   * Structured log (a pino logger, sync/log.ts): the hub writes through its children { component: 'hub' }
   * (lifecycle, approvals), 'ingest' (devices, refusals, rate, its MQTT client), 'store' (write
   * failures and recovery) and 'broker' (the embedded broker). Default: none.
   */
  logger?: Logger
}
