// Importing this module gives the process AISS-2: ML-DSA-65 (runtime/mldsa.ts) and the chain rules of
// runtime/profile.ts in runtime/profile-rules.ts's slot. The CLI, the hub, the browser verifier and
// `pcp-edge/aiss2` import it; the core bundle does not.
import './mldsa.js'
import { setProfileRules } from './profile-rules.js'
import { aiss2Rules } from './profile.js'

setProfileRules(aiss2Rules)
