// Browser entry: the verifier with the portable @noble backend and no Node built-ins. An auditor can
// check an exported chain in a browser without trusting the hub that served it.
import { setCryptoBackend } from './crypto.js'
import { portableCrypto } from './crypto-portable.js'
// ML-DSA-65 for AISS-2 events: the browser verifier applies the same profile rule as the CLI and the hub.
import './aiss2-install.js'

setCryptoBackend(portableCrypto)

export * from './protocol.js'
export { checkSignedEvent, advanceKeys, requiredProfile, parseUpgradePayload, profileUpgradePayload, ALWAYS_AISS2 } from './profile.js'
export { portableCrypto }
