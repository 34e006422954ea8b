// ML-DSA-65 from @noble/post-quantum (FIPS 204 final, audited noble family, pure JS: same code in Node and
// the browser). Importing this module installs it in runtime/pq.ts's slot.
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js'
import { checkBytes } from './crypto.js'
import { setPqBackend, ML_DSA_65_SIZES, type PqBackend } from './pq.js'

export const nobleMlDsa: PqBackend = {
  name: '@noble/post-quantum ml_dsa65',
  signingKey (seed) {
    checkBytes(seed, ML_DSA_65_SIZES.seed, 'seed')
    const { publicKey, secretKey } = ml_dsa65.keygen(seed)
    seed.fill(0)
    let live = true
    return {
      publicKey,
      // Hedged signing (FIPS 204 §3.4, noble's default: 32 fresh random bytes per signature), so a fault
      // or side channel on one signature does not repeat on the next; verifiers cannot tell the difference.
      sign (message) {
        if (!live) throw new Error('ML-DSA key was destroyed')
        return ml_dsa65.sign(message, secretKey)
      },
      destroy () { live = false; secretKey.fill(0) }
    }
  },
  verify (signature, message, publicKey) {
    if (signature.length !== ML_DSA_65_SIZES.signature || publicKey.length !== ML_DSA_65_SIZES.publicKey) return false
    try { return ml_dsa65.verify(signature, message, publicKey) } catch { return false }
  }
}

setPqBackend(nobleMlDsa)
