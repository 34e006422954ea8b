// Nothing acknowledged is altered (issue 13): generated lossless-JSON payloads keep their canonical
// bytes on every path — record codec, sync wire, device store across a reopen, audit export, the hub
// over real MQTT and its export, the CLI's --json — and what canonical JSON refuses is refused up front
// without wedging anything. Property runs are bounded here; `npm run fuzz` runs them for longer.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Agent, Identity, stampEvent, canonicalize, parseJson, stringifyJson, verifyAuditExport, eventHash, MAX_DEPTH, MAX_DOCUMENT_DEPTH, Float,
  createProposal, verifyProposalSignature, type AissEvent, type JsonObject, type PcpError
} from '../runtime/index.js'
import { encodeRecord, decodeRecord } from '../runtime/record.js'
import { eventsEnvelope, encodeEnvelope, decodeEnvelope } from '../sync/wire.js'
import { encodeEnvelope as encodeGate, decodeEnvelope as decodeGate } from '../sync/gate-wire.js'
import { Hub } from '../hub/hub.js'
import { verifyBatch, SIG } from '../hub/ingest-verify.js'
import { SyncAgent } from '../sync/agent.js'
import { freePort, until } from './support/hub-helpers.js'
import { fc, params, payloadArb, nested, SEED, FUZZ } from './support/lossless-arb.js'
import { tmpDir, ROOT, codeOf } from './helpers.js'

const L = suite('lossless')
process.stdout.write(`lossless: fast-check seed ${SEED}${FUZZ ? ' (fuzz run)' : ''}; replay with PCP_FUZZ_SEED=${SEED}\n`)

const canon = (events: AissEvent[]): string[] => events.map((e) => canonicalize(e))

// The cases issue 13 found, always included besides the generated ones.
const FOUND: JsonObject[] = [
  parseJson('{"z":-0.0}') as JsonObject,
  parseJson('{"__proto__":{"__proto__":{"x":-0.0}},"constructor":{"prototype":1}}') as JsonObject,
  { deep: nested(MAX_DEPTH - 2, new Float(-0), [true, false]) },
  parseJson('{"n":[18446744073709551617,-18446744073709551617,1e21,1e+21,5e-324,25.0,-0,0.0]}') as JsonObject
]

L('property: a payload survives record, sync wire and gate envelopes with its canonical bytes', () => {
  const id = Identity.generate()
  fc.assert(fc.property(payloadArb, (payload) => {
    const { event } = stampEvent(id, { ...payload, event_type: 'p' }, { previousHash: null })
    const want = canonicalize(event)
    assert.is(canonicalize(decodeRecord(encodeRecord(event, 0), [id.agentId])), want, 'record')
    const env = decodeEnvelope(encodeEnvelope(eventsEnvelope(new Uint8Array(8), 0, [event])))
    assert.ok(env.ok)
    if (!env.ok) return
    const rec = (env.env.records as Uint8Array[])[0]!
    assert.is(canonicalize(decodeRecord(rec, env.env.ids as string[])), want, 'sync wire')
    const gate = decodeGate(encodeGate({ v: 1, kind: 'gate', corr: new Uint8Array(8), payload, event }))!
    assert.is(canonicalize(gate.payload), canonicalize(payload), 'gate payload')
    assert.is(canonicalize(gate.event), want, 'gate event')
    assert.is(canonicalize(parseJson(stringifyJson(event, 2))), want, 'lossless JSON text')
  }), params(150, 5000))
})

L('property: stamp → store → reopen → export → verify keeps every event byte for byte', async () => {
  await fc.assert(fc.asyncProperty(fc.array(payloadArb, { minLength: 1, maxLength: 12 }), async (payloads) => {
    const tmp = tmpDir()
    try {
      let agent = await Agent.open({ name: 'p' }, { home: tmp.path })
      const stamped = await Promise.all([...FOUND, ...payloads].map((p) => agent.stamp('p', p)))
      await agent.close()
      agent = await Agent.open({ name: 'p' }, { home: tmp.path })
      assert.equal(canon(await agent.history()), canon(stamped), 'after reopen')
      const file = join(tmp.path, 'export.json')
      await agent.export(file)
      // Another stamp after an export works (issue 13 #1: every later stamp failed with STORE_CORRUPTED).
      await agent.stamp('after', { ok: true })
      await agent.close()
      const doc = parseJson(readFileSync(file, 'utf8'), file) as { events: AissEvent[] }
      const r = verifyAuditExport(doc)
      assert.ok(r.usable && r.report.valid, JSON.stringify(r.usable ? r.report.errors.slice(0, 3) : r))
      assert.equal(canon(doc.events), canon(stamped), 'in the export')
    } finally { tmp.cleanup() }
  }), params(2, 40))
})

L('property: stamp → sync over MQTT → hub store → hub export → verify keeps every event byte for byte', async () => {
  await fc.assert(fc.asyncProperty(fc.array(payloadArb, { minLength: 1, maxLength: 12 }), async (payloads) => {
    const tmp = tmpDir()
    const port = await freePort()
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port, approval: 'auto', workers: 1, control: false })
    const agent = await Agent.open({ name: 'rover' }, { home: join(tmp.path, 'dev') })
    const sync = await SyncAgent.start({ url: `mqtt://127.0.0.1:${port}`, agents: [agent], ackTimeoutMs: 2000, statusFile: false })
    try {
      const stamped = await Promise.all([...FOUND, ...payloads].map((p) => agent.stamp('p', p)))
      await sync.flush(30_000)
      await until(() => hub.chain.status(agent.agentId)?.eventCount === stamped.length, 10_000, 'hub holds the chain')
      assert.equal(hub.stats().rejected, {})
      let text = ''
      for await (const chunk of (await hub.chain.exportChain(agent.agentId))!) text += chunk
      const doc = parseJson(text, 'hub export') as { events: AissEvent[] }
      const r = verifyAuditExport(doc)
      assert.ok(r.usable && r.report.valid, JSON.stringify(r.usable ? r.report.errors.slice(0, 3) : r))
      assert.equal(canon(doc.events), canon(stamped))
      assert.equal(doc.events.map(eventHash), stamped.map(eventHash))
    } finally {
      await sync.close(); await agent.close(); await hub.close(); tmp.cleanup()
    }
  }), params(1, 10))
})

L('the CLI: -0.0 and __proto__ payloads stamp, later stamps and export work, --json output is lossless', () => {
  const tmp = tmpDir()
  const pcp = (args: string[]): { code: number, out: string, err: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PCP_HOME: tmp.path } })
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr + String(r.error ?? '') + String(r.signal ?? '') }
  }
  try {
    // Few processes (each CLI start costs a second or more): the exact case, then one payload
    // holding the other found cases and a generated one.
    const [sample] = fc.sample(payloadArb.filter((p) => stringifyJson(p).length < 20_000), { seed: SEED, numRuns: 1 })
    const payloads = [FOUND[0]!, { ...FOUND[1], ...FOUND[3], generated: sample! }]
    const printed: AissEvent[] = []
    for (const p of payloads) {
      const r = pcp(['stamp', 'A', 't', '--payload', stringifyJson(p), '--json', '--create'])
      assert.is(r.code, 0, r.err)
      const ev = parseJson(r.out) as AissEvent
      assert.is(canonicalize(ev.payload), canonicalize({ ...p, event_type: 't' }), 'stamp --json prints the payload as stamped')
      printed.push(ev)
    }
    const hist = pcp(['history', 'A', '--json'])
    assert.is(hist.code, 0, hist.err)
    assert.equal(canon(parseJson(hist.out) as AissEvent[]), canon(printed), 'history --json')
    const file = join(tmp.path, 'a.json')
    assert.is(pcp(['export', 'A', '-o', file]).code, 0)
    const v = pcp(['verify', file, '--json'])
    assert.is(v.code, 0, v.out + v.err)
    assert.is((parseJson(v.out) as { valid: boolean }).valid, true)
  } finally { tmp.cleanup() }
})

L('a payload nested 2,000 deep is refused up front; the agent is not wedged, close() resolves, the process lives', () => {
  const tmp = tmpDir()
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/refused-stamp-child.ts'), tmp.path], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { refused: 'CANONICAL_TOO_DEEP', settled: 'all settled', later: 'later', valid: true, count: 5 })
  } finally { tmp.cleanup() }
})

L('deep input from outside is refused with a code: JSON text, a CLI payload, CBOR envelopes', async () => {
  assert.is(await codeOf(Promise.resolve().then(() => parseJson('['.repeat(100_000) + ']'.repeat(100_000)))), 'CANONICAL_TOO_DEEP')
  // Documents may wrap events in a few levels (export > events > event): MAX_DOCUMENT_DEPTH.
  assert.is(await codeOf(Promise.resolve().then(() => parseJson('['.repeat(MAX_DOCUMENT_DEPTH) + ']'.repeat(MAX_DOCUMENT_DEPTH)))), 'no error')
  assert.is(await codeOf(Promise.resolve().then(() => parseJson('['.repeat(MAX_DOCUMENT_DEPTH + 1) + ']'.repeat(MAX_DOCUMENT_DEPTH + 1)))), 'CANONICAL_TOO_DEEP')
  const deepCbor = new Uint8Array(50_001).fill(0x81); deepCbor[50_000] = 0
  const d = decodeEnvelope(deepCbor)
  assert.is(d.ok, false)
  assert.is(decodeGate(deepCbor), null)
  // A hostile device's records: too deep to canonicalise, and too deep to even decode. The hub's
  // worker stage gives a verdict for each (checkEvent turns both into EVENT_MALFORMED), never a throw.
  const id = Identity.generate()
  const { event } = stampEvent(id, { ok: true }, { previousHash: null })
  const tooDeep = encodeRecord({ ...event, payload: { v: nested(MAX_DEPTH + 5, 1) as never } }, 0)
  const text = new TextEncoder().encode('['.repeat(5000) + ']'.repeat(5000))
  // CBOR by hand: [0, ts, nonce, tag 60002 (JSON text), null, signature]
  const undecodable = Uint8Array.from([0x86, 0x00, 0x01, 0x61, 0x6e, 0xd9, 0xea, 0x62, 0x79, 0x27, 0x10, ...text, 0xf6, 0x61, 0x73])
  const res = verifyBatch({ ids: [id.agentId], records: [tooDeep, undecodable], agentId: id.agentId, publicKey: id.publicKey })
  assert.equal(res.sig, [SIG.NOT_CANONICAL, SIG.UNDECODABLE])
  const tmp = tmpDir()
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), 'stamp', 'A', 't', '--payload', '{"a":' + '['.repeat(2000) + ']'.repeat(2000) + '}'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCP_HOME: tmp.path } })
    assert.is(r.status, 2)
    assert.match(r.stderr, 'CANONICAL_TOO_DEEP')
  } finally { tmp.cleanup() }
})

L('an A2A proposal too deep to be stamped inside a handshake event is refused when it arrives', () => {
  const id = Identity.generate()
  for (const depth of [2000, MAX_DEPTH - 5]) {
    const proposal = { ...createProposal(id, { now: Date.now(), ttlSeconds: 60 }), metadata: nested(depth, 1) }
    try { verifyProposalSignature(proposal); assert.unreachable() } catch (e) { assert.is((e as PcpError).code, 'A2A_MESSAGE_MALFORMED', `${depth}: ${(e as Error).message}`) }
  }
})

L.run()
