// A real TSA on loopback for the tests: a throwaway CA and TSA certificate made by `openssl req/x509`
// in a temp dir, and an HTTP server (port 0) that answers each application/timestamp-query with
// `openssl ts -reply`. Nothing here is a stand-in: the bytes come from OpenSSL's TSA implementation.
// `cmsSign` re-signs a TSTInfo with `openssl cms -sign -cades` (CAdES-BES adds signingCertificateV2),
// to make tokens OpenSSL's TSA refuses to issue (a certificate without the timeStamping EKU).
// `crl` has `openssl ca -gencrl` sign a CRL from an index.txt written here, so each revocation date is
// chosen by the test (before or after a token's genTime) rather than taken from the clock.
import { createServer, type Server } from 'node:http'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

const run = promisify(execFile)

export async function opensslHasTs (): Promise<boolean> {
  try { await run('openssl', ['ts', '-help']); return true } catch (err) { return /Usage: ts/.test(String((err as { stderr?: string }).stderr)) }
}

export interface CertFiles { cert: string, key: string, pem: string, der: Uint8Array }

export interface CrlFile { file: string, pem: string, der: Uint8Array }

/** openssl's index.txt time: YYMMDDHHMMSSZ (UTCTime). */
const indexTime = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'

export interface LoopbackTsa {
  url: string
  dir: string
  root: CertFiles
  tsa: CertFiles
  /** Requests answered so far. */
  readonly served: number
  /** While true the server answers 503 (a TSA that is down but reachable). */
  failing: boolean
  /** Who signs the server's tokens (default `tsa`): another TSA certificate of this CA, e.g. one naming OCSP/CRL URLs. */
  signer: CertFiles
  /** Make a certificate signed by this root (or `issuer`), with the given extension lines. */
  issue: (name: string, ext: string[], issuer?: CertFiles) => Promise<CertFiles>
  newRoot: (name: string) => Promise<CertFiles>
  /** A token for `queryDer` from `openssl ts -reply`, signed by `signer` (default the TSA). */
  reply: (queryDer: Uint8Array, signer?: CertFiles) => Promise<Uint8Array>
  /** TSTInfo DER re-signed as CMS SignedData (a bare TimeStampToken) by `signer`. */
  cmsSign: (tstInfo: Uint8Array, signer: CertFiles, opts?: { cades?: boolean }) => Promise<Uint8Array>
  /** A CRL by `issuer` (`openssl ca -gencrl`, thisUpdate = now) listing each `revoked` certificate with its revocation date. */
  crl: (issuer: CertFiles, revoked?: Array<{ cert: CertFiles, at: Date }>) => Promise<CrlFile>
  /** A self-signed certificate with `of`'s subject and a fresh key: an issuer name without the issuer's key. */
  impostor: (of: CertFiles) => Promise<CertFiles>
  /** The same key and serial as `cert`, certified again with another subject (certificate substitution). */
  reissue: (cert: CertFiles, subject: string) => Promise<CertFiles>
  close: () => Promise<void>
}

async function pemToDer (pem: string): Promise<Uint8Array> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

export async function startLoopbackTsa (): Promise<LoopbackTsa> {
  const dir = await mkdtemp(join(tmpdir(), 'pcp-tsa-'))
  let serial = 1
  const newRoot = async (name: string): Promise<CertFiles> => {
    const key = join(dir, `${name}.key`); const cert = join(dir, `${name}.pem`); const ext = join(dir, `${name}.ext`)
    await writeFile(ext, '[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n')
    await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
    await run('openssl', ['req', '-new', '-x509', '-key', key, '-out', cert, '-days', '3650', '-subj', `/CN=${name}`, '-config', ext, '-extensions', 'v3', '-set_serial', String(serial++)])
    const pem = await readFile(cert, 'utf8')
    return { cert, key, pem, der: await pemToDer(pem) }
  }
  const issue = async (name: string, extLines: string[], issuer: CertFiles = root): Promise<CertFiles> => {
    const key = join(dir, `${name}.key`); const cert = join(dir, `${name}.pem`); const csr = join(dir, `${name}.csr`); const ext = join(dir, `${name}.ext`)
    await writeFile(ext, `[v3]\n${extLines.join('\n')}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`)
    await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
    await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`])
    await run('openssl', ['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-out', cert, '-days', '3650', '-extfile', ext, '-extensions', 'v3', '-set_serial', String(serial++)])
    const pem = await readFile(cert, 'utf8')
    return { cert, key, pem, der: await pemToDer(pem) }
  }
  const root = await newRoot('Test Root CA')
  const tsa = await issue('Test TSA', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,nonRepudiation', 'extendedKeyUsage=critical,timeStamping'])
  const conf = join(dir, 'tsa.cnf')
  await writeFile(conf, [
    '[tsa]', 'default_tsa = tsa_config', '[tsa_config]', `serial = ${join(dir, 'tsaserial')}`, 'crypto_device = builtin',
    'signer_digest = sha256', 'default_policy = 1.2.3.4.1', 'other_policies = 1.2.3.4.5', 'digests = sha256, sha384, sha512', 'accuracy = secs:1',
    'ordering = no', 'tsa_name = yes', 'ess_cert_id_chain = no', 'ess_cert_id_alg = sha256', ''
  ].join('\n'))
  await writeFile(join(dir, 'tsaserial'), '01\n')

  // One openssl at a time: they share the serial file.
  let lock: Promise<unknown> = Promise.resolve()
  const reply = (queryDer: Uint8Array, signer: CertFiles = tsa): Promise<Uint8Array> => {
    const job = lock.then(async () => {
      const id = randomBytes(6).toString('hex')
      const q = join(dir, `${id}.tsq`); const r = join(dir, `${id}.tsr`)
      await writeFile(q, queryDer)
      await run('openssl', ['ts', '-reply', '-config', conf, '-section', 'tsa_config', '-queryfile', q, '-inkey', signer.key, '-signer', signer.cert, '-out', r])
      const out = new Uint8Array(await readFile(r))
      await rm(q); await rm(r)
      return out
    })
    lock = job.catch(() => {})
    return job
  }
  const cmsSign = async (tstInfo: Uint8Array, signer: CertFiles, opts: { cades?: boolean } = {}): Promise<Uint8Array> => {
    const id = randomBytes(6).toString('hex')
    const i = join(dir, `${id}.tst`); const o = join(dir, `${id}.p7`)
    await writeFile(i, tstInfo)
    await run('openssl', ['cms', '-sign', '-binary', '-nodetach', ...(opts.cades === false ? [] : ['-cades']), '-nosmimecap', '-md', 'sha256', '-econtent_type', '1.2.840.113549.1.9.16.1.4',
      '-in', i, '-signer', signer.cert, '-inkey', signer.key, '-outform', 'DER', '-out', o])
    return new Uint8Array(await readFile(o))
  }

  const reissue = async (of: CertFiles, subject: string): Promise<CertFiles> => {
    const serialHex = (await run('openssl', ['x509', '-in', of.cert, '-noout', '-serial'])).stdout.trim().split('=')[1]!
    const cert = join(dir, `${subject}.pem`); const csr = join(dir, `${subject}.csr`); const ext = join(dir, `${subject}.ext`)
    // Same length as the original subject so the certificate can be swapped in place in the DER.
    await writeFile(ext, '[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n')
    await run('openssl', ['req', '-new', '-key', of.key, '-out', csr, '-subj', `/CN=${subject}`])
    await run('openssl', ['x509', '-req', '-in', csr, '-CA', root.cert, '-CAkey', root.key, '-out', cert, '-days', '3650', '-extfile', ext, '-extensions', 'v3', '-set_serial', '0x' + serialHex])
    const pem = await readFile(cert, 'utf8')
    return { cert, key: of.key, pem, der: await pemToDer(pem) }
  }

  const crl = async (issuer: CertFiles, revoked: Array<{ cert: CertFiles, at: Date }> = []): Promise<CrlFile> => {
    const id = randomBytes(6).toString('hex')
    const index = join(dir, `${id}.index`); const conf = join(dir, `${id}.cnf`); const number = join(dir, `${id}.crlnumber`); const file = join(dir, `${id}.crl.pem`)
    const lines = await Promise.all(revoked.map(async ({ cert, at }) => {
      const x = (await run('openssl', ['x509', '-in', cert.cert, '-noout', '-serial', '-subject', '-nameopt', 'compat'])).stdout.trim().split('\n')
      const serialHex = x[0]!.split('=')[1]!; const subject = x[1]!.replace(/^subject=\s*/, '')
      return `R\t491231000000Z\t${indexTime(at)}\t${serialHex}\tunknown\t${subject}\n`
    }))
    await writeFile(index, lines.join(''))
    await writeFile(number, '01\n')
    await writeFile(conf, `[ca]\ndefault_ca = crl_ca\n[crl_ca]\ndatabase = ${index}\ncrlnumber = ${number}\ndefault_md = sha256\ndefault_crl_days = 30\n`)
    await run('openssl', ['ca', '-gencrl', '-config', conf, '-cert', issuer.cert, '-keyfile', issuer.key, '-out', file])
    const pem = await readFile(file, 'utf8')
    return { file, pem, der: await pemToDer(pem) }
  }
  const impostor = async (of: CertFiles): Promise<CertFiles> => {
    const id = randomBytes(6).toString('hex')
    const key = join(dir, `${id}.key`); const cert = join(dir, `${id}.pem`); const ext = join(dir, `${id}.ext`)
    const subject = (await run('openssl', ['x509', '-in', of.cert, '-noout', '-subject', '-nameopt', 'compat'])).stdout.trim().replace(/^subject=\s*/, '')
    await writeFile(ext, '[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n')
    await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
    await run('openssl', ['req', '-new', '-x509', '-key', key, '-out', cert, '-days', '3650', '-subj', subject, '-config', ext, '-extensions', 'v3', '-set_serial', String(serial++)])
    const pem = await readFile(cert, 'utf8')
    return { cert, key, pem, der: await pemToDer(pem) }
  }

  let served = 0
  const state = { failing: false, signer: tsa }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') { res.writeHead(400).end(); return }
      if (state.failing) { res.writeHead(503).end(); return }
      reply(new Uint8Array(Buffer.concat(chunks)), state.signer).then((der) => {
        served++
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(der)
      }, (err) => { res.writeHead(500).end(String(err)) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}/tsr`,
    dir, root, tsa, issue, newRoot, reply, cmsSign, reissue, crl, impostor,
    get served () { return served },
    get failing () { return state.failing },
    set failing (v: boolean) { state.failing = v },
    get signer () { return state.signer },
    set signer (v: CertFiles) { state.signer = v },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
