// Issue 13 #4: a full disk never loses an acknowledged event. Each case runs a child process on a real
// tmpfs in a private mount namespace (test/support/disk-full.ts), fills it to the last byte, and checks
// what the child was told against what a reopen finds. Skipped, saying why, where that cannot be done.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { ROOT } from './helpers.js'
import { inTmpfs, tmpfsUnavailable } from './support/disk-full.js'

const D = suite('store-disk-full')
const why = tmpfsUnavailable()
if (why) console.log(`  store-disk-full: skipped: ${why}`)
const T = why ? D.skip : D

interface Refusal { i: number, code: string, file?: string, needed?: number, message: string }
interface Report { valid: boolean, eventCount: number, errors: Array<{ code: string }> }
interface Out { acked: number[], refused: Refusal[], stored: number[], reopened: Report, [k: string]: unknown }

async function run (scenario: string, sizeMiB: number): Promise<Out & { mnt: string }> {
  const r = await inTmpfs(sizeMiB, join(ROOT, 'test/support/disk-full-child.ts'), [scenario, join(ROOT, 'bin/pcp.js')], { cwd: ROOT })
  assert.is(r.code, 0, `child ${scenario} exited ${r.code}: ${r.stderr.slice(-2000)}`)
  return { mnt: r.mnt, ...JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Out }
}

/** The rules every case shares: acknowledged ⇒ stored, in order, on a chain that verifies. */
function checkStored (out: Out): void {
  const stored = new Set(out.stored)
  const lost = out.acked.filter((i) => !stored.has(i))
  assert.equal(lost, [], `acknowledged but gone after reopen: ${lost.join(', ')}`)
  assert.ok(out.stored.every((v, k) => k === 0 || v > out.stored[k - 1]!), 'stored in stamping order')
  assert.ok(out.reopened.valid, `reopened chain verifies: ${JSON.stringify(out.reopened.errors.slice(0, 3))}`)
  assert.is(out.reopened.eventCount, out.stored.length)
}

function checkNoSpace (r: Refusal, mnt: string): void {
  assert.is(r.code, 'STORE_NO_SPACE', `stamp ${r.i}: ${r.message}`)
  assert.ok(r.file?.startsWith(mnt), `names the store directory: ${r.file}`)
  assert.ok((r.needed ?? 0) > 0, 'says how many bytes to free')
  assert.match(r.message, /free at least \d+ bytes/)
}

T('stamps at a full disk are refused with STORE_NO_SPACE; after space returns the open agent chains onto what is on disk', async () => {
  const out = await run('agent', 24)
  checkStored(out) // first: on the old code the losses are what fails
  const freedFrom = out.freedFrom as number
  assert.ok(out.refused.length >= 40, `most stamps at a full disk are refused (${out.refused.length})`)
  for (const r of out.refused) { checkNoSpace(r, out.mnt); assert.ok(r.i < freedFrom) }
  // Every stamp after space came back is acknowledged, and the live agent's own chain has no broken link.
  for (let i = freedFrom; i < freedFrom + 20; i++) assert.ok(out.acked.includes(i), `stamp ${i} after freeing`)
  assert.ok(out.whileFull, 'the chain reads and verifies while the disk is full')
  assert.ok((out.live as Report).valid, `live verify: ${JSON.stringify((out.live as Report).errors.slice(0, 2))}`)
})

T('a store with a log of megabytes opens and reports its head at a full disk (the reserve file), takes stamps once space is back', async () => {
  const out = await run('reopen-full', 32)
  checkStored(out) // first: on the old code the losses are what fails
  assert.is(out.headWhileFull, 2999)
  assert.is(out.failureAtOpen, 'STORE_NO_SPACE')
  assert.is(out.refused.length, 1)
  checkNoSpace(out.refused[0]!, out.mnt)
  assert.equal(out.acked.slice(-1), [3001])
  assert.is(out.stored.length, 3001)
})

T('a failed sync-cursor write stops acknowledgement too: nothing stamped after it is lost', async () => {
  const out = await run('cursor', 24)
  checkStored(out) // first: on the old code the losses are what fails
  assert.is(out.cursorError, 'STORE_NO_SPACE')
  assert.is(out.refused.length, 1, 'the stamp while full is refused')
  checkNoSpace(out.refused[0]!, out.mnt)
  assert.is(out.acked.length, 20)
  assert.equal(out.cursor, { seq: 42, hash: 'c'.repeat(64) })
})

T('a write error that is not a full disk (EFBIG) is STORE_WRITE_FAILED; the agent reopens its store and nothing acknowledged is lost', async () => {
  const out = await run('write-failed', 24)
  checkStored(out) // first: on the old code the losses are what fails
  const freedFrom = out.freedFrom as number
  assert.ok(out.refused.length >= 1, 'stamps past the file-size limit are refused')
  for (const r of out.refused) {
    assert.is(r.code, 'STORE_WRITE_FAILED', `stamp ${r.i}: ${r.message}`)
    assert.match(r.message, /File too large/)
    assert.ok(r.i < freedFrom)
  }
  for (let i = freedFrom; i < freedFrom + 10; i++) assert.ok(out.acked.includes(i), `stamp ${i} after the limit was lifted`)
  assert.ok((out.live as Report).valid, `live verify: ${JSON.stringify((out.live as Report).errors.slice(0, 2))}`)
})

T('pcp stamp at a full disk: STORE_NO_SPACE on stderr and in --json, exit code 2; works once space is back', async () => {
  const out = await run('cli', 24)
  checkStored(out) // first: on the old code the losses are what fails
  const full = out.full as { status: number, stderr: string }
  assert.is(full.status, 2)
  assert.match(full.stderr, /\[STORE_NO_SPACE\]/)
  assert.match(full.stderr, /free at least \d+ bytes/)
  const json = out.fullJson as { status: number, stdout: string }
  assert.is(json.status, 2)
  assert.is(JSON.parse(json.stdout).error.code, 'STORE_NO_SPACE')
  const freed = out.freed as { status: number, stdout: string, stderr: string }
  assert.is(freed.status, 0, freed.stderr)
  assert.equal(out.stored, [0, 2])
})

D.run()
