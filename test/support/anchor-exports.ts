// Audit exports with RFC 3161 anchors for the browser-vs-CLI test (test/vigil-export-check.test.ts): one
// device whose chain mixes AISS-1 and AISS-2 events (a profile upgrade mid-chain with a per-type policy),
// anchored by the loopback OpenSSL TSA; then copies of its home that each append one signed anchor event
// whose token is bad in one way (a real token for another imprint, a real token with a signed attribute
// altered, the forged "MAA="), a downgrade (an AISS-2.0 event stripped of its ML-DSA signature), a second
// history that diverges before an anchored point, an untrusted root, a CRL revoking the TSA, and OCSP
// responses (made before the tokens, as tsa-ocsp.test.ts does) saying it was good or revoked.
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes, createHash } from 'node:crypto'
import { join } from 'node:path'
import { Agent, eventHash, fromHex, parseJson, stringifyJson, type AissEvent } from '../../runtime/aiss2-entry.js'
import { Anchorer } from '../../runtime/anchor/anchorer.js'
import { anchorPayload, ANCHOR_EVENT_TYPE } from '../../runtime/anchor/payload.js'
import { merkleRoot } from '../../runtime/merkle.js'
import { buildTimestampRequest } from '../../runtime/tsa/request.js'
import { parseTrustRoots } from '../../runtime/tsa/trust.js'
import type { LoopbackTsa } from './openssl-tsa.js'
import { respond } from './openssl-ocsp.js'

/** telemetry stays AISS-1.0, every other event type (anchors included) is AISS-2.0 after the upgrade. */
const POLICY = { default: 'AISS-2.0' as const, event_types: { telemetry: 'AISS-1.0' as const } }

export interface AnchorExports {
  /** PEM files: the TSA's root, and a root that never signed anything. */
  roots: string
  otherRoot: string
  /** A CRL of the root revoking the TSA certificate an hour ago (before every genTime). */
  revokedCrl: string
  /** OCSP responses by the root about the TSA certificate: good, and revoked an hour before the tokens. */
  ocspGood: string
  ocspRevoked: string
  /** The exports (file paths). */
  good: string
  wrongImprint: string
  tamperedAttrs: string
  forged: string
  downgrade: string
  /** Shares events 0..2 with `good`, then continues differently: diverges before good's first anchored point. */
  early: string
  /** An anchor-free AISS-1 chain, for the lazy loading check. */
  plain: string
}

async function exportOf (home: string, file: string): Promise<string> {
  const agent = await Agent.open({ name: 'bot' }, { home })
  await agent.export(file)
  await agent.close()
  return file
}

/** Appends to `home`'s chain one signed anchor event over events 0..n-1 whose token `tokenFor` makes. */
async function appendAnchor (tsa: LoopbackTsa, home: string, tokenFor: (root: Uint8Array, nonce: (n: number) => Uint8Array) => Promise<{ token: Uint8Array, nonce: bigint }>): Promise<void> {
  const agent = await Agent.open({ name: 'bot' }, { home })
  const events: AissEvent[] = await agent.history()
  const hashes = events.map((e) => eventHash(e))
  const root = merkleRoot(hashes.map((h) => fromHex(h)))
  const { token, nonce } = await tokenFor(root, (n) => new Uint8Array(randomBytes(n)))
  const to = events.length - 1
  await agent.stamp(ANCHOR_EVENT_TYPE, anchorPayload({ from: 0, to, toHash: hashes[to]!, root: Buffer.from(root).toString('hex'), token, nonce: nonce.toString(16), url: tsa.url, genTime: '' }))
  await agent.close()
}

/** Index of `needle` in `hay`; throws unless it occurs exactly once. */
function findOnce (hay: Uint8Array, needle: Uint8Array): number {
  const at = Buffer.from(hay).indexOf(Buffer.from(needle))
  if (at < 0 || Buffer.from(hay).indexOf(Buffer.from(needle), at + 1) >= 0) throw new Error('pattern not found exactly once')
  return at
}

export async function makeAnchorExports (tsa: LoopbackTsa, dir: string): Promise<AnchorExports> {
  const f = (name: string): string => join(dir, name)
  writeFileSync(f('roots.pem'), tsa.root.pem)
  writeFileSync(f('other-root.pem'), (await tsa.newRoot('Other Root CA')).pem)
  writeFileSync(f('good.ocsp.der'), (await respond(tsa, tsa.root, tsa.tsa, [{ cert: tsa.tsa }])).der)
  writeFileSync(f('revoked.ocsp.der'), (await respond(tsa, tsa.root, tsa.tsa, [{ cert: tsa.tsa, revokedAt: new Date(Date.now() - 3_600_000) }])).der)
  const home = f('home')
  let agent = await Agent.open({ name: 'bot' }, { home })
  for (let i = 0; i < 3; i++) await agent.stamp('telemetry', { i })
  await agent.close()
  cpSync(home, f('early-home'), { recursive: true })
  agent = await Agent.open({ name: 'bot' }, { home })
  const anchorer = await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: parseTrustRoots(tsa.root.pem), everyEvents: 4, everySeconds: 3600 })
  await agent.upgradeProfile(POLICY)
  for (let i = 0; i < 6; i++) await agent.stamp(i % 2 ? 'telemetry' : 'actuator_command', { i })
  await anchorer.flush(); await anchorer.close()
  await agent.close()
  const good = await exportOf(home, f('good.audit.json'))

  const variant = async (name: string, tokenFor: Parameters<typeof appendAnchor>[2]): Promise<string> => {
    const h = f(`${name}-home`)
    cpSync(home, h, { recursive: true })
    await appendAnchor(tsa, h, tokenFor)
    return exportOf(h, f(`${name}.audit.json`))
  }
  const real = async (imprint: Uint8Array, rnd: (n: number) => Uint8Array): Promise<{ token: Uint8Array, nonce: bigint }> => {
    const req = buildTimestampRequest(imprint, rnd)
    return { token: await tsa.reply(req.der), nonce: req.nonce }
  }
  const wrongImprint = await variant('wrong-imprint', (_root, rnd) => real(new Uint8Array(createHash('sha256').update('another history').digest()), rnd))
  const tamperedAttrs = await variant('tampered-attrs', async (root, rnd) => {
    const t = await real(root, rnd)
    // signingTime (1.2.840.113549.1.9.5), a signed attribute: its last digit of seconds changed.
    const oid = new Uint8Array([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05])
    const at = findOnce(t.token, oid) + oid.length + 2 + 2 + 11
    t.token[at] = t.token[at] === 0x30 ? 0x31 : 0x30
    return t
  })
  const forged = await variant('forged', async (_root, rnd) => ({ token: new Uint8Array(Buffer.from('MAA=', 'base64')), nonce: buildTimestampRequest(new Uint8Array(32), rnd).nonce }))

  const doc = parseJson(readFileSync(good, 'utf8')) as { events: Array<Record<string, any>> }
  const k = doc.events.findIndex((e) => e.version === 'AISS-2.0' && e.payload.event_type === 'actuator_command')
  delete doc.events[k]!.signatures.post_quantum
  writeFileSync(f('downgrade.audit.json'), stringifyJson(doc, 2))

  agent = await Agent.open({ name: 'bot' }, { home: f('early-home') })
  for (let i = 0; i < 4; i++) await agent.stamp('telemetry', { other: i })
  await agent.close()
  const early = await exportOf(f('early-home'), f('early.audit.json'))

  writeFileSync(f('revoked.crl.pem'), (await tsa.crl(tsa.root, [{ cert: tsa.tsa, at: new Date(Date.now() - 3_600_000) }])).pem)
  agent = await Agent.open({ name: 'bot' }, { home: f('plain-home') })
  for (let i = 0; i < 3; i++) await agent.stamp('telemetry', { i })
  await agent.close()
  const plain = await exportOf(f('plain-home'), f('plain.audit.json'))

  return {
    roots: f('roots.pem'), otherRoot: f('other-root.pem'), revokedCrl: f('revoked.crl.pem'), ocspGood: f('good.ocsp.der'), ocspRevoked: f('revoked.ocsp.der'),
    good, wrongImprint, tamperedAttrs, forged, downgrade: f('downgrade.audit.json'), early, plain
  }
}
