// Whole-file writes at a full disk (runtime/fsutil.ts, hub/trustgate/fsutil.ts, the audit export): the
// kernel answers a write that does not fit with a short count, not an error. A writer that ignored the
// count acknowledged a truncated file (an activation that vanished on reload, an export that does not
// parse). One child on a real tmpfs (test/support/short-write-child.ts); skipped, saying why, elsewhere.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { ROOT } from './helpers.js'
import { inTmpfs, tmpfsUnavailable } from './support/disk-full.js'

const F = suite('fsutil-disk-full')
const why = tmpfsUnavailable()
if (why) console.log(`  fsutil-disk-full: skipped: ${why}`)
const T = why ? F.skip : F

type Failure = { code: string, file?: string, cause?: string }
let child: Promise<{ mnt: string, out: Record<string, unknown> }> | undefined
function run (): Promise<{ mnt: string, out: Record<string, unknown> }> {
  child ??= inTmpfs(8, join(ROOT, 'test/support/short-write-child.ts'), ['short', join(ROOT, 'bin/pcp.js')], { cwd: ROOT }).then((r) => {
    assert.is(r.code, 0, `child exited ${r.code}: ${r.stderr.slice(-2000)}`)
    return { mnt: r.mnt, out: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown> }
  })
  return child
}

function refused (f: unknown, file: string): void {
  assert.is((f as Failure).code, 'FILE_WRITE_FAILED', JSON.stringify(f))
  assert.is((f as Failure).file, file)
  assert.is((f as Failure).cause, 'ENOSPC')
}

T('a TrustGate activation that does not fit is refused (FILE_WRITE_FAILED naming the log), never acknowledged and then lost', async () => {
  const { mnt, out } = await run()
  // First what was acknowledged against what the log holds: on the old code bob's activation returned seq 2
  // and was gone from history.
  if ((out.activateWhileFull as { ok?: number }).ok !== undefined) assert.equal(out.historyWhileFull, ['alice', 'bob'], 'an acknowledged activation is in the log')
  refused(out.activateWhileFull, join(mnt, 'tg', 'activations.jsonl'))
  assert.equal(out.historyWhileFull, ['alice'])
  assert.is(out.activateAfter, 2, 'the next activation follows the last whole line')
  assert.equal(out.history, ['alice', 'carol'])
  assert.equal(out.integrity, { ok: true, problems: [] })
})

T('a TrustGate state file that does not fit keeps the old one whole, and no temp file is left', async () => {
  const { mnt, out } = await run()
  if ((out.tgWrite as { ok?: boolean }).ok) assert.is(out.tgLength, 20000, 'a write that succeeded left the whole file') // the old code: 8192 of 20000 bytes
  refused(out.tgWrite, join(mnt, 'state.json'))
  assert.is(out.tgContent, 'old\n')
  assert.equal(out.tgTemps, [])
})

T('a device file that does not fit keeps the old one and leaves no temp file to fill the disk further', async () => {
  const { mnt, out } = await run()
  assert.equal(out.rtTemps, [])
  refused(out.rtWrite, join(mnt, 'identity.json'))
  assert.is(out.rtContent, 'old\n')
})

T('pcp export onto a full disk fails naming the file, leaves nothing that looks like an export; with space it writes all', async () => {
  const { mnt, out } = await run()
  assert.is(out.exportLeft, false, 'no file at the export path after a write that did not fit')
  refused(out.exportWhileFull, join(mnt, 'd.audit.json'))
  assert.equal(out.exportTemps, [])
  assert.is(out.exportAfter, 30)
})

T('pcp identity unlock -o onto a full disk: FILE_WRITE_FAILED, no part-file left, so the retry with space writes the key', async () => {
  const { out } = await run()
  assert.is(out.unlockLeft, false, 'no file left at -o after a write that did not fit') // the old code: an empty file, and the retry refused as "exists"
  assert.equal(out.unlockWhileFull, { status: 2, code: 'FILE_WRITE_FAILED' })
  assert.equal(out.unlockAfter, { status: 0 })
  assert.ok((out.unlockBytes as number) > 0)
})

F.run()
