// `pcp-edge/aiss2`: the Node entry plus AISS-2 (ML-DSA-65 and the profile rules, runtime/aiss2-install.ts).
// A separate entry so the core bundle (runtime/index.ts) stays within its budget for AISS-1 devices.
import './index.js'
import './aiss2-install.js'

export * from './index.js'
export { nobleMlDsa } from './mldsa.js'
export { checkHybridSignatures } from './aiss2-event.js'
export {
  ALWAYS_AISS2, checkSignedEvent, advanceKeys, requiredProfile, profileUpgradePayload, parseUpgradePayload, parseProfilePolicy, classicalVerdict,
  pqToJSON, pqFromJSON, aiss2Rules, type PqInForceJSON
} from './profile.js'
