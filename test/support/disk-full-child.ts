// Child of test/store-disk-full.test.ts, run inside a private mount namespace with a small tmpfs at
// <mnt> (test/support/disk-full.ts). It fills that filesystem for real, stamps, frees it, reopens, and
// prints one JSON line with what was acknowledged, refused and stored; the parent judges it.
import { spawnSync, execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Agent } from '../../runtime/index.js'
import { fillDisk } from './disk-full.js'

const [scenario, mnt, pcpBin] = process.argv.slice(2) as [string, string, string]
const home = join(mnt, 'home')
const acked: number[] = []
const refused: Array<{ i: number, code: string, file?: string, needed?: number, message: string }> = []
const out: Record<string, unknown> = { acked, refused }

async function stampAs (a: Agent, i: number, pad = 0, random = false): Promise<void> {
  try {
    await a.stamp('t', { i, pad: random ? randomBytes(pad / 2).toString('hex') : 'x'.repeat(pad) })
    acked.push(i)
  } catch (e) {
    const err = e as { code: string, file?: string, needed?: number, message: string }
    refused.push({ i, code: err.code, file: err.file, needed: err.needed, message: err.message })
  }
}

async function reopenAndRead (): Promise<void> {
  const b = await Agent.open({ name: 'd' }, { home, create: false })
  out.stored = (await b.history()).map((e) => e.payload.i)
  out.reopened = await b.verify()
  await b.close()
}

let i = 0
if (scenario === 'agent') {
  // Stamps while the disk is full, a concurrent burst, then space back, all on one open agent.
  const a = await Agent.open({ name: 'd' }, { home })
  for (let k = 0; k < 20; k++) await stampAs(a, i++)
  const disk = await fillDisk(mnt)
  for (let k = 0; k < 40; k++) await stampAs(a, i++, 1000)
  await Promise.all(Array.from({ length: 50 }, () => stampAs(a, i++, 100)))
  out.afterFullFrom = i
  out.whileFull = (await a.verify()).valid
  await disk.free()
  out.freedFrom = i
  for (let k = 0; k < 20; k++) await stampAs(a, i++, 1000)
  out.live = await a.verify()
  await a.close()
  await reopenAndRead()
} else if (scenario === 'reopen-full') {
  // A log of several MB, then a full disk: LevelDB's log replay at open writes a table about that size
  // (random payloads: the table's compression does not shrink them).
  let a = await Agent.open({ name: 'd' }, { home })
  for (let k = 0; k < 6; k++) await Promise.all(Array.from({ length: 500 }, () => stampAs(a, i++, 1000, true)))
  await a.close()
  const disk = await fillDisk(mnt)
  a = await Agent.open({ name: 'd' }, { home, create: false })
  out.headWhileFull = a.head?.seq
  out.failureAtOpen = a.store.failure?.code
  await stampAs(a, i++)
  await disk.free()
  out.freedFrom = i
  await stampAs(a, i++)
  await a.close()
  await reopenAndRead()
} else if (scenario === 'cursor') {
  // The sync agent's acked-cursor write (sync/agent.ts #persist → store.putMeta) is the one that fails.
  const a = await Agent.open({ name: 'd' }, { home })
  for (let k = 0; k < 10; k++) await stampAs(a, i++)
  const disk = await fillDisk(mnt)
  let cursorError: string | undefined
  for (let k = 0; k < 2000 && cursorError === undefined; k++) {
    await a.store.putMeta('sync.cursor', { seq: k, hash: 'h'.repeat(64) }).catch((e: { code: string }) => { cursorError = e.code })
  }
  out.cursorError = cursorError
  out.freedFrom = i + 1
  await stampAs(a, i++)
  await disk.free()
  for (let k = 0; k < 10; k++) await stampAs(a, i++)
  await a.store.putMeta('sync.cursor', { seq: 42, hash: 'c'.repeat(64) })
  out.cursor = await a.store.getMeta('sync.cursor')
  await a.close()
  await reopenAndRead()
} else if (scenario === 'write-failed') {
  // A write error that is not a full disk: a file-size limit (RLIMIT_FSIZE, soft only, so it can be
  // lifted again) just past the LevelDB log's size makes its next write fail with EFBIG.
  const a = await Agent.open({ name: 'd' }, { home })
  for (let k = 0; k < 10; k++) await stampAs(a, i++, 100)
  const dir = join(home, 'agents', 'd', 'store')
  const logSize = Math.max(...readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => statSync(join(dir, f)).size))
  const limit = (soft: string): void => { execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:unlimited`]) }
  limit(String(logSize + 3000))
  for (let k = 0; k < 40; k++) await stampAs(a, i++, 500)
  limit('unlimited')
  out.freedFrom = i
  for (let k = 0; k < 10; k++) await stampAs(a, i++, 500)
  out.live = await a.verify()
  await a.close()
  await reopenAndRead()
} else if (scenario === 'cli') {
  const a = await Agent.open({ name: 'd' }, { home })
  await stampAs(a, i++)
  await a.close()
  const disk = await fillDisk(mnt)
  const pcp = (...args: string[]): { status: number | null, stdout: string, stderr: string } =>
    spawnSync(process.execPath, [pcpBin, ...args], { env: { ...process.env, PCP_HOME: home }, encoding: 'utf8' })
  out.full = pcp('stamp', 'd', 't', '--payload', '{"i":1}')
  out.fullJson = pcp('stamp', 'd', 't', '--payload', '{"i":1}', '--json')
  await disk.free()
  out.freed = pcp('stamp', 'd', 't', '--payload', '{"i":2}', '--json')
  await reopenAndRead()
}
process.stdout.write(JSON.stringify(out) + '\n')
