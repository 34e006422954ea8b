// Browser entry: the verifier with the portable @noble backend and no Node built-ins. An auditor can
// check an exported chain in a browser without trusting the hub that served it.
import { setCryptoBackend } from './crypto.js'
import { portableCrypto } from './crypto-portable.js'

setCryptoBackend(portableCrypto)

export * from './protocol.js'
export { portableCrypto }
