// A copied reference (PiQrypt 1.9) agent directory continues its own chain (issue 13 #7): the month
// files beside the key — plaintext and "Pro" encrypted (memory-encryption.md, memory_vectors.json) —
// are imported and verified at the first open, and anything unreadable or unverifiable is refused,
// never forked around. Real files, real LevelDB, the CLI as a child process.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { createCipheriv, randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import {
  Agent, Identity, parseJson, stringifyJson, signingBytes, eventHash, canonicalize, toBase64, verifyAuditExport, plaintextKeyFile, Float,
  type AissEvent, type JsonValue
} from '../runtime/index.js'
import { tmpDir, ROOT } from './helpers.js'

const T = suite('reference-history')
const vectors = JSON.parse(readFileSync(join(ROOT, '..', 'shared', 'spec', 'memory_vectors.json'), 'utf8'))
const SEED = (): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => i) // fromSeed zeroes what it is given
const id = Identity.fromSeed(SEED(), { createdAt: 1700000000 })
const MASTER = Buffer.alloc(32, 0x11)
const PASS = vectors.passphrase as string
delete process.env.PCP_PASSPHRASE; delete process.env.PCP_MEMORY_PASSPHRASE

/** json.dumps(events, indent=2): Python escapes every non-ASCII character (UTF-16 units, as here). */
const pyDumps = (v: unknown): string => stringifyJson(v as JsonValue, 2).replace(/[^\x00-\x7f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
const sign = (unsigned: Record<string, unknown>): AissEvent => ({ ...unsigned, signature: toBase64(id.sign(signingBytes(unsigned as AissEvent))) }) as AissEvent
const next = (prev: AissEvent, timestamp: number | Float, payload: Record<string, JsonValue>, nonce: string): AissEvent =>
  sign({ version: 'AISS-1.0', agent_id: id.agentId, timestamp, nonce, payload, previous_hash: eventHash(prev) })
const seal = (plain: string): Buffer => {
  const nonce = randomBytes(12); const c = createCipheriv('aes-256-gcm', MASTER, nonce)
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()])
  return Buffer.concat([nonce, ct, c.getAuthTag()])
}

/** A reference agent directory: identity.json, private.key.json, and its history files. */
function referenceHome (files: Record<string, string | Buffer>): { home: string, dir: string, cleanup: () => void } {
  const t = tmpDir('pcp-refhist-')
  const dir = join(t.path, 'agents', 'ref')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'identity.json'), JSON.stringify(id.document(), null, 2))
  writeFileSync(join(dir, 'private.key.json'), plaintextKeyFile(SEED()))
  for (const [rel, body] of Object.entries(files)) {
    const p = join(t.path, rel)
    mkdirSync(join(p, '..'), { recursive: true })
    writeFileSync(p, body)
  }
  return { home: t.path, dir, cleanup: t.cleanup }
}

// The plaintext history: protocol.md §3.1's two reference events (25.0, "héllo", 1e-07), then more
// across a month boundary, one with a float timestamp (a caller passed time.time()).
const fixture = parseJson(readFileSync(join(ROOT, '..', 'shared', 'spec', 'protocol.md'), 'utf8').split('```json\n')[1]!.split('\n```')[0]!) as { events: AissEvent[] }
const plainChain: AissEvent[] = [...fixture.events]
plainChain.push(next(plainChain.at(-1)!, 1700000002, { event_type: 'step', big: 123456789012345678901234567890n, z: new Float(-0) }, 'n-2'))
plainChain.push(next(plainChain.at(-1)!, 1701400000, { event_type: 'step', n: 3 }, 'n-3'))
plainChain.push(next(plainChain.at(-1)!, new Float(1701400001.5), { event_type: 'step', n: 4 }, 'n-4'))
const PLAIN_NOV = join('agents', 'ref', 'events', 'plain', '2023-11.json')
const PLAIN_DEC = join('agents', 'ref', 'events', 'plain', '2023-12.json')
const plainFiles = (): Record<string, string> => ({ [PLAIN_NOV]: pyDumps(plainChain.slice(0, 3)), [PLAIN_DEC]: pyDumps(plainChain.slice(3)) })

// The Pro history: the vector's own month file (event n1, written by the reference), then events that
// went to the encrypted store and one written while locked to the plaintext store (both hold "a").
const vectorEvent = parseJson(vectors.month_plaintext as string) as AissEvent[]
const a = next(vectorEvent[0]!, 1701400000, { event_type: 'a' }, 'a')
const b = next(a, 1701400000, { event_type: 'b' }, 'b')
const c = next(b, 1701400000, { event_type: 'c' }, 'c')
const encChain = [vectorEvent[0]!, a, b, c]
const ENC_NOV = join('agents', 'ref', 'events', 'encrypted', '2023-11.enc')
const ENC_DEC = join('agents', 'ref', 'events', 'encrypted', '2023-12.enc')
const encFiles = (): Record<string, string | Buffer> => ({
  [join('keys', 'master.key.enc')]: Buffer.from(vectors.master_key_file_hex, 'hex'),
  [ENC_NOV]: Buffer.from(vectors.month_file_b64, 'base64'),
  [ENC_DEC]: seal(pyDumps([a, c])),
  [PLAIN_DEC]: pyDumps([a, b])
})

const canon = (events: readonly unknown[]): string[] => events.map((e) => canonicalize(e as AissEvent))

async function stampAndExport (home: string, opts: { memoryPassphrase?: string } = {}): Promise<{ exported: Record<string, unknown>, stamped: AissEvent }> {
  const agent = await Agent.open({ name: 'ref' }, { home, create: false, ...opts })
  try {
    const stamped = await agent.stamp('after_copy', { ok: true })
    const file = join(home, 'export.json')
    await agent.export(file)
    return { exported: parseJson(readFileSync(file, 'utf8'), file) as Record<string, unknown>, stamped }
  } finally { await agent.close() }
}

async function refusal (home: string, opts: { memoryPassphrase?: string } = {}): Promise<{ code: string, file?: string, index?: number, message: string }> {
  try { await (await Agent.open({ name: 'ref' }, { home, create: false, ...opts })).close() } catch (e) {
    const err = e as { code: string, file?: string, index?: number, message: string }
    return { code: err.code, ...(err.file ? { file: err.file } : {}), ...(err.index !== undefined ? { index: err.index } : {}), message: err.message }
  }
  return { code: 'no error', message: '' }
}

T('plaintext history: imported, verified and continued — one chain from the reference genesis', async () => {
  const h = referenceHome(plainFiles())
  try {
    const { exported, stamped } = await stampAndExport(h.home)
    const events = exported.events as AissEvent[]
    assert.is(events.length, plainChain.length + 1)
    assert.equal(canon(events.slice(0, -1)), canon(plainChain))
    assert.is(stamped.previous_hash, eventHash(plainChain.at(-1)!))
    assert.ok(stamped.timestamp >= 1701400002, 'never earlier than the imported head')
    const r = verifyAuditExport(exported)
    assert.ok(r.usable && r.report.valid, JSON.stringify(r))
    // Reopening does not import twice: the chain grows by the one new stamp.
    const again = await stampAndExport(h.home)
    assert.is((again.exported.events as unknown[]).length, plainChain.length + 2)
    assert.is(again.stamped.previous_hash, eventHash(stamped))
  } finally { h.cleanup() }
})

T('encrypted (Pro) history with the vectors\' master key, merged with the plaintext written while locked', async () => {
  const h = referenceHome(encFiles())
  try {
    assert.is((await refusal(h.home)).code, 'HISTORY_LOCKED')
    const wrong = await refusal(h.home, { memoryPassphrase: 'correct horse battery' })
    assert.is(wrong.code, 'HISTORY_PASSPHRASE_WRONG')
    assert.match(wrong.message, 'master.key.enc')
    // Neither refusal started a chain: with the right passphrase everything is imported.
    const { exported, stamped } = await stampAndExport(h.home, { memoryPassphrase: PASS })
    const events = exported.events as AissEvent[]
    assert.equal(canon(events.slice(0, -1)), canon(encChain))
    assert.is(stamped.previous_hash, eventHash(c))
    const r = verifyAuditExport(exported)
    assert.ok(r.usable && r.report.valid, JSON.stringify(r))
    // Once imported, the passphrase is not needed again.
    assert.is((await stampAndExport(h.home)).stamped.previous_hash, eventHash(stamped))
  } finally { h.cleanup() }
})

T('a damaged or tampered month file is refused, naming the file and the event; nothing is forked', async () => {
  const cases: Array<[string, (f: Record<string, string | Buffer>) => void, string, number | undefined]> = [
    ['payload edited', (f) => { f[PLAIN_DEC] = String(f[PLAIN_DEC]).replace('"n": 3', '"n": 30') }, 'HISTORY_INVALID', 0],
    ['float rewritten as int', (f) => { f[PLAIN_NOV] = String(f[PLAIN_NOV]).replace('"temp": 25.0', '"temp": 25') }, 'HISTORY_INVALID', 0],
    ['truncated', (f) => { f[PLAIN_DEC] = String(f[PLAIN_DEC]).slice(0, 200) }, 'HISTORY_UNREADABLE', undefined],
    ['an event removed', (f) => { f[PLAIN_NOV] = pyDumps([plainChain[0], plainChain[2]]) }, 'HISTORY_INVALID', undefined],
    ['a forked event added', (f) => { f[PLAIN_DEC] = pyDumps([...plainChain.slice(3), next(plainChain[3]!, 1701400009, { event_type: 'x' }, 'x')]) }, 'HISTORY_INVALID', 2]
  ]
  for (const [what, damage, code, index] of cases) {
    const files = plainFiles(); damage(files)
    const h = referenceHome(files)
    try {
      const r = await refusal(h.home)
      assert.is(r.code, code, what)
      assert.ok(r.file?.endsWith('.json'), `${what}: names the file (${r.file})`)
      assert.match(r.message, r.file!, what)
      if (index !== undefined) assert.is(r.index, index, what)
      // The refusal left no chain behind: repaired, the directory imports and continues.
      writeFileSync(join(h.home, PLAIN_NOV), plainFiles()[PLAIN_NOV]!); writeFileSync(join(h.home, PLAIN_DEC), plainFiles()[PLAIN_DEC]!)
      assert.is((await stampAndExport(h.home)).stamped.previous_hash, eventHash(plainChain.at(-1)!), what)
    } finally { h.cleanup() }
  }
})

T('a damaged encrypted month or a missing master key is HISTORY_UNREADABLE naming the file', async () => {
  const files = encFiles()
  const blob = Buffer.from(files[ENC_DEC] as Buffer); blob[20] ^= 1; files[ENC_DEC] = blob
  let h = referenceHome(files)
  try {
    const r = await refusal(h.home, { memoryPassphrase: PASS })
    assert.is(r.code, 'HISTORY_UNREADABLE'); assert.is(r.file, join(h.home, ENC_DEC))
  } finally { h.cleanup() }
  h = referenceHome(encFiles())
  try {
    unlinkSync(join(h.home, 'keys', 'master.key.enc'))
    const r = await refusal(h.home, { memoryPassphrase: PASS })
    assert.is(r.code, 'HISTORY_UNREADABLE'); assert.match(r.message, 'master.key.enc')
  } finally { h.cleanup() }
})

T('a store that already started its own chain beside a reference history is refused (HISTORY_CONFLICT)', async () => {
  const h = referenceHome({})
  try {
    const agent = await Agent.open({ name: 'ref' }, { home: h.home, create: false })
    await agent.stamp('forked_genesis'); await agent.close()
    for (const [rel, body] of Object.entries(plainFiles())) { mkdirSync(join(h.home, rel, '..'), { recursive: true }); writeFileSync(join(h.home, rel), body) }
    const r = await refusal(h.home)
    assert.is(r.code, 'HISTORY_CONFLICT'); assert.match(r.message, 'events')
  } finally { h.cleanup() }
})

const pcp = (home: string, args: string[], env: Record<string, string> = {}): { code: number, out: string, err: string } => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCP_HOME: home, ...env } })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}

T('CLI: `pcp stamp` on a copied reference home continues its chain; a tampered one exits 2 naming the file', () => {
  let h = referenceHome(encFiles())
  try {
    let r = pcp(h.home, ['stamp', 'ref', 'after_copy', '--json'], { PCP_MEMORY_PASSPHRASE: 'wrong' })
    assert.is(r.code, 2, r.err + r.out); assert.match(r.err + r.out, 'HISTORY_PASSPHRASE_WRONG')
    r = pcp(h.home, ['stamp', 'ref', 'after_copy', '--json'], { PCP_MEMORY_PASSPHRASE: PASS })
    assert.is(r.code, 0, r.err)
    assert.is((parseJson(r.out) as unknown as AissEvent).previous_hash, eventHash(c))
    const file = join(h.home, 'out.json')
    assert.is(pcp(h.home, ['export', 'ref', '-o', file]).code, 0)
    r = pcp(h.home, ['verify', file, '--json'])
    assert.is(r.code, 0, r.out)
    assert.is(JSON.parse(r.out).event_count, encChain.length + 1)
  } finally { h.cleanup() }
  const files = plainFiles(); files[PLAIN_DEC] = String(files[PLAIN_DEC]).replace('"n": 4', '"n": 5')
  h = referenceHome(files)
  try {
    const r = pcp(h.home, ['stamp', 'ref', 'after_copy'])
    assert.is(r.code, 2)
    assert.match(r.err, 'HISTORY_INVALID'); assert.match(r.err, join(h.home, PLAIN_DEC)); assert.match(r.err, 'event 1')
    rmSync(join(h.home, 'agents', 'ref', 'store'), { recursive: true, force: true })
  } finally { h.cleanup() }
})

T.run()
