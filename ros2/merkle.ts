// Merkle tree over the message hashes of one window digest (topic_digest events): the RFC 6962 §2.1 /
// RFC 9162 §2.1 tree of runtime/merkle.ts (the one anchors use), with the message hashes as hex, so its
// proofs can be checked with any Certificate Transparency library as well as with verifyInclusion below:
//   leaf(d)     = SHA-256(0x00 || d)          d = the 32 raw bytes of one msg_hash, in message order
//   node(l, r)  = SHA-256(0x01 || l || r)     the 0x00/0x01 prefixes stop a leaf passing for a node
//   MTH(D[n])   = node(MTH(D[0:k]), MTH(D[k:n])), k = the largest power of two < n
// A proof of one message is ceil(log2 n) hashes: 14 hashes (~900 hex chars) for a 10 000-message window.
import * as tree from '../runtime/merkle.js'
import { fromHex, toHex } from '../runtime/encoding.js'

export interface InclusionProof {
  /** Position of the message in its window, from 0. */
  index: number
  /** Number of messages in the window (the digest event's `count`). */
  size: number
  /** Sibling hashes, hex, from the leaf upwards (RFC 9162 §2.1.3.1 order). */
  path: string[]
}

const HEX64 = /^[0-9a-f]{64}$/

function leafBytes (msgHash: string, name: string): Uint8Array {
  if (typeof msgHash !== 'string' || !HEX64.test(msgHash)) {
    throw new TypeError(`"${name}" expected a 64-character lowercase hex SHA-256, got ${JSON.stringify(msgHash)}`)
  }
  return fromHex(msgHash)
}

function checkLeaves (msgHashes: readonly string[]): Uint8Array[] {
  if (!Array.isArray(msgHashes)) throw new TypeError('"msgHashes" expected an array of hex hashes')
  return msgHashes.map((h, i) => leafBytes(h, `msgHashes[${i}]`))
}

export function leafHash (msgHash: string): string {
  return toHex(tree.leafHash(leafBytes(msgHash, 'msgHash')))
}

/** MTH of the message hashes; an empty list gives SHA-256 of nothing, as RFC 6962 defines. */
export function merkleRoot (msgHashes: readonly string[]): string {
  return toHex(tree.merkleRoot(checkLeaves(msgHashes)))
}

/** The audit path (RFC 6962 §2.1.1 PATH) proving that msgHashes[index] is in the window. */
export function proveInclusion (msgHashes: readonly string[], index: number): InclusionProof {
  const leaves = checkLeaves(msgHashes)
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`"index" expected an integer in [0, ${leaves.length}), got ${index}`)
  }
  return { index, size: leaves.length, path: tree.inclusionProof(leaves, index).map(toHex) }
}

/**
 * RFC 9162 §2.1.3.2: true when `msgHash` sits at `proof.index` of a window of `proof.size` messages whose
 * root is `root`. Untrusted input gives false, never a throw.
 */
export function verifyInclusion (msgHash: string, proof: InclusionProof, root: string): boolean {
  if (typeof msgHash !== 'string' || !HEX64.test(msgHash) || typeof root !== 'string' || !HEX64.test(root)) return false
  if (proof === null || typeof proof !== 'object' || !Array.isArray(proof.path)) return false
  if (!proof.path.every((p) => typeof p === 'string' && HEX64.test(p))) return false
  return tree.verifyInclusion(fromHex(msgHash), proof.index, proof.size, proof.path.map(fromHex), fromHex(root))
}
