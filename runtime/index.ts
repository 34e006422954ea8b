// Node entry: node:crypto on the hot path, plus key files, the agent directory and the device store.
import { setCryptoBackend } from './crypto.js'
import { nodeCrypto } from './crypto-node.js'

setCryptoBackend(nodeCrypto)

export * from './protocol.js'
export { nodeCrypto }
export { portableCrypto } from './crypto-portable.js'
export { encryptSeed, decryptSeed, encryptSeeds, decryptSeeds, plaintextKeyFile, parsePlaintextKeyFile, parsePlaintextKeyFileSeeds, SCRYPT_N } from './keyfile.js'
export {
  pcpHome, agentDir, checkAgentName, createAgentIdentity, loadAgentIdentity, unlockedKeyText, loadIdentityFile, readIdentityDocument,
  secureAgentKey, listAgentNames, isKeyEncrypted
} from './home.js'
export { Agent, MAX_EVENT_BYTES, type AgentOpenOptions, type AgentRef } from './agent.js'
export { EventStore, DEFAULT_SYNC_INTERVAL_MS, type Durability, type SearchQuery, type Head } from './store.js'
export { INSPECT_SOCKET, type StoreReader, type LiveInfo } from './store-inspect.js'
export { REPAIR_EVENT_TYPE, type RepairReport } from './store-repair.js'
export { encodeRecord, decodeRecord } from './record.js'
export { openAgentStore, openAgentReader, firstIdentityDocument, writeAuditExport, homeStats, searchHome, type HomeStats } from './memory.js'
export { verifyAuditExportFile, type ExportFileVerdict } from './audit-stream.js'
export * from './a2a/index.js'
