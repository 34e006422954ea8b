// A store on a read-only mount (EROFS; the same path as EACCES or too many open files): LevelDB cannot
// take its LOCK, and the open was reported as STORE_CORRUPTED ("Database failed to open", no reason), which
// sends an operator to repair a store that is whole. The home is bind-mounted read-only in a private mount
// namespace (root only; skipped, saying why, elsewhere), the child opens it for real.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { ROOT, tmpDir } from './helpers.js'
import { tmpfsUnavailable } from './support/disk-full.js'

const R = suite('store-readonly')
const why = tmpfsUnavailable() // the same requirement: root and `unshare -m`
if (why) console.log(`  store-readonly: skipped: ${why}`)
const T = why ? R.skip : R

T('a read-only store is STORE_WRITE_FAILED naming the store and the reason, not STORE_CORRUPTED; writable again, it opens whole', async () => {
  const tmp = tmpDir()
  try {
    const a = await Agent.open({ name: 'd' }, { home: tmp.path })
    for (let i = 0; i < 3; i++) await a.stamp('t', { i })
    await a.close()
    const sh = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, 'sh', tmp.path, process.execPath, '--import', 'tsx', join(ROOT, 'test/support/readonly-child.ts'), tmp.path], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
    assert.is(r.status, 0, r.stderr.slice(-2000))
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, { code: string, file: string, message: string }>
    const store = join(tmp.path, 'agents', 'd', 'store')
    for (const k of ['agent', 'reader']) {
      assert.is(out[k]!.code, 'STORE_WRITE_FAILED', `${k}: ${out[k]!.message}`)
      assert.is(out[k]!.file, store)
      assert.match(out[k]!.message, /Read-only file system/)
    }
    const b = await Agent.open({ name: 'd' }, { home: tmp.path })
    assert.is(b.head?.seq, 2)
    assert.equal((await b.verify()).errors, [])
    await b.close()
  } finally { tmp.cleanup() }
})

R.run()
