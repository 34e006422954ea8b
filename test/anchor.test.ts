// Anchoring in the agent (runtime/anchor/): cuts every N events, a token from a real TSA on loopback
// (OpenSSL ts -reply, test/support/openssl-tsa.ts) per cut, an `anchor` event that verifies, an
// inclusion proof per covered event; offline first (a durable pending queue, SIGKILLed real child
// processes), and nothing duplicated or rewritten when an anchor completes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent } from '../runtime/agent.js'
import { Anchorer, ANCHOR_STATUS_FILE, type AnchorStatus } from '../runtime/anchor/anchorer.js'
import { AnchorVerifier } from '../runtime/anchor/verify-anchors.js'
import { parseAnchorPayload } from '../runtime/anchor/payload.js'
import { eventHash } from '../runtime/event.js'
import { inclusionProof, verifyInclusion } from '../runtime/merkle.js'
import { parseTrustRoots } from '../runtime/tsa/trust.js'
import type { AissEvent } from '../runtime/types.js'
import { startLoopbackTsa, type LoopbackTsa } from './support/openssl-tsa.js'
import { ROOT, tmpDir } from './helpers.js'

const Anchor = suite('anchor')
let tsa: LoopbackTsa
let roots: Uint8Array[]
const DOWN = 'http://127.0.0.1:1/tsr' // nothing listens on port 1: connection refused, as offline
const hexBytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

async function verifyAll (events: AissEvent[]): Promise<Awaited<ReturnType<AnchorVerifier['finish']>>> {
  const v = new AnchorVerifier({ trustRoots: roots })
  events.forEach((e, i) => v.push(i, e, eventHash(e)))
  return v.finish()
}
const anchorsOf = (events: AissEvent[]): Array<{ index: number, from: number, to: number }> =>
  events.flatMap((e, i) => e.payload.event_type === 'anchor' ? [{ index: i, ...parseAnchorPayload(e.payload, i) }] : []).map(({ index, from, to }) => ({ index, from, to }))

/** Ranges tile 0..n-1 without gap or overlap: each event anchored exactly once. */
function assertTiled (ranges: Array<{ from: number, to: number }>, upTo: number): void {
  let next = 0
  for (const r of ranges) { assert.is(r.from, next, `range ${r.from}..${r.to} starts at ${next}`); next = r.to + 1 }
  assert.ok(next > upTo, `anchored up to ${next - 1}, expected ≥ ${upTo}`)
}

Anchor('setup: a loopback TSA', async () => {
  tsa = await startLoopbackTsa()
  roots = parseTrustRoots(tsa.root.pem)
})

Anchor('every 10 events an anchor event; each verifies, and each covered event has an inclusion proof', async () => {
  const home = tmpDir()
  try {
    const agent = await Agent.open({ name: 'bot' }, { home: home.path })
    const anchorer = await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: roots, everyEvents: 10, everySeconds: 3600 })
    for (let i = 0; i < 25; i++) await agent.stamp('step', { i })
    await anchorer.flush()
    await anchorer.close()
    const events = await agent.history()
    await agent.close()
    const anchors = anchorsOf(events)
    assert.ok(anchors.length >= 3, `anchors ${JSON.stringify(anchors)}`)
    assertTiled(anchors, 24)
    const verdicts = await verifyAll(events)
    assert.is(verdicts.length, anchors.length)
    for (const v of verdicts) assert.ok(v.ok, `${v.code}: ${v.message}`)
    assert.ok(verdicts.every((v) => v.genTime && Math.abs(v.genTime.getTime() - Date.now()) < 300_000))
    // Event 4 is provable against the first anchor's root with a proof alone.
    const first = parseAnchorPayload(events[anchors[0]!.index]!.payload, anchors[0]!.index)
    const leaves = events.slice(first.from, first.to + 1).map((e) => hexBytes(eventHash(e)))
    assert.ok(verifyInclusion(hexBytes(eventHash(events[4]!)), 4 - first.from, leaves.length, inclusionProof(leaves, 4 - first.from), hexBytes(first.root)))
    // A changed covered event no longer matches its anchor.
    const forged = events.map((e) => structuredClone(e)); forged[3]!.payload.i = 999
    const fv = await verifyAll(forged)
    assert.is(fv[0]!.code, 'ANCHOR_ROOT_MISMATCH')
  } finally { home.cleanup() }
})

Anchor('offline: cuts stay pending (status file says why), anchor later; nothing duplicated or rewritten (the reference appends a copy)', async () => {
  const home = tmpDir()
  try {
    let agent = await Agent.open({ name: 'bot' }, { home: home.path })
    let anchorer = await Anchorer.start(agent, { tsaUrl: DOWN, trustRoots: roots, everyEvents: 10, everySeconds: 3600, retryMinMs: 10, timeoutMs: 1000 })
    for (let i = 0; i < 12; i++) await agent.stamp('step', { i })
    const s = await anchorer.flush() // cuts 10..11 too
    assert.equal(s.pending.map((p) => [p.from, p.to]), [[0, 9], [10, 11]])
    assert.is(s.pending[0]!.last_error?.code, 'TSA_UNAVAILABLE')
    const published = JSON.parse(await readFile(join(agent.dir, ANCHOR_STATUS_FILE), 'utf8')) as AnchorStatus
    assert.is(published.pending.length, 2)
    assert.ok(published.oldest_pending_at! > 0)
    const before = (await agent.history()).map(eventHash)
    await anchorer.close(); await agent.close()
    // `pcp sync status` shows the queue of a device that never synced (offline first).
    const cli = (...args: string[]): { status: number | null, stdout: string } => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), '--home', home.path, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    const json = cli('sync', 'status', '--json')
    assert.is(json.status, 0)
    const st = JSON.parse(json.stdout) as { anchors: Record<string, AnchorStatus> }
    assert.equal(st.anchors.bot!.pending.map((p) => p.last_error?.code ?? null), ['TSA_UNAVAILABLE', null])
    assert.match(cli('sync', 'status').stdout, /bot\s+PENDING 2 \(since .*TSA_UNAVAILABLE/)

    // Back online after a restart: the cut made offline is anchored, once.
    agent = await Agent.open({ name: 'bot' }, { home: home.path })
    anchorer = await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: roots, everyEvents: 10, everySeconds: 3600 })
    const after1 = await anchorer.flush()
    assert.is(after1.pending.length, 0)
    const again = await anchorer.flush()
    assert.is(again.pending.length, 0)
    await anchorer.close()
    const events = await agent.history()
    await agent.close()
    // The events stamped offline are exactly as they were; only anchor events follow them.
    assert.equal(events.slice(0, before.length).map(eventHash), before)
    assert.ok(events.slice(before.length).every((e) => e.payload.event_type === 'anchor'))
    const nonces = events.map((e) => e.nonce)
    assert.is(new Set(nonces).size, nonces.length, 'no event appears twice')
    assertTiled(anchorsOf(events), before.length - 1)
    for (const v of await verifyAll(events)) assert.ok(v.ok, `${v.code}: ${v.message}`)
  } finally { home.cleanup() }
})

Anchor('a TSA whose token fails verification: the cut stays pending with the code, nothing is stamped', async () => {
  const home = tmpDir()
  try {
    const agent = await Agent.open({ name: 'bot' }, { home: home.path })
    const other = parseTrustRoots((await tsa.newRoot('Not Our Root')).pem)
    const anchorer = await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: other, everyEvents: 5, everySeconds: 3600 })
    for (let i = 0; i < 5; i++) await agent.stamp('step', { i })
    const s = await anchorer.flush()
    await anchorer.close()
    assert.is(s.pending[0]?.last_error?.code, 'TSA_CHAIN_UNTRUSTED')
    assert.is((await agent.history()).filter((e) => e.payload.event_type === 'anchor').length, 0)
    await agent.close()
  } finally { home.cleanup() }
})

interface ChildRun { hashes: string[], anchored: Array<[number, number]>, pending: number }

function runChild (home: string, url: string, rootFile: string, count: number, killWhen: (r: ChildRun) => boolean): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/anchor-child.ts'), home, 'bot', url, rootFile, String(count)], { cwd: ROOT })
  const run: ChildRun = { hashes: [], anchored: [], pending: 0 }
  let buf = ''; let err = ''
  child.stderr.on('data', (d) => { err += d })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child timed out: ${err}`)) }, 120_000)
    child.stdout.on('data', (d) => {
      buf += d
      const lines = buf.split('\n'); buf = lines.pop()!
      for (const l of lines) {
        let m: RegExpExecArray | null
        if ((m = /^ok ([0-9a-f]{64})$/.exec(l))) run.hashes.push(m[1]!)
        else if ((m = /^anchored (\d+) (\d+)$/.exec(l))) run.anchored.push([Number(m[1]), Number(m[2])])
        else if ((m = /^pending (\d+)$/.exec(l))) run.pending = Number(m[1])
      }
      if (killWhen(run)) child.kill('SIGKILL')
    })
    child.on('exit', (code, signal) => { clearTimeout(timer); signal === 'SIGKILL' ? resolve(run) : reject(new Error(`child exited ${code}: ${err}`)) })
  })
}

Anchor('SIGKILL while offline: the pending queue survives in the store; a restart online anchors each cut once', async () => {
  const home = tmpDir()
  try {
    const rootFile = join(home.path, 'roots.pem'); await writeFile(rootFile, tsa.root.pem)
    const run = await runChild(home.path, DOWN, rootFile, 25, (r) => r.pending > 0)
    assert.is(run.hashes.length, 25)
    assert.is(run.pending, 2) // two cuts of ≥ 10 events (a cut takes what is stored when it runs)
    const agent = await Agent.open({ name: 'bot' }, { home: home.path })
    const anchorer = await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: roots, everyEvents: 10, everySeconds: 3600 })
    const s = await anchorer.flush()
    await anchorer.close()
    const events = await agent.history()
    await agent.close()
    assert.is(s.pending.length, 0)
    assert.equal(events.slice(0, 25).map(eventHash), run.hashes)
    const anchors = anchorsOf(events)
    assert.ok(anchors.length >= 2 && anchors.slice(0, 2).every((a) => a.to - a.from + 1 >= 10), JSON.stringify(anchors))
    assertTiled(anchors, 24)
    for (const v of await verifyAll(events)) assert.ok(v.ok, `${v.code}: ${v.message}`)
  } finally { home.cleanup() }
})

Anchor('SIGKILL in the middle of anchoring, three times: every event anchored exactly once, no duplicate event', async () => {
  const home = tmpDir()
  try {
    const rootFile = join(home.path, 'roots.pem'); await writeFile(rootFile, tsa.root.pem)
    const acked: string[] = []
    for (let k = 0; k < 3; k++) {
      // Killed right after a stamp that made a cut due, so often while its token is being fetched.
      const run = await runChild(home.path, tsa.url, rootFile, 0, (r) => r.anchored.length >= 1 && r.hashes.length % 10 === 1)
      acked.push(...run.hashes)
    }
    const agent = await Agent.open({ name: 'bot' }, { home: home.path })
    const anchorer = await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: roots, everyEvents: 10, everySeconds: 3600 })
    await anchorer.flush()
    await anchorer.close()
    const events = await agent.history()
    await agent.close()
    const hashes = events.map(eventHash)
    for (const h of acked) assert.ok(hashes.includes(h), 'every acknowledged stamp is in the chain')
    assert.is(new Set(events.map((e) => e.nonce)).size, events.length, 'no event appears twice')
    const anchors = anchorsOf(events)
    assertTiled(anchors, events.length - 2)
    const verdicts = await verifyAll(events)
    for (const v of verdicts) assert.ok(v.ok, `${v.code}: ${v.message}`)
    console.log(`  ${events.length} events, ${anchors.length} anchors after 3 kills; anchor event ${Buffer.byteLength(JSON.stringify(events[anchors[0]!.index]))} bytes of JSON`)
  } finally { home.cleanup() }
})

Anchor('teardown', async () => { await tsa.close() })

Anchor.run()
