// OCSP and CRL distribution for the revocation tests, on top of the loopback CA of openssl-tsa.ts.
// `respond` has `openssl ocsp` answer a request it built itself (`-reqout`, then `-index … -reqin
// … -respout`): the status of each certificate comes from an index.txt written here, so revocation
// dates are the test's, and the signer is whoever the test names (the issuer, a delegate, a stranger).
// `startRevocationServer` is a node:http server on port 0 in front of the same `openssl ocsp`: POST
// /ocsp answers the request it receives; GET /<name>.crl serves a CRL the test published. Its modes
// make it fail the ways real responders do (503, silence, a huge body, an answer about another cert).
import { createServer, type Server } from 'node:http'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { writeFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { LoopbackTsa, CertFiles } from './openssl-tsa.js'

const run = promisify(execFile)

/** A certificate's status in the responder's index: valid, or revoked at `at`. */
export interface Status { cert: CertFiles, revokedAt?: Date }

export interface OcspOptions {
  /** Who signs the response (default `issuer`). */
  signer?: CertFiles
  /** Leave the signer's certificate out of the response (-resp_no_certs). */
  noCerts?: boolean
}

const indexTime = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'

async function indexLine ({ cert, revokedAt }: Status): Promise<string> {
  const x = (await run('openssl', ['x509', '-in', cert.cert, '-noout', '-serial', '-subject', '-nameopt', 'compat'])).stdout.trim().split('\n')
  const serialHex = x[0]!.split('=')[1]!; const subject = x[1]!.replace(/^subject=\s*/, '')
  return `${revokedAt ? 'R' : 'V'}\t491231000000Z\t${revokedAt ? indexTime(revokedAt) : ''}\t${serialHex}\tunknown\t${subject}\n`
}

/** `openssl ocsp` as responder for one request: the DER OCSPResponse for `reqDer` under `issuer`, statuses from `index`. */
export async function answer (tsa: LoopbackTsa, issuer: CertFiles, index: Status[], reqDer: Uint8Array, opts: OcspOptions = {}): Promise<Uint8Array> {
  const id = randomBytes(6).toString('hex')
  const idx = join(tsa.dir, `${id}.ocsp.index`); const req = join(tsa.dir, `${id}.ocsp.req`); const resp = join(tsa.dir, `${id}.ocsp.der`)
  await writeFile(idx, (await Promise.all(index.map(indexLine))).join(''))
  await writeFile(req, reqDer)
  const signer = opts.signer ?? issuer
  await run('openssl', ['ocsp', '-index', idx, '-CA', issuer.cert, '-rsigner', signer.cert, '-rkey', signer.key, '-reqin', req, '-respout', resp, '-ndays', '30', ...(opts.noCerts ? ['-resp_no_certs'] : [])])
  return new Uint8Array(await readFile(resp))
}

/** An offline response for `cert` (issued by `issuer`), as a file and its DER. */
export async function respond (tsa: LoopbackTsa, issuer: CertFiles, cert: CertFiles, index: Status[], opts: OcspOptions = {}): Promise<{ file: string, der: Uint8Array }> {
  const id = randomBytes(6).toString('hex')
  const req = join(tsa.dir, `${id}.req`)
  await run('openssl', ['ocsp', '-issuer', issuer.cert, '-cert', cert.cert, '-reqout', req, '-no_nonce'])
  const der = await answer(tsa, issuer, index, new Uint8Array(await readFile(req)), opts)
  const file = join(tsa.dir, `${id}.resp.der`)
  await writeFile(file, der)
  return { file, der }
}

export interface RevocationServer {
  /** http://127.0.0.1:<port> */
  base: string
  /** Requests received, by path ('/ocsp', '/root.crl', …). */
  hits: Record<string, number>
  /** The responder: its CA, the index it answers from, its signer. */
  ocsp: { issuer: CertFiles, index: Status[], opts: OcspOptions }
  /** By path ('/ocsp', '/root.crl'), default 'ok': '503' answers 503; 'silent' never answers; 'other' answers `otherAnswer` whatever was asked; 'huge' streams 1 MiB of zeros. */
  modes: Record<string, 'ok' | '503' | 'silent' | 'other' | 'huge'>
  otherAnswer?: Uint8Array
  /** GET /<name> serves these bytes (a CRL). */
  files: Record<string, Uint8Array>
  close: () => Promise<void>
}

export async function startRevocationServer (tsa: LoopbackTsa): Promise<RevocationServer> {
  const hits: Record<string, number> = {}
  const s: RevocationServer = {
    base: '', hits, ocsp: { issuer: tsa.root, index: [], opts: {} }, modes: {}, files: {}, close: async () => {}
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!
      hits[path] = (hits[path] ?? 0) + 1
      const mode = s.modes[path] ?? 'ok'
      if (mode === 'silent') return
      if (mode === '503') { res.writeHead(503).end(); return }
      if (mode === 'huge') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        const zeros = Buffer.alloc(64 * 1024)
        for (let i = 0; i < 16; i++) res.write(zeros)
        res.end(); return
      }
      if (req.method === 'POST' && path === '/ocsp') {
        if (req.headers['content-type'] !== 'application/ocsp-request') { res.writeHead(415).end(); return }
        const reply = mode === 'other' && s.otherAnswer ? Promise.resolve(s.otherAnswer) : answer(tsa, s.ocsp.issuer, s.ocsp.index, new Uint8Array(Buffer.concat(chunks)), s.ocsp.opts)
        reply.then((der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der), (err) => res.writeHead(500).end(String(err)))
        return
      }
      const file = s.files[path.slice(1)]
      if (req.method === 'GET' && file) { res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(file); return }
      res.writeHead(404).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  s.base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  s.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return s
}

/** A loopback URL nothing listens on: a port that was bound, then closed. */
export async function deadUrl (path: string): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}${path}`
}
