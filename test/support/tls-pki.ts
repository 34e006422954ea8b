// Throwaway X.509 material for the TLS tests, made with the system `openssl` at test time (nothing
// committed): a CA, a server certificate for 127.0.0.1/localhost signed by it, client certificates
// signed by it, and optionally a second, unrelated CA (what a device that trusts the wrong authority
// holds). EC P-256 keys and one-day validity keep generation to a few hundred milliseconds.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface CertFiles { cert: string, key: string }
export interface CaFiles extends CertFiles { name: string }

/** PEM text, as the MQTT client options take it. */
export interface PemPair { cert: string, key: string }

function openssl (args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  if (r.error) throw new Error(`openssl ${args[0]}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`)
}

// Our own config, so the result does not depend on the distribution's openssl.cnf (whose v3_ca section
// varies, and `-addext` conflicts with it on some versions).
function writeConfig (dir: string, name: string, cn: string, ext: string[]): string {
  const path = join(dir, `${name}.cnf`)
  writeFileSync(path, [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ext', '',
    '[dn]', `CN = ${cn}`, '',
    '[ext]', ...ext, ''
  ].join('\n'))
  return path
}

function serial (): string { return '0x' + randomBytes(8).toString('hex').replace(/^0*/, '1') }

/** A self-signed CA certificate and its key, in `dir`. */
export function makeCa (dir: string, name: string): CaFiles {
  const cnf = writeConfig(dir, name, `pcp-test ${name}`, [
    'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash'
  ])
  const key = join(dir, `${name}.key`); const cert = join(dir, `${name}.crt`)
  openssl(['req', '-x509', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-set_serial', serial()], dir)
  return { name, cert, key }
}

/** A leaf certificate signed by `ca`: 'server' (SANs 127.0.0.1 and localhost) or 'client'. */
export function makeLeaf (dir: string, ca: CaFiles, name: string, kind: 'server' | 'client'): CertFiles {
  const ext = kind === 'server'
    ? ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1, DNS:localhost']
    : ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = clientAuth']
  const cnf = writeConfig(dir, name, kind === 'server' ? 'localhost' : name, ext)
  const key = join(dir, `${name}.key`); const csr = join(dir, `${name}.csr`); const cert = join(dir, `${name}.crt`)
  openssl(['req', '-new', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr], dir)
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial(), '-days', '1',
    '-extfile', cnf, '-extensions', 'ext', '-out', cert], dir)
  return { cert, key }
}

export function readPem (files: CertFiles): PemPair {
  return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') }
}

/** The test PKI: one CA that the broker and every legitimate client trust, and one that nobody does. */
export interface TestPki {
  ca: CaFiles
  otherCa: CaFiles
  server: CertFiles
  clients: Record<string, CertFiles>
}

export function makeTestPki (dir: string, clientNames: string[]): TestPki {
  const ca = makeCa(dir, 'ca')
  const otherCa = makeCa(dir, 'other-ca')
  const server = makeLeaf(dir, ca, 'server', 'server')
  const clients: Record<string, CertFiles> = {}
  for (const n of clientNames) clients[n] = makeLeaf(dir, ca, `client-${n}`, 'client')
  return { ca, otherCa, server, clients }
}
