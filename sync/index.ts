// The device sync subpath (pcp-edge/sync): re-exports only.
export { SyncAgent, type SyncOptions, type SyncSource, type SyncStatus, type AgentSyncStatus } from './agent.js'
export { connectMqtt, whenConnected, type MqttConnectOptions, type MqttTls, type ProtocolChoice } from './connect.js'
export { SyncErrorCodes } from './errors.js'
export type { Phase } from './outbox.js'
export {
  SYNC_KINDS, NACK_CODES, WIRE_VERSION, encodeEnvelope, decodeEnvelope, eventsEnvelope, parseDown,
  type AgentState, type WireHead, type DownEnvelope, type EventsEnvelope, type AckEnvelope, type NackEnvelope, type HeadEnvelope
} from './wire.js'
export { DEFAULT_PREFIX, MAX_PAYLOAD_BYTES, upTopic, downTopic, hubFilter, parseTopic, isAgentIdShape } from './topics.js'
export { DeviceGate, type DeviceGateOptions, type GateVerdict } from './gate.js'
export { MqttA2ATransport, A2A_CHANNEL, a2aTopic } from './a2a-transport.js'
