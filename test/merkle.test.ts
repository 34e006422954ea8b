// RFC 6962 Merkle tree: the roots of the Certificate Transparency reference inputs (RFC 6962 §2.1,
// the test vectors every CT log implementation carries), and inclusion proofs for every leaf of trees
// of 1..40 leaves, with every kind of tampering refused.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { merkleRoot, inclusionProof, verifyInclusion, assertInclusion, leafHash, nodeHash } from '../runtime/merkle.js'
import { codeOf } from './helpers.js'

const Merkle = suite('merkle')
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

const CT_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(bytes)
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'
]

Merkle('roots of the CT reference inputs, and the empty tree', () => {
  assert.is(hex(merkleRoot([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  for (let n = 1; n <= 8; n++) assert.is(hex(merkleRoot(CT_INPUTS.slice(0, n))), CT_ROOTS[n - 1], `n=${n}`)
})

Merkle('the 0x00 leaf and 0x01 node prefixes', () => {
  const a = createHash('sha256').update('a').digest()
  assert.is(hex(leafHash(a)), createHash('sha256').update(Buffer.concat([Buffer.from([0]), a])).digest('hex'))
  assert.is(hex(nodeHash(a, a)), createHash('sha256').update(Buffer.concat([Buffer.from([1]), a, a])).digest('hex'))
  // A two-leaf tree's root is not the leaf hash of the concatenated leaves (second-preimage resistance).
  assert.is.not(hex(merkleRoot([a, a])), hex(merkleRoot([new Uint8Array(Buffer.concat([a, a]))])))
})

const events = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(createHash('sha256').update(`event ${i}`).digest()))

Merkle('every leaf of trees of 1..40 leaves has a proof that verifies, and only there', () => {
  for (let n = 1; n <= 40; n++) {
    const leaves = events(n)
    const root = merkleRoot(leaves)
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(leaves, i)
      assert.ok(verifyInclusion(leaves[i]!, i, n, proof, root), `n=${n} i=${i}`)
      if (n > 1) assert.not.ok(verifyInclusion(leaves[(i + 1) % n]!, i, n, proof, root), `other leaf n=${n} i=${i}`)
      if (n > 1) assert.not.ok(verifyInclusion(leaves[i]!, (i + 1) % n, n, proof, root), `other index n=${n} i=${i}`)
      // (The size is not checked by itself: in RFC 9162's algorithm sizes giving the same tree shape agree.)
      if (proof.length) {
        const bad = proof.map((p) => p.slice()); bad[0]![0]! ^= 1
        assert.not.ok(verifyInclusion(leaves[i]!, i, n, bad, root), `flipped proof n=${n} i=${i}`)
        assert.not.ok(verifyInclusion(leaves[i]!, i, n, proof.slice(1), root), `short proof n=${n} i=${i}`)
      }
      assert.not.ok(verifyInclusion(leaves[i]!, i, n, [...proof, root], root), `long proof n=${n} i=${i}`)
    }
  }
})

Merkle('bad input is a false verdict or MERKLE_PROOF_INVALID, never a crash', async () => {
  const leaves = events(5); const root = merkleRoot(leaves)
  assert.not.ok(verifyInclusion(leaves[0]!, -1, 5, [], root))
  assert.not.ok(verifyInclusion(leaves[0]!, 5, 5, [], root))
  assert.not.ok(verifyInclusion(leaves[0]!, 0, 5, ['x' as unknown as Uint8Array], root))
  assert.is(await codeOf((async () => assertInclusion(leaves[0]!, 1, 5, inclusionProof(leaves, 0), root))()), 'MERKLE_PROOF_INVALID')
  assert.throws(() => inclusionProof(leaves, 5), RangeError)
})

Merkle.run()
