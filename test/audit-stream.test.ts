// The streaming export verifier (runtime/audit-stream.ts) gives exactly the verdicts of the in-memory
// one — same usable/unusable answer, same report, same codes, indexes and messages — on the audit
// fixtures, on exports of our own agents (rotation included), and on tampered and malformed variants of
// each; read in chunks as small as 7 bytes so every refill boundary is crossed, and with every
// fingerprint colliding so each replay/fork answer comes from re-reading the file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Agent, Identity, stampEvent, buildAuditExport, verifyAuditExport, verifyAuditExportFile, parseJson, stringifyJson, Float,
  type AissEvent, type JsonValue
} from '../runtime/index.js'
import { FingerprintIndex, halfSipHash } from '../runtime/fingerprint-index.js'
import { MapSeenIndex } from '../runtime/verify.js'
import { tmpDir, readFixture, seededRandom } from './helpers.js'

const S = suite('audit-stream')
const tmp = tmpDir('pcp-stream-')
let fileNo = 0

/** The old path, as `pcp verify` ran it: read the file as UTF-8, parse it whole, verifyAuditExport. */
function inMemory (file: string): unknown {
  let doc: unknown
  try { doc = parseJson(readFileSync(file, 'utf8'), 'f') } catch { return { usable: false, code: 'JSON_INVALID' } }
  const r = verifyAuditExport(doc)
  return r.usable ? r : { usable: false, code: 'EXPORT_MALFORMED', reason: r.reason }
}

function streamed (file: string, opts: { chunkSize?: number, fingerprint?: (k: string) => number } = {}): unknown {
  const r = verifyAuditExportFile(file, opts)
  // JSON errors are worded by position in the file rather than in the text: the code is the contract.
  return r.usable ? r : r.code === 'JSON_INVALID' ? { usable: false, code: r.code } : r
}

function write (content: string | Buffer): string {
  const file = join(tmp.path, `e${fileNo++}.json`)
  writeFileSync(file, content)
  return file
}

const verdicts = new Map<string, number>()
function same (content: string | Buffer, what: string): void {
  const file = write(content)
  const want = inMemory(file) as { usable: boolean, code?: string, report?: { valid: boolean, errors: Array<{ code: string }> } }
  const k = want.usable ? (want.report!.valid ? 'valid' : [...new Set(want.report!.errors.map((e) => e.code))].sort().join('+')) : want.code!
  verdicts.set(k, (verdicts.get(k) ?? 0) + 1)
  for (const opts of [{}, { chunkSize: 7 }, { chunkSize: 64, fingerprint: () => 42 }]) {
    assert.equal(streamed(file, opts), want, `${what} ${JSON.stringify(opts.chunkSize ?? 'default')}${opts.fingerprint ? ' colliding' : ''}`)
  }
}

function chain (n: number, id = Identity.generate({ now: 1700000000 })): { id: Identity, events: AissEvent[] } {
  const events: AissEvent[] = []; let prev: string | null = id.genesisHash()
  for (let i = 0; i < n; i++) {
    const s = stampEvent(id, { event_type: 'tick', i, f: new Float(i), big: 2n ** 70n + BigInt(i), s: 'é😀\u0000"' }, { previousHash: prev, timestamp: 1700000000 + i })
    events.push(s.event); prev = s.hash
  }
  return { id, events }
}

type Doc = Record<string, any>
const clone = (d: Doc): Doc => parseJson(stringifyJson(d)) as Doc

/** Tampered and reshaped variants of a parsed export: every check and every structural path. */
function variants (base: Doc): Array<[string, Doc | string]> {
  const n = base.events.length
  const v: Array<[string, (d: Doc) => Doc | string | void]> = [
    ['as is', () => {}],
    ['payload edited', (d) => { d.events[n - 1].payload.extra = 1 }],
    ['signature edited', (d) => { d.events[0].signature = d.events[0].signature.replace(/^./, (c: string) => c === 'A' ? 'B' : 'A') }],
    ['signature not base64', (d) => { d.events[0].signature = 'not base64!' }],
    ['an event dropped', (d) => { d.events.splice(Math.min(1, n - 1), 1) }],
    ['an event repeated (replay and fork)', (d) => { d.events.push(d.events[0]) }],
    ['two events swapped', (d) => { if (n > 2) [d.events[1], d.events[2]] = [d.events[2], d.events[1]] }],
    ['a fork: same predecessor as an earlier event', (d) => { d.events.push({ ...d.events[n - 1], nonce: 'x', previous_hash: d.events[n - 1].previous_hash }) }],
    ['a nonce reused', (d) => { d.events[n - 1].nonce = d.events[0].nonce }],
    ['timestamp backwards', (d) => { d.events[n - 1].timestamp = 1 }],
    ['timestamp text', (d) => { d.events[0].timestamp = '1700000000' }],
    ['a field missing', (d) => { delete d.events[0].nonce }],
    ['an event not an object', (d) => { d.events.push(5, null, [1], 'x') }],
    ['previous_hash empty and non-string', (d) => { d.events.push({ ...d.events[0], previous_hash: '' }, { ...d.events[0], previous_hash: 7 }) }],
    ['agent_id of another', (d) => { d.events[0].agent_id = 'x'.repeat(32) }],
    ['chain_integrity_hash wrong', (d) => { d.chain_integrity_hash = 'f'.repeat(64) }],
    ['metadata.event_count wrong', (d) => { if (d.metadata) d.metadata.event_count = 99; else d.metadata = { event_count: 99 } }],
    ['metadata.event_count a float', (d) => { d.metadata = { ...d.metadata, event_count: new Float(n) } }],
    ['no events', (d) => { d.events = [] }],
    ['events not an array', (d) => { d.events = { a: 1 } }],
    ['spec wrong', (d) => { d.spec = 'NOPE' }],
    ['spec missing', (d) => { delete d.spec }],
    ['exported_at missing', (d) => { delete d.exported_at }],
    ['identity invalid', (d) => { d.agent_identity = { ...d.agent_identity, public_key: 'not base64' } }],
    ['identity a string', (d) => { d.agent_identity = 'nope' }],
    ['identity null, "identity" given', (d) => { d.identity = d.agent_identity; d.agent_identity = null }],
    ['identity under "identity" only', (d) => { d.identity = d.agent_identity; delete d.agent_identity }],
    ['identity missing', (d) => { delete d.agent_identity }],
    ['identity after the events', (d) => { const { agent_identity: id, ...rest } = d; return { ...rest, agent_identity: id } }],
    ['events first of all', (d) => { const { events, ...rest } = d; return { events, ...rest } }],
    ['__proto__ and constructor at top level', (d) => { const o = { ...d }; for (const [k, v] of [['__proto__', 1], ['constructor', 2]] as const) Object.defineProperty(o, k, { value: v, enumerable: true }); return o }]
  ]
  const out: Array<[string, Doc | string]> = []
  for (const [what, change] of v) {
    const d = clone(base)
    const r = change(d)
    out.push([what, r ?? d])
  }
  return out
}

/** Malformed text around a valid export: each must be unusable the same way. */
function textVariants (text: string): Array<[string, string]> {
  const i = text.indexOf('"events"')
  return [
    ['truncated', text.slice(0, Math.floor(text.length * 0.7))],
    ['truncated inside a string', text.slice(0, text.indexOf('"signature"') + 20)],
    ['trailing garbage', text + 'x'],
    ['trailing whitespace', text + ' \n\t\r\n'],
    ['BOM', '\ufeff' + text],
    ['trailing comma in events', text.replace(/\}(\s*)\]/, '},$1]')],
    ['missing comma between events', text.replace(/\},(\s*)\{/, '}$1{')],
    ['key repeated, same value', text.replace('{', '{"spec": "AISS-1.0-AUDIT",')],
    ['key repeated, other value', text.replace('{', '{"spec": "AISS-2",')],
    ['events repeated', text.replace('{', '{"events": [],')],
    ['a number out of range', text.replace(/"exported_at": \d+/, '"exported_at": 1e400')],
    ['unquoted key', text.replace('"spec"', 'spec')],
    ['colon missing', text.slice(0, i + 8) + text.slice(i + 9)],
    ['nested too deep in an event', text.replace('"payload": {', '"payload": {"deep": ' + '['.repeat(1100) + ']'.repeat(1100) + ',')],
    ['nested just deep enough in an event', text.replace('"payload": {', '"payload": {"deep": ' + '['.repeat(990) + ']'.repeat(990) + ',')],
    ['not an object', '[' + text + ']'],
    ['empty', ''],
    ['only whitespace', '  \n'],
    ['a lone surrogate escaped', text.replace('"spec"', '"\\ud800": 1, "spec"')]
  ]
}

function checkAll (base: Doc, label: string): void {
  for (const [what, d] of variants(base)) {
    for (const indent of [2, 0]) same(typeof d === 'string' ? d : stringifyJson(d as JsonValue, indent), `${label}: ${what} (indent ${indent})`)
  }
  const text = stringifyJson(base as JsonValue, 2)
  for (const [what, t] of textVariants(text)) same(t, `${label}: ${what}`)
  // Bytes that are not UTF-8, in a string and between tokens: read as U+FFFD by both, as readFile does.
  const at = Buffer.byteLength(text.slice(0, text.indexOf('"nonce": "') + 10))
  const bytes = Buffer.from(text)
  same(Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xc3]), bytes.subarray(at)]), `${label}: invalid UTF-8 in a nonce`)
  same(Buffer.concat([bytes.subarray(0, 1), Buffer.from([0xff]), bytes.subarray(1)]), `${label}: invalid UTF-8 between tokens`)
}

S('the reference export fixture and its tampered variants', () => {
  const text = readFixture('fixtures/reference-export.json')
  same(text, 'fixture as is')
  checkAll(parseJson(text) as Doc, 'reference-export')
})

S('the reference chain fixture, as an export, and its variants', () => {
  const ref = parseJson(readFixture('fixtures/reference-chain.json')) as Doc
  checkAll(clone(buildAuditExport(ref.identity, ref.events, { now: 1700000100 }) as unknown as Doc), 'reference-chain')
})

S('our own exports: a chain with a key rotation, written by agent.export, and variants', async () => {
  const agent = await Agent.open({ name: 'rot' }, { home: tmp.path, durability: 'relaxed' })
  for (let i = 0; i < 5; i++) await agent.stamp('tick', { i, t: new Float(20.5) })
  await agent.rotate()
  for (let i = 0; i < 5; i++) await agent.stamp('tock', { i })
  const file = join(tmp.path, 'rot.json')
  await agent.export(file)
  await agent.close()
  const text = readFileSync(file, 'utf8')
  same(text, 'agent export')
  checkAll(parseJson(text) as Doc, 'rotated')
})

S('a longer chain with faults far apart: same errors, and bounded index memory', () => {
  const { id, events } = chain(3000)
  const doc = clone(buildAuditExport(id.document(), events) as unknown as Doc)
  doc.events[2999].nonce = doc.events[17].nonce
  doc.events.push({ ...doc.events[2500] })
  doc.events[1500].payload.i = -1
  const file = write(stringifyJson(doc as JsonValue, 2))
  const want = inMemory(file) as { report: { errors: Array<{ code: string, index: number }> } }
  const codes = want.report.errors.map((e) => `${e.code}@${e.index}`)
  for (const c of ['SIGNATURE_INVALID@1500', 'CHAIN_LINK_BROKEN@1501', 'NONCE_REPLAYED@2999', 'FORK_DETECTED@3000', 'NONCE_REPLAYED@3000']) assert.ok(codes.includes(c), `${c} in ${codes.join(' ')}`)
  assert.equal(streamed(file), want)
  assert.equal(streamed(file, { chunkSize: 333 }), want)
})

S('FingerprintIndex answers as a Map does, even when every fingerprint collides', () => {
  const rnd = seededRandom(7)
  const keys = Array.from({ length: 3000 }, () => String(Math.floor(rnd() * 800)))
  for (const fingerprint of [undefined, () => 1, (k: string) => k.length]) {
    const map = new MapSeenIndex()
    const idx = new FingerprintIndex((i, k) => keys[i] === k, { capacity: 3, ...(fingerprint ? { fingerprint } : {}) })
    keys.forEach((k, i) => assert.is(idx.claim(k, i), map.claim(k, i), `key ${k} at ${i}`))
    assert.ok(idx.size <= 800)
    if (fingerprint) assert.ok(idx.rejected > 0, 'the collisions were confirmed and turned down')
  }
  // Keyed: the same string fingerprints differently under two keys, and stably under one.
  assert.is(halfSipHash(1, 2, 'abc'), halfSipHash(1, 2, 'abc'))
  assert.is.not(halfSipHash(1, 2, 'abc'), halfSipHash(1, 3, 'abc'))
  assert.is.not(halfSipHash(1, 2, 'ab'), halfSipHash(1, 2, 'ab\u0000'))
})

S('the variants cover every verdict: valid, each chain code, each export code, unusable', () => {
  const all = [...verdicts.keys()].join(' ')
  for (const c of ['valid', 'JSON_INVALID', 'EXPORT_MALFORMED', 'SIGNATURE_INVALID', 'SIGNATURE_ENCODING', 'CHAIN_LINK_BROKEN', 'FORK_DETECTED', 'NONCE_REPLAYED',
    'TIMESTAMP_BACKWARDS', 'EVENT_MALFORMED', 'AGENT_ID_MISMATCH', 'EXPORT_HASH_MISMATCH', 'IDENTITY_INVALID']) assert.ok(all.includes(c), `${c} among ${all}`)
})

S.after(() => tmp.cleanup())
S.run()
