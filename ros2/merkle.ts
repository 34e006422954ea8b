// Merkle tree over the message hashes of one window digest (topic_digest events). The tree is RFC 6962
// §2.1 / RFC 9162 §2.1 exactly (the Certificate Transparency tree), so its proofs can be checked with
// any CT library as well as with verifyInclusion below:
//   leaf(d)     = SHA-256(0x00 || d)          d = the 32 raw bytes of one msg_hash, in message order
//   node(l, r)  = SHA-256(0x01 || l || r)     the 0x00/0x01 prefixes stop a leaf passing for a node
//   MTH(D[n])   = node(MTH(D[0:k]), MTH(D[k:n])), k = the largest power of two < n
// A proof of one message is ceil(log2 n) hashes: 14 hashes (~900 hex chars) for a 10 000-message window.
import { createHash } from 'node:crypto'

export interface InclusionProof {
  /** Position of the message in its window, from 0. */
  index: number
  /** Number of messages in the window (the digest event's `count`). */
  size: number
  /** Sibling hashes, hex, from the leaf upwards (RFC 9162 §2.1.3.1 order). */
  path: string[]
}

const HEX64 = /^[0-9a-f]{64}$/

function sha256 (...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)

function leafBytes (msgHash: string, name: string): Buffer {
  if (typeof msgHash !== 'string' || !HEX64.test(msgHash)) {
    throw new TypeError(`"${name}" expected a 64-character lowercase hex SHA-256, got ${JSON.stringify(msgHash)}`)
  }
  return Buffer.from(msgHash, 'hex')
}

export function leafHash (msgHash: string): string {
  return sha256(LEAF, leafBytes(msgHash, 'msgHash')).toString('hex')
}

function largestPowerOfTwoBelow (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function mth (leaves: Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return sha256(LEAF, leaves[lo]!)
  const k = largestPowerOfTwoBelow(hi - lo)
  return sha256(NODE, mth(leaves, lo, lo + k), mth(leaves, lo + k, hi))
}

function checkLeaves (msgHashes: readonly string[]): Buffer[] {
  if (!Array.isArray(msgHashes)) throw new TypeError('"msgHashes" expected an array of hex hashes')
  return msgHashes.map((h, i) => leafBytes(h, `msgHashes[${i}]`))
}

/** MTH of the message hashes; an empty list gives SHA-256 of nothing, as RFC 6962 defines. */
export function merkleRoot (msgHashes: readonly string[]): string {
  const leaves = checkLeaves(msgHashes)
  if (leaves.length === 0) return sha256().toString('hex')
  return mth(leaves, 0, leaves.length).toString('hex')
}

function path (leaves: Buffer[], m: number, lo: number, hi: number, out: Buffer[]): void {
  if (hi - lo === 1) return
  const k = largestPowerOfTwoBelow(hi - lo)
  if (m < k) {
    path(leaves, m, lo, lo + k, out)
    out.push(mth(leaves, lo + k, hi))
  } else {
    path(leaves, m - k, lo + k, hi, out)
    out.push(mth(leaves, lo, lo + k))
  }
}

/** The audit path (RFC 6962 §2.1.1 PATH) proving that msgHashes[index] is in the window. */
export function proveInclusion (msgHashes: readonly string[], index: number): InclusionProof {
  const leaves = checkLeaves(msgHashes)
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`"index" expected an integer in [0, ${leaves.length}), got ${index}`)
  }
  const out: Buffer[] = []
  path(leaves, index, 0, leaves.length, out)
  return { index, size: leaves.length, path: out.map((b) => b.toString('hex')) }
}

/**
 * RFC 9162 §2.1.3.2: true when `msgHash` sits at `proof.index` of a window of `proof.size` messages whose
 * root is `root`. Untrusted input gives false, never a throw.
 */
export function verifyInclusion (msgHash: string, proof: InclusionProof, root: string): boolean {
  if (typeof msgHash !== 'string' || !HEX64.test(msgHash) || typeof root !== 'string' || !HEX64.test(root)) return false
  if (proof === null || typeof proof !== 'object' || !Array.isArray(proof.path)) return false
  const { index, size } = proof
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  if (!proof.path.every((p) => typeof p === 'string' && HEX64.test(p))) return false
  let fn = index
  let sn = size - 1
  let r = sha256(LEAF, Buffer.from(msgHash, 'hex'))
  for (const hex of proof.path) {
    if (sn === 0) return false
    const p = Buffer.from(hex, 'hex')
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(NODE, p, r)
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
    } else {
      r = sha256(NODE, r, p)
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2)
  }
  return sn === 0 && r.toString('hex') === root
}
