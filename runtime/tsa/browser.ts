// Trusted time for the browser: token and anchor verification only (no node:fs, no HTTP client, no
// Anchorer). A separate entry from runtime/browser.ts on purpose: pkijs + asn1js are ~400 KB minified,
// eight times the AISS-1 verifier bundle, which must not absorb them (test/tsa-bundle.test.ts). The
// Vigil verifier page loads it (as anchors.js, hub/vigil/verifier-bundle.ts) only for a chain with anchors.
export { verifyTimestampToken, type TokenCheck, type TokenVerdict } from './verify-token.js'
export { parseTrustRoots, parseCrls, parseOcspResponse } from './trust.js'
export { AnchorVerifier, type AnchorVerdict } from '../anchor/verify-anchors.js'
export { forkAfterFinalization, divergence, type FinalityFork } from '../anchor/finality.js'
export { exportAnchors, countAnchors, compareHistories, anchorProblems, anchorsJson, type ExportAnchors, type AnchorTrust, type AnchorProblem } from '../anchor/export-anchors.js'
export { merkleRoot, inclusionProof, verifyInclusion } from '../merkle.js'
