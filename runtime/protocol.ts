// The pure protocol core, shared by the Node and browser entries. No I/O, no Node built-ins.
export { Float, MAX_DEPTH, MAX_DOCUMENT_DEPTH, type JsonValue, type JsonObject } from './value.js'
export { parseJson, stringifyJson } from './json.js'
export { canonicalize, canonicalBytes, pyFloatRepr, formatNumber } from './canonical.js'
export { toBase64, fromBase64Strict, toHex, fromHex, toBase58, fromBase58 } from './encoding.js'
export { setCryptoBackend, crypto, type CryptoBackend, type SigningKey } from './crypto.js'
export { Identity, deriveAgentId, isAgentId, parseIdentityDocument, AISS_VERSION } from './identity.js'
export { stampEvent, eventHash, signingBytes, prepareEvent, finishEvent, signPrepared, type EventSignature, chainIntegrityHash, timestampSeconds, type StampOptions } from './event.js'
export { verifyChain, assertChain, checkEventSignature, findForks, findReplays, ChainVerifier, identityFrom, type ChainReport, type ChainProblem, type SignatureVerdict } from './verify.js'
export { createRotationAttestation, verifyRotationAttestation, rotationPayload, ROTATION_EVENT_TYPE, type RotationAttestation } from './rotation.js'
export { buildAuditExport, verifyAuditExport, AUDIT_SPEC, type AuditExport, type ExportReport } from './audit.js'
export { sha256Hex, hashValue } from './privacy.js'
export { statementBytes, signStatement, statementSigner, verifyStatement, STATEMENT_PREFIX, type StatementSigner } from './statement.js'
export { PcpError, ErrorCodes, type ErrorCode } from './errors.js'
export { AISS2_VERSION, TRUSTED_TIMESTAMP_PLACEHOLDER, SIGNATURE_ALGORITHMS, aiss2SigningBytes, type HybridSignatures, type SigFault } from './aiss2-format.js'
export {
  PROFILE_UPGRADE_EVENT_TYPE, ALL_AISS2, setProfileRules, profileRules, coreRules,
  type Profile, type ProfilePolicy, type PqInForce, type ChainKeys, type ProfileRules
} from './profile-rules.js'
export { setPqBackend, pqBackend, ML_DSA_65, ML_DSA_65_SIZES, DILITHIUM3_ROUND3_SIGNATURE_BYTES, type PqBackend, type PqSigningKey } from './pq.js'
export { AISS2_IDENTITY_VERSION } from './identity.js'
export type { AissEvent, UnsignedEvent, IdentityDocument, Stamper } from './types.js'
