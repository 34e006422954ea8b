// Small-order and non-canonical Ed25519 public keys (issue 13 #8) are refused wherever a key enters:
// identity documents, rotation targets, A2A messages, and both crypto backends' verify().
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as ed from '@noble/ed25519'
import {
  nodeCrypto, portableCrypto, setCryptoBackend, Identity, deriveAgentId, toBase64, toBase58, verifyAuditExport, verifyChain,
  stampEvent, signingBytes, chainIntegrityHash, eventHash, createRotationAttestation, rotationPayload, createProposal, verifyProposalSignature,
  parseIdentityDocument, type AissEvent, type PcpError
} from '../runtime/index.js'
import { publicKeyProblem } from '../runtime/public-key.js'

const K = suite('public-key')
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))

// The eight points of small order (libsodium's blocklist; the test below checks each against noble).
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'
]
// Encodings of valid points that are not the canonical one: y >= p, and x = 0 with the sign bit set.
const NON_CANONICAL = [
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1, i.e. the identity
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p, sign bit set
  '0100000000000000000000000000000000000000000000000000000000000080' // identity with x's sign bit
]
// With the identity as A and R, S = 0 satisfies [S]B = R + [k]A for every message.
const WEAK = hex(SMALL_ORDER[0]!)
const FORGED_SIG = hex('01' + '00'.repeat(63))

K('the blocklist is what noble says: small order, and the non-canonical ones do not decode strictly', () => {
  for (const h of SMALL_ORDER) assert.ok(ed.Point.fromBytes(hex(h), true).isSmallOrder(), h)
  for (const h of NON_CANONICAL) assert.throws(() => ed.Point.fromBytes(hex(h), false), h)
  for (const h of [...SMALL_ORDER, ...NON_CANONICAL]) assert.type(publicKeyProblem(hex(h)), 'string', h)
  for (let i = 0; i < 50; i++) assert.is(publicKeyProblem(Identity.generate().publicKey), null)
})

K('neither backend verifies anything under a refused key, not even the R = identity, S = 0 forgery', () => {
  for (const b of [nodeCrypto, portableCrypto]) {
    for (const h of [...SMALL_ORDER, ...NON_CANONICAL]) assert.not.ok(b.verify(FORGED_SIG, new TextEncoder().encode('anything'), hex(h)), `${b.name} ${h}`)
  }
})

/** A chain "signed" by the weak key: what an attacker without any key can produce. */
function forgedExport (): Record<string, unknown> {
  const identity = { version: 'AISS-1.0', agent_id: deriveAgentId(WEAK), public_key: toBase64(WEAK), algorithm: 'Ed25519', created_at: 1700000000 }
  const unsigned = { version: 'AISS-1.0', agent_id: identity.agent_id, timestamp: 1700000001, nonce: 'n-1', payload: { event_type: 'forged' }, previous_hash: null }
  const event = { ...unsigned, signature: toBase64(FORGED_SIG) } as AissEvent
  return { spec: 'AISS-1.0-AUDIT', agent_identity: identity, events: [event], chain_integrity_hash: chainIntegrityHash([eventHash(event)]), exported_at: 1700000002 }
}

K('an export under a small-order key does not verify, with either backend installed', () => {
  try {
    for (const b of [portableCrypto, nodeCrypto]) {
      setCryptoBackend(b)
      const r = verifyAuditExport(forgedExport())
      assert.ok(r.usable)
      if (!r.usable) return
      assert.is(r.report.valid, false, b.name)
      assert.is(r.report.errors[0]!.code, 'IDENTITY_INVALID', JSON.stringify(r.report.errors))
      assert.ok(!r.report.errors.some((e) => e.code === 'EXPORT_HASH_MISMATCH'), 'no spurious hash mismatch (issue 13 #10)')
    }
  } finally { setCryptoBackend(nodeCrypto) }
  try { parseIdentityDocument(forgedExport().agent_identity); assert.unreachable() } catch (e) { assert.is((e as PcpError).code, 'IDENTITY_INVALID'); assert.is((e as PcpError).field, 'public_key') }
})

K('a rotation to a small-order key is refused, so nobody can append after it', () => {
  const id = Identity.generate()
  const genesis = stampEvent(id, { event_type: 'boot' }, { previousHash: id.genesisHash(), timestamp: 1700000000 })
  const rot = stampEvent(id, rotationPayload(createRotationAttestation(id, WEAK, 1700000001)), { previousHash: genesis.hash, timestamp: 1700000001 })
  const unsigned = { version: 'AISS-1.0', agent_id: deriveAgentId(WEAK), timestamp: 1700000002, nonce: 'n-2', payload: { event_type: 'appended_by_anyone' }, previous_hash: rot.hash }
  assert.ok(signingBytes(unsigned).length > 0)
  const after = { ...unsigned, signature: toBase64(FORGED_SIG) } as AissEvent
  const report = verifyChain([genesis.event, rot.event, after], id.document())
  assert.is(report.valid, false)
  assert.is(report.errors[0]!.code, 'ROTATION_INVALID', JSON.stringify(report.errors))
  assert.is(report.errors[0]!.index, 1)
})

K('an A2A proposal carrying a small-order key is refused as malformed', () => {
  const signer = { agentId: deriveAgentId(WEAK), publicKey: WEAK, sign: () => FORGED_SIG }
  const proposal = createProposal(signer, { now: Date.now(), ttlSeconds: 60 })
  assert.is(proposal.public_key, toBase58(WEAK))
  try { verifyProposalSignature(proposal); assert.unreachable() } catch (e) { assert.is((e as PcpError).code, 'A2A_MESSAGE_MALFORMED'); assert.is((e as PcpError).field, 'public_key') }
})

K.run()
