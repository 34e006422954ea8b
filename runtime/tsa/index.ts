// pcp-edge/tsa: trusted time (RFC 3161 tokens, RFC 6962 Merkle proofs). A separate entry so the
// core and its browser bundle never pull in pkijs/asn1js.
export { verifyTimestampToken, type TokenCheck, type TokenInfo, type TokenVerdict } from './verify-token.js'
export { buildTimestampRequest, type TimestampRequest } from './request.js'
export { requestTimestamp, type TsaClientOptions } from './client.js'
export { parseTrustRoots, parseCrls, parseOcspResponse } from './trust.js'
export { readTrustRootsFile, readCrlFile, readOcspFile } from './trust-file.js'
export type { RevocationSources } from './revocation-check.js'
export { httpRevocationFetcher, type RevocationFetcher, type HttpRevocationFetcherOptions } from './revocation-fetch.js'
export { TsaErrorCodes, TsaError, type TsaErrorCode } from './errors.js'
export { merkleRoot, inclusionProof, verifyInclusion, assertInclusion, leafHash, nodeHash } from '../merkle.js'
export { Anchorer, ANCHOR_STATE_META, ANCHOR_STATUS_FILE, type AnchorOptions, type AnchorState, type AnchorStatus, type PendingAnchor } from '../anchor/anchorer.js'
export { AnchorVerifier, ANCHOR_CLOCK_TOLERANCE_S, type AnchorVerdict } from '../anchor/verify-anchors.js'
export { anchorPayload, parseAnchorPayload, ANCHOR_EVENT_TYPE, ANCHOR_TREE, type AnchorRecord } from '../anchor/payload.js'
