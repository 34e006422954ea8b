import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { leafHash, merkleRoot, proveInclusion, verifyInclusion } from '../ros2/merkle.js'

const M = suite('ros2 merkle (RFC 6962 tree over message hashes)')
const sha = (...parts: Buffer[]): Buffer => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest() }
const hashes = (n: number): string[] => Array.from({ length: n }, (_, i) => sha(Buffer.from(`msg ${i}`)).toString('hex'))

/** An independent MTH, written straight from RFC 6962 §2.1 with slices, to cross-check merkle.ts. */
function referenceRoot (leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha()
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!)
  let k = 1
  while (k << 1 < leaves.length) k <<= 1
  return sha(Buffer.from([1]), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)))
}

M('root matches an independent RFC 6962 implementation for 0..70 leaves', () => {
  for (let n = 0; n <= 70; n++) {
    const hs = hashes(n)
    assert.is(merkleRoot(hs), referenceRoot(hs.map((h) => Buffer.from(h, 'hex'))).toString('hex'), `n=${n}`)
  }
  assert.is(merkleRoot([]), sha().toString('hex'))
  assert.is(merkleRoot(hashes(1)), leafHash(hashes(1)[0]!))
})

M('every message of every window size up to 40 has a proof that verifies', () => {
  for (let n = 1; n <= 40; n++) {
    const hs = hashes(n)
    const root = merkleRoot(hs)
    for (let i = 0; i < n; i++) {
      const proof = proveInclusion(hs, i)
      assert.is(proof.size, n)
      assert.ok(proof.path.length <= Math.ceil(Math.log2(n)), `path length n=${n}`)
      assert.ok(verifyInclusion(hs[i]!, proof, root), `n=${n} i=${i}`)
    }
  }
})

M('a proof does not verify for another message, index, size, root or a tampered path', () => {
  const hs = hashes(13)
  const root = merkleRoot(hs)
  const proof = proveInclusion(hs, 6)
  assert.not.ok(verifyInclusion(hs[7]!, proof, root))
  assert.not.ok(verifyInclusion(hs[6]!, { ...proof, index: 7 }, root))
  // size shapes the path; the verifier must take it from the signed event's count (13 here), since
  // a size giving the same shape (14) cannot be told apart from the proof alone
  assert.not.ok(verifyInclusion(hs[6]!, { ...proof, size: 7 }, root))
  assert.not.ok(verifyInclusion(hs[6]!, proof, merkleRoot(hs.slice(0, 12))))
  const bad = [...proof.path]; bad[1] = bad[1]!.replace(/^./, (c) => (c === '0' ? '1' : '0'))
  assert.not.ok(verifyInclusion(hs[6]!, { ...proof, path: bad }, root))
  assert.not.ok(verifyInclusion(hs[6]!, { ...proof, path: proof.path.slice(1) }, root))
  assert.not.ok(verifyInclusion(hs[6]!, { ...proof, path: [...proof.path, proof.path[0]!] }, root))
})

M('untrusted garbage gives false, never a throw', () => {
  const hs = hashes(4)
  const root = merkleRoot(hs)
  for (const p of [null, {}, { index: 0, size: 4 }, { index: -1, size: 4, path: [] }, { index: 0, size: 4, path: ['zz'] }, { index: 1.5, size: 4, path: [] }]) {
    assert.is(verifyInclusion(hs[0]!, p as never, root), false)
  }
  assert.is(verifyInclusion('nothex', proveInclusion(hs, 0), root), false)
  assert.is(verifyInclusion(hs[0]!, proveInclusion(hs, 0), 'ROOT'), false)
})

M('programmer mistakes throw, naming the argument', () => {
  assert.throws(() => merkleRoot(['abc']), (e: Error) => e instanceof TypeError && e.message.includes('msgHashes[0]'))
  assert.throws(() => proveInclusion(hashes(3), 3), (e: Error) => e instanceof RangeError && e.message.includes('"index"'))
})

M('a 10 000-message window: proof of 14 hashes, built and checked quickly', () => {
  const hs = hashes(10_000)
  const t0 = performance.now()
  const root = merkleRoot(hs)
  const proof = proveInclusion(hs, 4321)
  const ms = performance.now() - t0
  assert.is(proof.path.length, 14)
  assert.ok(verifyInclusion(hs[4321]!, proof, root))
  assert.ok(ms < 2000, `root + proof took ${ms.toFixed(0)} ms`)
})

M.run()
