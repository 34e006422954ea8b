// RFC 3161 token verification (runtime/tsa/verify-token.ts) against a real TSA on loopback: OpenSSL's
// `ts -reply` with a throwaway CA made per run (test/support/openssl-tsa.ts), and the reference vector
// of ../shared/spec/tsa_vectors.json. Each bad token is refused with its own code.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { verifyTimestampToken, type TokenVerdict } from '../runtime/tsa/verify-token.js'
import { buildTimestampRequest } from '../runtime/tsa/request.js'
import { requestTimestamp } from '../runtime/tsa/client.js'
import { parseTrustRoots } from '../runtime/tsa/trust.js'
import { startLoopbackTsa, opensslHasTs, type LoopbackTsa } from './support/openssl-tsa.js'
import { ROOT, codeOf } from './helpers.js'

const Tsa = suite('tsa-verify')
const run = promisify(execFile)
const vectors = JSON.parse(readFileSync(join(ROOT, '..', 'shared', 'spec', 'tsa_vectors.json'), 'utf8'))
const sha256 = (b: Uint8Array | string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest())
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n))
const codeOfVerdict = (v: TokenVerdict): string => v.ok ? 'ok' : v.code

let tsa: LoopbackTsa
const ctx: { imprint: Uint8Array, nonce: bigint, reply: Uint8Array, roots: Uint8Array[] } = {} as never

// Set up in the first test, not a hook: uvu swallows errors thrown in hooks (STYLE.md).
Tsa('setup: openssl has "ts", a loopback TSA answers a request with a nonce', async () => {
  assert.ok(await opensslHasTs(), 'this openssl has no "ts" command')
  tsa = await startLoopbackTsa()
  ctx.imprint = sha256('an anchored root')
  const req = buildTimestampRequest(ctx.imprint, rnd)
  ctx.nonce = req.nonce
  ctx.reply = await requestTimestamp(req.der, { url: tsa.url })
  ctx.roots = parseTrustRoots(tsa.root.pem)
  assert.is(tsa.served, 1)
})
Tsa.after(async () => { await tsa?.close() })

Tsa('the reference vector verifies against its root, genTime from the token', async () => {
  const v = await verifyTimestampToken(new Uint8Array(Buffer.from(vectors.timestamp_resp_der_b64, 'base64')), {
    imprint: sha256(vectors.imprinted_data), trustRoots: parseTrustRoots(vectors.tsa_root_ca_pem)
  })
  assert.ok(v.ok, JSON.stringify(v))
  if (!v.ok) return
  assert.is(v.genTime.toISOString(), '2026-12-02T07:11:30.000Z')
  assert.is(v.policy, vectors.expected.policy)
  assert.is(v.hashAlgorithm, vectors.expected.tstinfo_hash_alg)
  assert.is(v.status, vectors.expected.pki_status)
  assert.is(v.nonce, undefined) // the reference sends none
  assert.is(Buffer.from(sha256(vectors.imprinted_data)).toString('hex'), vectors.message_imprint_sha256_hex)
})

Tsa('the reference vector: its imprint and root are checked, and it carries no nonce to match', async () => {
  const der = new Uint8Array(Buffer.from(vectors.timestamp_resp_der_b64, 'base64'))
  const roots = parseTrustRoots(vectors.tsa_root_ca_pem)
  assert.is(codeOfVerdict(await verifyTimestampToken(der, { imprint: sha256(vectors.event_hash_for_comparison), trustRoots: roots })), 'TSA_IMPRINT_MISMATCH')
  assert.is(codeOfVerdict(await verifyTimestampToken(der, { imprint: sha256(vectors.imprinted_data), trustRoots: ctx.roots })), 'TSA_CHAIN_UNTRUSTED')
  assert.is(codeOfVerdict(await verifyTimestampToken(der, { imprint: sha256(vectors.imprinted_data), trustRoots: roots, nonce: 1n })), 'TSA_NONCE_MISMATCH')
})

Tsa('a token from the loopback TSA verifies: nonce echoed, genTime now, OpenSSL agrees', async () => {
  const v = await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: ctx.nonce, policies: ['1.2.3.4.1'] })
  assert.ok(v.ok, v.ok ? '' : v.message)
  if (!v.ok) return
  assert.is(v.nonce, ctx.nonce)
  assert.ok(Math.abs(v.genTime.getTime() - Date.now()) < 120_000, v.genTimeText)
  assert.is(v.tsaSubject, 'CN=Test TSA')
  // OpenSSL's own verifier accepts the same bytes (our request and its reply are real RFC 3161).
  const f = join(tsa.dir, 'check.tsr')
  await writeFile(f, ctx.reply)
  const { stdout } = await run('openssl', ['ts', '-verify', '-in', f, '-digest', Buffer.from(ctx.imprint).toString('hex'), '-CAfile', tsa.root.cert])
  assert.match(stdout, /Verification: OK/)
})

Tsa('without WebCrypto the verdict says so (TSA_CRYPTO_UNAVAILABLE), not TSA_SIGNATURE_INVALID of a good token', async () => {
  const desc = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true })
  let v
  try { v = await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: ctx.nonce }) } finally { Object.defineProperty(globalThis, 'crypto', desc) }
  assert.is(codeOfVerdict(v), 'TSA_CRYPTO_UNAVAILABLE')
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: ctx.nonce })), 'ok')
})

Tsa('wrong imprint → TSA_IMPRINT_MISMATCH', async () => {
  const other = ctx.imprint.slice(); other[31]! ^= 1
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply, { imprint: other, trustRoots: ctx.roots })), 'TSA_IMPRINT_MISMATCH')
})

Tsa('nonce mismatch → TSA_NONCE_MISMATCH', async () => {
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: ctx.nonce + 1n })), 'TSA_NONCE_MISMATCH')
})

Tsa('untrusted root → TSA_CHAIN_UNTRUSTED (and no roots at all is a configuration error)', async () => {
  const other = await tsa.newRoot('Other Root')
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: [other.der] })), 'TSA_CHAIN_UNTRUSTED')
  // A TSA certified by a root nobody configured: signature and profile fine, path not.
  const rogue = await tsa.issue('Rogue TSA', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping'], other)
  const req = buildTimestampRequest(ctx.imprint, rnd)
  const token = await tsa.reply(req.der, rogue)
  assert.is(codeOfVerdict(await verifyTimestampToken(token, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: req.nonce })), 'TSA_CHAIN_UNTRUSTED')
  assert.is(codeOfVerdict(await verifyTimestampToken(token, { imprint: ctx.imprint, trustRoots: [other.der], nonce: req.nonce })), 'ok')
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: [] })), 'TSA_NO_TRUST_ROOTS')
})

/** The TSTInfo DER inside a token, to re-sign it with another certificate. */
function tstInfoOf (reply: Uint8Array): Uint8Array {
  const resp = new pkijs.TimeStampResp({ schema: asn1js.fromBER(reply.slice().buffer).result })
  const sd = new pkijs.SignedData({ schema: resp.timeStampToken!.content })
  return new Uint8Array(sd.encapContentInfo.eContent!.getValue())
}

Tsa('wrong EKU → TSA_EKU_INVALID (a CAdES re-signature by the right TSA verifies: only the EKU differs)', async () => {
  const tst = tstInfoOf(ctx.reply)
  const good = await tsa.cmsSign(tst, tsa.tsa)
  assert.is(codeOfVerdict(await verifyTimestampToken(good, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: ctx.nonce })), 'ok')
  const serverAuth = await tsa.issue('Web Server', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,serverAuth'])
  assert.is(codeOfVerdict(await verifyTimestampToken(await tsa.cmsSign(tst, serverAuth), { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_EKU_INVALID')
  const nonCritical = await tsa.issue('Lax TSA', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=timeStamping'])
  assert.is(codeOfVerdict(await verifyTimestampToken(await tsa.cmsSign(tst, nonCritical), { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_EKU_INVALID')
  const noEku = await tsa.issue('No EKU', ['keyUsage=critical,digitalSignature'])
  assert.is(codeOfVerdict(await verifyTimestampToken(await tsa.cmsSign(tst, noEku), { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_EKU_INVALID')
  const encipher = await tsa.issue('Enc TSA', ['keyUsage=critical,keyAgreement', 'extendedKeyUsage=critical,timeStamping'])
  assert.is(codeOfVerdict(await verifyTimestampToken(await tsa.cmsSign(tst, encipher), { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_KEY_USAGE_INVALID')
})

/** Index of `needle` in `hay`, asserting exactly one occurrence. */
function findOnce (hay: Uint8Array, needle: Uint8Array): number {
  const at = Buffer.from(hay).indexOf(Buffer.from(needle))
  assert.ok(at >= 0, 'pattern present')
  assert.is(Buffer.from(hay).indexOf(Buffer.from(needle), at + 1), -1, 'pattern unique')
  return at
}

Tsa('tampered signed attributes → TSA_SIGNATURE_INVALID; tampered TSTInfo → TSA_MESSAGE_DIGEST_MISMATCH', async () => {
  // signingTime (1.2.840.113549.1.9.5) holds a UTCTime: change its last digit of seconds.
  const sigTimeOid = new Uint8Array([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05])
  const t = ctx.reply.slice()
  const at = findOnce(t, sigTimeOid) + sigTimeOid.length + 2 /* SET hdr */ + 2 /* UTCTime hdr */ + 11
  t[at] = t[at] === 0x30 ? 0x31 : 0x30
  assert.is(codeOfVerdict(await verifyTimestampToken(t, { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_SIGNATURE_INVALID')
  // The policy OID 1.2.3.4.1 inside the TSTInfo → 1.2.3.4.2: the messageDigest attribute no longer matches.
  const u = ctx.reply.slice()
  const p = findOnce(u, new Uint8Array([0x06, 0x04, 0x2a, 0x03, 0x04, 0x01]))
  u[p + 5] = 0x02
  assert.is(codeOfVerdict(await verifyTimestampToken(u, { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_MESSAGE_DIGEST_MISMATCH')
  // A flipped signature byte.
  const s = ctx.reply.slice(); s[s.length - 2]! ^= 0x01
  assert.ok(['TSA_SIGNATURE_INVALID', 'TSA_TOKEN_MALFORMED'].includes(codeOfVerdict(await verifyTimestampToken(s, { imprint: ctx.imprint, trustRoots: ctx.roots }))))
})

Tsa('no ESS signingCertificate → TSA_ESS_MISSING; a substituted certificate (same key, same serial) → TSA_ESS_MISMATCH', async () => {
  const tst = tstInfoOf(ctx.reply)
  const noCades = await tsa.cmsSign(tst, tsa.tsa, { cades: false })
  assert.is(codeOfVerdict(await verifyTimestampToken(noCades, { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_ESS_MISSING')
  // The same key certified again under the same issuer and serial with another subject: the SID and
  // the signature still match; only the ESS certHash tells the certificate was swapped.
  // An ECDSA signature's DER length varies by a byte or two: reissue until it fits in place.
  let twin = await tsa.reissue(tsa.tsa, 'Twin TSA')
  for (let i = 0; i < 20 && twin.der.length !== tsa.tsa.der.length; i++) twin = await tsa.reissue(tsa.tsa, 'Twin TSA')
  const swapped = Buffer.from(noCades.length ? await tsa.cmsSign(tst, tsa.tsa) : new Uint8Array())
  const a = findOnce(swapped, tsa.tsa.der)
  assert.is(twin.der.length, tsa.tsa.der.length)
  const out = new Uint8Array(swapped); out.set(twin.der, a)
  assert.is(codeOfVerdict(await verifyTimestampToken(out, { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_ESS_MISMATCH')
})

Tsa('the forged "MAA=" token, empty and junk bytes → TSA_TOKEN_MALFORMED; a TSA refusal → TSA_STATUS_REJECTED', async () => {
  for (const b of ['MAA=', '', 'MAMCAQI=', 'AAAA']) {
    assert.is(codeOfVerdict(await verifyTimestampToken(new Uint8Array(Buffer.from(b, 'base64')), { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_TOKEN_MALFORMED', b)
  }
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply.subarray(0, 200), { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_TOKEN_MALFORMED')
  // A SHA-1 imprint: OpenSSL's TSA answers PKIStatus 2 (rejection, failInfo badAlg).
  const sha1Req = Buffer.from('302902010130213009' + '06052b0e03021a0500' + '0414' + 'aa'.repeat(20) + '0101ff', 'hex')
  const refusal = await tsa.reply(new Uint8Array(sha1Req))
  assert.is(codeOfVerdict(await verifyTimestampToken(refusal, { imprint: ctx.imprint, trustRoots: ctx.roots })), 'TSA_STATUS_REJECTED')
})

Tsa('policy not accepted → TSA_POLICY_REJECTED', async () => {
  assert.is(codeOfVerdict(await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: ctx.roots, policies: ['1.2.3.4.5'] })), 'TSA_POLICY_REJECTED')
})

Tsa('the client: HTTP errors and an unreachable TSA are coded', async () => {
  const req = buildTimestampRequest(ctx.imprint, rnd)
  tsa.failing = true
  try { assert.is(await codeOf(requestTimestamp(req.der, { url: tsa.url })), 'TSA_HTTP_ERROR') } finally { tsa.failing = false }
  assert.is(await codeOf(requestTimestamp(req.der, { url: 'http://127.0.0.1:1/tsr', timeoutMs: 2000 })), 'TSA_UNAVAILABLE')
  assert.throws(() => buildTimestampRequest(new Uint8Array(31), rnd), RangeError)
})

Tsa('cost: one token verification', async () => {
  const n = 50
  const t0 = performance.now()
  for (let i = 0; i < n; i++) assert.ok((await verifyTimestampToken(ctx.reply, { imprint: ctx.imprint, trustRoots: ctx.roots, nonce: ctx.nonce })).ok)
  const us = (performance.now() - t0) / n * 1000
  console.log(`  token verify: ${us.toFixed(0)} µs/token (P-256 TSA, one-level chain), reply ${ctx.reply.length} bytes`)
})

Tsa.run()
