// Reading a running agent (issue 17 #6): a real child process owns the store and keeps stamping; the
// CLI, another real process, reads its history, export and head through the owner's read-only socket
// (runtime/store-inspect.ts). Before this, each of these commands failed with STORE_LOCKED.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { readFileSync, statSync, existsSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { Agent, eventHash, verifyAuditExportFile } from '../runtime/index.js'
import { tmpDir, ROOT } from './helpers.js'

const Inspect = suite('store inspection: reading a store another process owns')
const NAME = 'robot'

const pcp = (home: string, args: string[]): Promise<{ code: number, out: string, err: string }> => new Promise((resolve) => {
  execFile(process.execPath, [join(ROOT, 'bin/pcp.js'), ...args], { cwd: ROOT, env: { ...process.env, PCP_HOME: home } }, (err, out, stderr) => {
    resolve({ code: err ? (err as { code?: number }).code ?? -1 : 0, out, err: stderr })
  })
})

interface Owner { child: ChildProcess, acked: Map<number, string>, waitFor: (n: number) => Promise<void>, lines: string[] }

function startOwner (home: string, durability?: string): Promise<Owner> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/inspect-owner-child.ts'), home, NAME, ...(durability ? [durability] : [])], { cwd: ROOT })
  const acked = new Map<number, string>()
  const lines: string[] = []
  const waiters: Array<{ n: number, resolve: () => void }> = []
  let buf = ''; let err = ''
  child.stderr!.on('data', (d) => { err += d })
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`owner exited ${code}: ${err}`)))
    child.stdout!.on('data', (d) => {
      buf += d
      const ls = buf.split('\n'); buf = ls.pop()!
      for (const l of ls) {
        lines.push(l)
        if (l.startsWith('ready')) resolve({ child, acked, lines, waitFor: (n) => new Promise((r) => { if (acked.size >= n) r(); else waiters.push({ n, resolve: r }) }) })
        const m = /^ok (\d+) ([0-9a-f]{64})$/.exec(l)
        if (m) acked.set(Number(m[1]), m[2]!)
        for (const w of waiters.splice(0)) { if (acked.size >= w.n) w.resolve(); else waiters.push(w) }
      }
    })
  })
}

const exited = (c: ChildProcess): Promise<void> => new Promise((resolve) => { if (c.exitCode !== null || c.signalCode !== null) resolve(); else c.once('exit', () => resolve()) })

Inspect('while the owner stamps: history, export (which verifies), memory head and stats read its chain; nothing is written by the readers', async () => {
  const tmp = tmpDir('pcp-inspect-')
  let owner: Owner | undefined
  try {
    owner = await startOwner(tmp.path)
    await owner.waitFor(10)
    const sock = join(tmp.path, 'agents', NAME, 'store', 'inspect.sock')
    assert.is(statSync(sock).mode & 0o777, 0o600, 'the socket is readable and writable by its owner only')

    const before = owner.acked.size
    let r = await pcp(tmp.path, ['history', NAME, '--json'])
    assert.is(r.code, 0, `history exits 0 while the owner runs: ${r.err}`)
    const history = JSON.parse(r.out) as Array<{ payload: { n: number } }>
    assert.ok(history.length >= before, `history has ${history.length} events, ${before} were acknowledged before it ran`)
    // Every event the reader saw is the owner's own event at that position.
    await owner.waitFor(history.length)
    history.forEach((e, i) => {
      assert.is(e.payload.n, i)
      assert.is(eventHash(e as never), owner!.acked.get(i), `event #${i} read through the socket is the one the owner stamped`)
    })

    const file = join(tmp.path, 'export.json')
    r = await pcp(tmp.path, ['export', NAME, '-o', file, '--json'])
    assert.is(r.code, 0, `export exits 0 while the owner runs: ${r.err}`)
    const exp = JSON.parse(r.out)
    assert.ok(exp.event_count >= history.length)
    const verdict = await verifyAuditExportFile(file)
    assert.ok(verdict.usable && verdict.report.valid, JSON.stringify(verdict))
    r = await pcp(tmp.path, ['verify', file, '--json'])
    assert.is(r.code, 0, 'pcp verify accepts the export made through the socket')
    assert.is(JSON.parse(r.out).event_count, exp.event_count)
    const exported = JSON.parse(readFileSync(file, 'utf8')).events as unknown[]

    r = await pcp(tmp.path, ['memory', 'head', NAME, '--json'])
    assert.is(r.code, 0, r.err)
    const head = JSON.parse(r.out)
    assert.is(head.running_pid, owner.child.pid, 'the head says which process holds the store')
    assert.ok(head.seq >= exported.length - 1, `head #${head.seq} is at or past the export's last event`)
    await owner.waitFor(head.seq + 1)
    assert.is(head.hash, owner.acked.get(head.seq), 'the head served is a written, acknowledged event')
    assert.is(head.durability, 'durable')
    assert.ok(head.fsynced_through >= head.seq, 'durable mode: the served head is fsynced')

    r = await pcp(tmp.path, ['memory', 'stats', '--json'])
    assert.is(r.code, 0, r.err)
    const stats = JSON.parse(r.out)
    assert.equal(stats.skipped, [], 'the running agent is counted, not skipped as locked')
    assert.ok(stats.events >= head.seq + 1)

    // memory search through the owner's indexes: by type, newest first, and a time range.
    r = await pcp(tmp.path, ['memory', 'search', '--type', 'tick', '--limit', '5', '--json'])
    assert.is(r.code, 0, `memory search exits 0 while the owner runs: ${r.err}`)
    const found = JSON.parse(r.out) as { results: Array<{ agent: string, seq: number, event: { payload: { n: number } } }>, skipped: unknown[] }
    assert.equal(found.skipped, [], 'the running agent is searched, not skipped as locked')
    assert.equal(found.results.map((x) => [x.agent, x.seq, x.event.payload.n]), [0, 1, 2, 3, 4].map((i) => [NAME, i, i]))
    await owner.waitFor(5)
    found.results.forEach((x) => assert.is(eventHash(x.event as never), owner!.acked.get(x.seq), `search result #${x.seq} is the stamped event`))
    r = await pcp(tmp.path, ['memory', 'search', '--agent', NAME, '--after', '0', '--limit', '20000', '--json'])
    assert.is(r.code, 2, 'a search larger than one socket reply is refused, not truncated')
    assert.equal(JSON.parse(r.out).error.code, 'ARGUMENT_INVALID', r.out)
    assert.match(JSON.parse(r.out).error.message, /at most 10000 events/)

    owner.child.kill('SIGTERM')
    await exited(owner.child)
    const closed = owner.lines.find((l) => l.startsWith('closed '))
    assert.ok(closed, 'the owner closed cleanly')
    assert.not.ok(existsSync(sock), 'close() removes the socket')
    // The chain the owner left is its own stamps only, the export a prefix of it: the readers wrote nothing.
    const agent = await Agent.open({ name: NAME }, { home: tmp.path, create: false })
    try {
      assert.equal((await agent.verify()).errors, [])
      assert.is(agent.head!.seq + 1, owner.acked.size, 'every event in the chain is one the owner stamped')
      let i = 0
      for await (const ev of agent.events()) {
        if (i < exported.length) assert.is(eventHash(ev), eventHash(exported[i] as never), `export event #${i} is the stored one`)
        i++
      }
    } finally { await agent.close() }
  } finally {
    if (owner) { owner.child.kill('SIGKILL'); await exited(owner.child) }
    tmp.cleanup()
  }
})

Inspect('the socket is read-only: an unknown op (a write) is refused and the chain does not change', async () => {
  const tmp = tmpDir('pcp-inspect-')
  let owner: Owner | undefined
  try {
    owner = await startOwner(tmp.path, 'relaxed')
    await owner.waitFor(3)
    const sock = join(tmp.path, 'agents', NAME, 'store', 'inspect.sock')
    const replies = await new Promise<string[]>((resolve, reject) => {
      const s = connect(sock)
      let buf = ''
      s.setEncoding('utf8')
      s.on('error', reject)
      s.on('data', (d) => { buf += d; const l = buf.split('\n').filter(Boolean); if (l.length === 4) { s.destroy(); resolve(l) } })
      s.write(JSON.stringify({ op: 'append', events: [] }) + '\n' + JSON.stringify({ op: 'records', from: -1, to: 2 }) + '\n' +
        JSON.stringify({ op: 'search', query: { eventType: 7 } }) + '\n' + JSON.stringify({ op: 'info' }) + '\n')
    })
    const [put, bad, badSearch, info] = replies.map((l) => JSON.parse(l))
    assert.equal([badSearch.ok, badSearch.error.code], [false, 'ARGUMENT_INVALID'], 'a search query is checked field by field')
    assert.match(badSearch.error.message, '"eventType" must be a string')
    assert.is(put.ok, false)
    assert.match(put.error.message, 'read-only')
    assert.is(bad.ok, false)
    assert.is(bad.error.code, 'ARGUMENT_INVALID')
    assert.is(info.ok, true)
    assert.is(info.result.durability, 'relaxed')
    assert.ok(info.result.durable <= info.result.head.seq, 'relaxed: fsynced-through may trail the written head')
  } finally {
    if (owner) { owner.child.kill('SIGKILL'); await exited(owner.child) }
    tmp.cleanup()
  }
})

Inspect('after the owner is SIGKILLed its stale socket is no obstacle: the CLI opens the store itself', async () => {
  const tmp = tmpDir('pcp-inspect-')
  let owner: Owner | undefined
  try {
    owner = await startOwner(tmp.path)
    await owner.waitFor(5)
    owner.child.kill('SIGKILL')
    await exited(owner.child)
    assert.ok(existsSync(join(tmp.path, 'agents', NAME, 'store', 'inspect.sock')), 'a killed owner leaves its socket behind')
    const r = await pcp(tmp.path, ['memory', 'head', NAME, '--json'])
    assert.is(r.code, 0, r.err)
    const head = JSON.parse(r.out)
    assert.is(head.running_pid, null, 'read directly, not through a process')
    assert.ok(head.seq + 1 >= 5)
  } finally {
    if (owner) { owner.child.kill('SIGKILL'); await exited(owner.child) }
    tmp.cleanup()
  }
})

Inspect.run()
