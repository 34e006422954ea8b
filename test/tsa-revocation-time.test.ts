// The time rule of revocation evidence issued after genTime (runtime/tsa/revocation.ts,
// statusTimeProblem): a CRL or OCSP answer made later lists every revocation up to its issue, but only
// while the certificate had not expired then; after expiry a CA may drop it from its lists, so such
// evidence proves nothing. Checked at the evidence level (crlEvidence, ocspEvidence take genTime as an
// argument), with certificates `openssl ca -startdate/-enddate` issues valid in the past, CRLs whose
// thisUpdate `openssl ca -gencrl -crl_lastupdate` sets, and OCSP answers `openssl ocsp` makes now (its
// thisUpdate is the clock's), so the certificates' expiry is set around now instead.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type * as pkijs from 'pkijs'
import { certificate } from '../runtime/tsa/verify-token.js'
import { crlEvidence, revocationList, type Evidence } from '../runtime/tsa/revocation.js'
import { ocspEvidence, ocspResponse } from '../runtime/tsa/ocsp.js'
import { parseCrls } from '../runtime/tsa/trust.js'
import { startLoopbackTsa, type LoopbackTsa, type CertFiles } from './support/openssl-tsa.js'
import { respond } from './support/openssl-ocsp.js'

const run = promisify(execFile)
const Time = suite('tsa-revocation-time')
/** YYYYMMDDHHMMSSZ: what -startdate/-enddate and -crl_lastupdate take (GeneralizedTime form). */
const asn1Time = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z')
const codeOf = (e: Evidence): string => typeof e === 'object' ? e.code : e
const messageOf = (e: Evidence): string => typeof e === 'object' ? e.message : e

let tsa: LoopbackTsa
let conf: string
const pk = (c: CertFiles): pkijs.Certificate => certificate(c.der)

async function caConf (): Promise<string> {
  const id = randomBytes(6).toString('hex')
  const file = join(tsa.dir, `${id}.ca.cnf`)
  await writeFile(join(tsa.dir, `${id}.index`), '')
  await writeFile(join(tsa.dir, `${id}.serial`), '1000\n')
  await writeFile(join(tsa.dir, `${id}.crlnumber`), '01\n')
  await writeFile(file, `[ca]\ndefault_ca = c\n[c]\ndatabase = ${join(tsa.dir, `${id}.index`)}\nnew_certs_dir = ${tsa.dir}\nserial = ${join(tsa.dir, `${id}.serial`)}\ncrlnumber = ${join(tsa.dir, `${id}.crlnumber`)}\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`)
  return file
}

/** A TSA certificate by the root, valid from `from` to `to` (`openssl ca` takes dates in the past). */
async function issueBetween (name: string, from: Date, to: Date): Promise<CertFiles> {
  const key = join(tsa.dir, `${name}.key`); const csr = join(tsa.dir, `${name}.csr`); const cert = join(tsa.dir, `${name}.pem`)
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
  await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`])
  await run('openssl', ['ca', '-batch', '-notext', '-config', conf, '-extensions', 'v3', '-cert', tsa.root.cert, '-keyfile', tsa.root.key, '-in', csr, '-out', cert, '-startdate', asn1Time(from), '-enddate', asn1Time(to)])
  const pem = await readFile(cert, 'utf8')
  return { cert, key, pem, der: new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')) }
}

/** An (empty) CRL by the root with thisUpdate `at` and nextUpdate 30 days later. */
async function crlIssuedAt (at: Date): Promise<pkijs.CertificateRevocationList> {
  const out = join(tsa.dir, `${randomBytes(6).toString('hex')}.crl.pem`)
  await run('openssl', ['ca', '-gencrl', '-config', conf, '-cert', tsa.root.cert, '-keyfile', tsa.root.key, '-out', out, '-crl_lastupdate', asn1Time(at), '-crl_nextupdate', asn1Time(new Date(at.getTime() + 30 * 86400_000))])
  const [der] = parseCrls(await readFile(out, 'utf8'), out)
  return revocationList(der!)
}

const from = new Date('2020-01-01T00:00:00Z'); const until = new Date('2021-01-01T00:00:00Z')
const genTime = new Date('2020-06-01T00:00:00Z')
const ctx: { past: CertFiles } = {} as never

Time('setup: a TSA certificate valid in 2020 only, issued by `openssl ca -startdate/-enddate`', async () => {
  tsa = await startLoopbackTsa()
  conf = await caConf()
  ctx.past = await issueBetween('Past TSA', from, until)
  const c = pk(ctx.past)
  assert.equal([c.notBefore.value.toISOString(), c.notAfter.value.toISOString()], [from.toISOString(), until.toISOString()])
})
Time.after(async () => { await tsa?.close() })

Time('a CRL issued after genTime, the certificate still valid then: it speaks (good)', async () => {
  const crl = await crlIssuedAt(new Date('2020-09-01T00:00:00Z'))
  assert.is(codeOf(await crlEvidence(pk(ctx.past), pk(tsa.root), [crl], genTime, 'signer')), 'good')
  // at the second the certificate expires it was still valid (RFC 5280 §4.1.2.5: notAfter is inclusive)
  const atExpiry = await crlIssuedAt(until)
  assert.is(codeOf(await crlEvidence(pk(ctx.past), pk(tsa.root), [atExpiry], genTime, 'signer')), 'good')
})

Time('a CRL issued after the certificate expired: TSA_CRL_INVALID, saying so (the CA may have dropped it)', async () => {
  for (const at of [new Date(until.getTime() + 1000), new Date('2021-06-01T00:00:00Z')]) {
    const crl = await crlIssuedAt(at)
    const e = await crlEvidence(pk(ctx.past), pk(tsa.root), [crl], genTime, 'signer')
    assert.is(codeOf(e), 'TSA_CRL_INVALID', at.toISOString())
    assert.match(messageOf(e), /after certificate "CN=Past TSA" expired \(2021-01-01T00:00:00\.000Z\)/)
    assert.is((e as { field: string }).field, 'crls')
  }
})

Time('an OCSP answer made now (thisUpdate) for a certificate valid until an hour from now: it speaks (good)', async () => {
  const valid = await issueBetween('Valid TSA', from, new Date(Date.now() + 3600_000))
  const { der } = await respond(tsa, tsa.root, valid, [{ cert: valid }])
  const basic = ocspResponse(der)
  const thisUpdate = basic.tbsResponseData.responses[0]!.thisUpdate
  assert.ok(thisUpdate.getTime() > genTime.getTime() && thisUpdate.getTime() < pk(valid).notAfter.value.getTime(), 'made after genTime, before expiry')
  assert.is(codeOf(await ocspEvidence(pk(valid), pk(tsa.root), [basic], genTime, 'signer')), 'good')
})

Time('an OCSP answer made after the certificate expired (two minutes ago): TSA_OCSP_INVALID, saying so', async () => {
  const expired = await issueBetween('Expired TSA', from, new Date(Date.now() - 120_000))
  const { der } = await respond(tsa, tsa.root, expired, [{ cert: expired }])
  const e = await ocspEvidence(pk(expired), pk(tsa.root), [ocspResponse(der)], genTime, 'signer')
  assert.is(codeOf(e), 'TSA_OCSP_INVALID')
  assert.match(messageOf(e), /after certificate "CN=Expired TSA" expired/)
  // the 2020-only certificate too: years after its expiry, the responder's "good" proves nothing
  const old = await respond(tsa, tsa.root, ctx.past, [{ cert: ctx.past }])
  assert.is(codeOf(await ocspEvidence(pk(ctx.past), pk(tsa.root), [ocspResponse(old.der)], genTime, 'signer')), 'TSA_OCSP_INVALID')
})

Time.run()
