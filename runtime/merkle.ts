// RFC 6962 §2.1 Merkle tree over event hashes (the leaves are the 32-byte event hashes, protocol.md
// §3.1): leaf = SHA-256(0x00 ‖ d), node = SHA-256(0x01 ‖ left ‖ right), the split at the largest power
// of two below n. The prefixes keep a leaf from passing for an inner node (second-preimage). Inclusion
// proofs are generated per RFC 6962 §2.1.1 and verified per RFC 9162 §2.1.3.2. Pure.
import { sha256 } from '@noble/hashes/sha2.js'
import { TsaError } from './tsa/errors.js'

export function leafHash (data: Uint8Array): Uint8Array {
  const b = new Uint8Array(data.length + 1)
  b[0] = 0x00; b.set(data, 1)
  return sha256(b)
}

export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(65)
  b[0] = 0x01; b.set(left, 1); b.set(right, 33)
  return sha256(b)
}

function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function checkLeaves (leaves: Uint8Array[]): void {
  // Any byte string is a valid RFC 6962 leaf; the chain uses 32-byte event hashes.
  if (!Array.isArray(leaves)) throw new TypeError('"leaves" expected an array of 32-byte hashes')
  for (let i = 0; i < leaves.length; i++) {
    if (!(leaves[i] instanceof Uint8Array)) throw new TypeError(`"leaves[${i}]" expected a Uint8Array`)
  }
}

function mth (hashed: Uint8Array[], from: number, to: number): Uint8Array {
  const n = to - from
  if (n === 1) return hashed[from]!
  const k = split(n)
  return nodeHash(mth(hashed, from, from + k), mth(hashed, from + k, to))
}

/** MTH(D[n]); the empty tree's root is SHA-256 of nothing. */
export function merkleRoot (leaves: Uint8Array[]): Uint8Array {
  checkLeaves(leaves)
  if (leaves.length === 0) return sha256(new Uint8Array())
  return mth(leaves.map(leafHash), 0, leaves.length)
}

function path (hashed: Uint8Array[], m: number, from: number, to: number, out: Uint8Array[]): void {
  const n = to - from
  if (n === 1) return
  const k = split(n)
  if (m < k) { path(hashed, m, from, from + k, out); out.push(mth(hashed, from + k, to)) } else { path(hashed, m - k, from + k, to, out); out.push(mth(hashed, from, from + k)) }
}

/** PATH(m, D[n]): the audit path of leaf `index`, nearest sibling first. */
export function inclusionProof (leaves: Uint8Array[], index: number): Uint8Array[] {
  checkLeaves(leaves)
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`"index" expected 0..${leaves.length - 1}, got ${index}`)
  const out: Uint8Array[] = []
  path(leaves.map(leafHash), index, 0, leaves.length, out)
  return out
}

/** True iff `proof` leads from `leaf` at `index` of a `size`-leaf tree to `root`. Never throws on bad input. */
export function verifyInclusion (leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!(leaf instanceof Uint8Array) || !(root instanceof Uint8Array) || !Array.isArray(proof)) return false
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  let fn = index; let sn = size - 1
  let r = leafHash(leaf)
  for (const p of proof) {
    if (!(p instanceof Uint8Array) || p.length !== 32 || sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2)
  }
  if (sn !== 0 || r.length !== root.length) return false
  let d = 0
  for (let i = 0; i < r.length; i++) d |= r[i]! ^ root[i]!
  return d === 0
}

/** As verifyInclusion, throwing MERKLE_PROOF_INVALID with the index, for callers that want an error. */
export function assertInclusion (leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): void {
  if (!verifyInclusion(leaf, index, size, proof, root)) {
    throw new TsaError('MERKLE_PROOF_INVALID', `the inclusion proof of leaf ${index} of ${size} does not lead to the anchored root`, { index, field: 'proof' })
  }
}
