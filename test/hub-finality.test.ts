// FORK_AFTER_FINALIZATION at the hub (issue 21): a hub started with TSA trust roots refuses a fork at a
// position that an anchor it holds made final (its token verifies under those roots) as
// FORK_AFTER_FINALIZATION, naming the anchor and genTime; a fork after every anchor, or on a hub without
// roots, or with roots that do not certify the TSA, stays FORK_DETECTED. The same histories as
// test/tsa-cli.test.ts: one device's home, copied before its first anchored point and after its last one,
// each copy continued differently. Real hubs (Hub.start, LevelDB store on temp dirs); the TSA is OpenSSL
// on loopback (test/support/openssl-tsa.ts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { Agent, type AissEvent } from '../runtime/index.js'
import { parseTrustRoots } from '../runtime/tsa/trust.js'
import { encodeRecord } from '../runtime/record.js'
import { Hub } from '../hub/hub.js'
import type { BatchOutcome } from '../hub/ingest.js'
import { stampN } from './support/anchored.js'
import { startLoopbackTsa, opensslHasTs, type LoopbackTsa } from './support/openssl-tsa.js'
import { respond, startRevocationServer } from './support/openssl-ocsp.js'
import { freePort } from './support/hub-helpers.js'
import { tmpDir } from './helpers.js'

const S = suite('hub: fork after finalization')
let tsa: LoopbackTsa
let dir: { path: string, cleanup: () => void }
const chains: Record<string, AissEvent[]> = {}
let identity: unknown


async function eventsOf (home: string): Promise<AissEvent[]> {
  const agent = await Agent.open({ name: 'bot' }, { home })
  const out: AissEvent[] = []
  for await (const ev of agent.events()) out.push(ev)
  identity ??= agent.identityDocument()
  await agent.close()
  return out
}

/** A hub holding chain `a`, then offered `other` from the first position where they differ. */
async function forkOnHub (other: AissEvent[], tsaRoots: Uint8Array[] | undefined, tsaCrls?: Uint8Array[], tsaOcsp?: Uint8Array[]): Promise<{ code: string, message: string }> {
  const hub = await Hub.start({ dataDir: join(dir.path, `hub-${Math.random().toString(36).slice(2)}`), port: await freePort(), approval: 'auto', workers: 1, control: false, ...(tsaRoots ? { tsaRoots } : {}), ...(tsaCrls ? { tsaCrls } : {}), ...(tsaOcsp ? { tsaOcsp } : {}) })
  try {
    const a = chains.a!
    const id = String(a[0]!.agent_id)
    await hub.registry.onIdentity(id, identity)
    const held = await hub.ingest.submit(id, { from: 0, ids: [id], records: a.map((e) => encodeRecord(e, 0)), topic: 't' })
    assert.ok('ack' in held, JSON.stringify(held))
    let d = 0
    while (other[d]!.signature === a[d]!.signature) d++
    const out: BatchOutcome = await hub.ingest.submit(id, { from: d, ids: [id], records: other.slice(d).map((e) => encodeRecord(e, 0)), topic: 't' })
    assert.ok('nack' in out && 'problem' in out, JSON.stringify(out))
    const p = (out as { problem: { code: string, message: string, index: number } }).problem
    assert.is(p.index, d, 'the fork is reported where the histories diverge')
    assert.is(hub.store.agent(id)!.count, a.length, 'the held chain is unchanged')
    return p
  } finally { await hub.close() }
}

const skip = (await opensslHasTs()) ? null : 'openssl has no ts command'

S('setup: one device with anchors, a copy diverging before its first anchored point, one after its last', async () => {
  tsa = await startLoopbackTsa()
  dir = tmpDir()
  const a = join(dir.path, 'a'); const early = join(dir.path, 'early'); const late = join(dir.path, 'late')
  await stampN(tsa, a, 3, 'common', false)
  cpSync(a, early, { recursive: true }) // diverges at event 3, which the first anchor covers
  await stampN(tsa, a, 9, 'a', true)
  cpSync(a, late, { recursive: true }) // diverges after every anchor
  await stampN(tsa, early, 6, 'early', false)
  await stampN(tsa, late, 2, 'late', false)
  await stampN(tsa, a, 2, 'a2', false)
  for (const [k, home] of Object.entries({ a, early, late })) chains[k] = await eventsOf(home)
  assert.ok(chains.a!.filter((e) => e.payload.event_type === 'anchor').length >= 2, 'the held chain has anchors')
})

S('with the TSA root: a fork before an anchored point is FORK_AFTER_FINALIZATION, with the anchor and genTime', async () => {
  const p = await forkOnHub(chains.early!, parseTrustRoots(tsa.root.pem))
  assert.is(p.code, 'FORK_AFTER_FINALIZATION', p.message)
  assert.match(p.message, /anchor event \d+ \(covering 0\.\.\d+\) has a verified token of \d{4}-\d\d-\d\dT/)
})

S('with the TSA root: a fork after every anchor is FORK_DETECTED', async () => {
  const p = await forkOnHub(chains.late!, parseTrustRoots(tsa.root.pem))
  assert.is(p.code, 'FORK_DETECTED', p.message)
})

S('without roots, or with a root that did not certify the TSA, the same fork is FORK_DETECTED: an unchecked token finalizes nothing', async () => {
  assert.is((await forkOnHub(chains.early!, undefined)).code, 'FORK_DETECTED')
  const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir.path, 'o.key'), '-subj', '/CN=Other', '-days', '1'], { encoding: 'utf8' }).stdout
  assert.is((await forkOnHub(chains.early!, parseTrustRoots(other))).code, 'FORK_DETECTED')
})

S('with CRLs: an anchor whose TSA was revoked before genTime finalizes nothing (FORK_DETECTED); an empty CRL keeps FORK_AFTER_FINALIZATION', async () => {
  const roots = parseTrustRoots(tsa.root.pem)
  const empty = await tsa.crl(tsa.root)
  const revoked = await tsa.crl(tsa.root, [{ cert: tsa.tsa, at: new Date(Date.now() - 3_600_000) }])
  assert.is((await forkOnHub(chains.early!, roots, [empty.der])).code, 'FORK_AFTER_FINALIZATION')
  assert.is((await forkOnHub(chains.early!, roots, [revoked.der])).code, 'FORK_DETECTED')
})

S('with OCSP responses (HubOptions.tsaOcsp): revoked before genTime finalizes nothing; good keeps FORK_AFTER_FINALIZATION; one for another certificate covers nothing', async () => {
  const roots = parseTrustRoots(tsa.root.pem)
  const good = await respond(tsa, tsa.root, tsa.tsa, [{ cert: tsa.tsa }])
  const revoked = await respond(tsa, tsa.root, tsa.tsa, [{ cert: tsa.tsa, revokedAt: new Date(Date.now() - 3_600_000) }])
  const other = await respond(tsa, tsa.root, tsa.root, [{ cert: tsa.root }])
  assert.is((await forkOnHub(chains.early!, roots, undefined, [good.der])).code, 'FORK_AFTER_FINALIZATION')
  assert.is((await forkOnHub(chains.early!, roots, undefined, [revoked.der])).code, 'FORK_DETECTED')
  assert.is((await forkOnHub(chains.early!, roots, undefined, [other.der])).code, 'FORK_DETECTED')
  assert.is((await forkOnHub(chains.early!, roots, [], [good.der])).code, 'FORK_AFTER_FINALIZATION', 'either a CRL or an OCSP response covers')
})

S('with --tsa-fetch (HubOptions.tsaFetchRevocation): the anchor\'s status is fetched from its TSA certificate\'s OCSP responder at the fork; a responder that is down finalizes nothing and is asked again at the next fork', async () => {
  const srv = await startRevocationServer(tsa)
  try {
    const aia = await tsa.issue('AIA TSA', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping', `authorityInfoAccess=OCSP;URI:${srv.base}/ocsp`])
    srv.ocsp.index = [{ cert: aia }]
    const a = join(dir.path, 'fa'); const early = join(dir.path, 'fearly')
    await stampN(tsa, a, 3, 'common', false)
    cpSync(a, early, { recursive: true })
    tsa.signer = aia
    try { await stampN(tsa, a, 9, 'a', true) } finally { tsa.signer = tsa.tsa }
    await stampN(tsa, early, 6, 'early', false)
    const held = await eventsOf(a); const other = await eventsOf(early)
    const agent = await Agent.open({ name: 'bot' }, { home: a }); const ownIdentity = agent.identityDocument(); await agent.close()
    const roots = parseTrustRoots(tsa.root.pem)
    const hub = await Hub.start({ dataDir: join(dir.path, 'hub-fetch'), port: await freePort(), approval: 'auto', workers: 1, control: false, tsaRoots: roots, tsaFetchRevocation: true })
    try {
      const id = String(held[0]!.agent_id)
      await hub.registry.onIdentity(id, ownIdentity)
      assert.ok('ack' in await hub.ingest.submit(id, { from: 0, ids: [id], records: held.map((e) => encodeRecord(e, 0)), topic: 't' }))
      const fork = async (): Promise<string> => {
        const out = await hub.ingest.submit(id, { from: 3, ids: [id], records: other.slice(3).map((e) => encodeRecord(e, 0)), topic: 't' })
        return (out as { problem?: { code: string } }).problem?.code ?? JSON.stringify(out)
      }
      srv.modes['/ocsp'] = '503'
      assert.is(await fork(), 'FORK_DETECTED', 'responder down: the anchor is not known to be unrevoked')
      const asked = srv.hits['/ocsp'] ?? 0
      assert.ok(asked >= 1)
      srv.modes = {}
      assert.is(await fork(), 'FORK_AFTER_FINALIZATION', 'responder back: asked again, the anchor finalizes')
      assert.ok((srv.hits['/ocsp'] ?? 0) > asked)
    } finally { await hub.close() }
  } finally { await srv.close() }
})

S('a new event at the head chained onto an earlier event: FORK_DETECTED as the verifier says (not CHAIN_LINK_BROKEN), FORK_AFTER_FINALIZATION where that event is final', async () => {
  const a = chains.a!; const early = chains.early!
  const id = String(a[0]!.agent_id)
  for (const [roots, want] of [[parseTrustRoots(tsa.root.pem), 'FORK_AFTER_FINALIZATION'], [undefined, 'FORK_DETECTED']] as const) {
    const hub = await Hub.start({ dataDir: join(dir.path, `hub-head-${want}`), port: await freePort(), approval: 'auto', workers: 1, control: false, ...(roots ? { tsaRoots: roots } : {}) })
    try {
      await hub.registry.onIdentity(id, identity)
      assert.ok('ack' in await hub.ingest.submit(id, { from: 0, ids: [id], records: a.map((e) => encodeRecord(e, 0)), topic: 't' }))
      // The other copy's event #3 (its previous_hash is event #2's hash), offered as the next event at the head.
      const out = await hub.ingest.submit(id, { from: a.length, ids: [id], records: [encodeRecord(early[3]!, 0)], topic: 't' })
      const p = (out as { problem?: { code: string, index: number, message: string } }).problem
      assert.is(p?.code, want, JSON.stringify(out))
      assert.is(p!.index, a.length)
      assert.match(p!.message, /claims the same predecessor .* as event 3/)
    } finally { await hub.close() }
  }
})

S('teardown', async () => { await tsa.close(); dir.cleanup() })

if (skip) console.log(`skip hub fork after finalization: ${skip}`)
else S.run()
