// Child of test/fsutil-disk-full.test.ts, run inside a private mount namespace with a small tmpfs at
// <mnt> (test/support/disk-full.ts). At a full disk the kernel writes what fits and returns the count
// (a short write); only the next write fails. Each case leaves just that room and prints what the write
// reported next to what is on disk afterwards; the parent judges it.
import { mkdtemp, readdir, readFile, rm, writeFile, unlink } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { Agent, createAgentIdentity, secureAgentKey } from '../../runtime/index.js'
import { writeFileAtomic } from '../../runtime/fsutil.js'
import { writeFileAtomic as writeFileAtomicSync } from '../../hub/trustgate/fsutil.js'
import { PolicyVersionStore } from '../../hub/trustgate/versions.js'
import { profilePath } from '../../hub/trustgate/profiles.js'
import { fillDisk } from './disk-full.js'

const [, mnt, pcpBin] = process.argv.slice(2) as [string, string, string]
const out: Record<string, unknown> = {}
const err = (e: unknown): { code: string, file?: string, cause?: string } => ({ code: (e as { code: string }).code, file: (e as { file?: string }).file, cause: ((e as Error).cause as { code?: string } | undefined)?.code })
const temps = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.tmp'))

/** Fills the disk but for `pages` 4 KiB pages (tmpfs allocates whole pages), so a longer write is cut short. */
async function fillLeaving (pages: number): Promise<{ free: () => Promise<void> }> {
  const spare = join(mnt, 'SPARE')
  if (pages > 0) await writeFile(spare, Buffer.alloc(pages * 4096, 1))
  const disk = await fillDisk(mnt)
  if (pages > 0) await unlink(spare)
  return disk
}

{ // TrustGate's activation log: a long line appended at a full disk
  const dir = join(mnt, 'tg'); const store = PolicyVersionStore.open(dir)
  const id = store.add(readFileSync(profilePath('nist_balanced'))).id
  store.activate(id, { principal: 'alice', at: 1 })
  const disk = await fillLeaving(0)
  try { out.activateWhileFull = { ok: store.activate(id, { principal: 'bob', comment: 'x'.repeat(6000), at: 2 }).seq } } catch (e) { out.activateWhileFull = err(e) }
  out.historyWhileFull = store.history().map((r) => r.principal)
  await disk.free()
  out.activateAfter = store.activate(id, { principal: 'carol', at: 3 }).seq
  out.history = store.history().map((r) => r.principal)
  out.integrity = store.checkIntegrity()
}

{ // TrustGate's whole-file writes (policy versions, principals.json)
  const file = join(mnt, 'state.json'); writeFileAtomicSync(file, 'old\n')
  const disk = await fillLeaving(2)
  try { writeFileAtomicSync(file, 'n'.repeat(20000)); out.tgWrite = { ok: true } } catch (e) { out.tgWrite = err(e) }
  out.tgContent = readFileSync(file, 'utf8').slice(0, 10)
  out.tgLength = readFileSync(file).length
  out.tgTemps = await temps(mnt)
  await disk.free()
}

{ // the device's whole-file writes (identity, keys, session exports, hub status files)
  const file = join(mnt, 'identity.json'); await writeFileAtomic(file, 'old\n')
  const disk = await fillLeaving(2)
  try { await writeFileAtomic(file, 'n'.repeat(20000)); out.rtWrite = { ok: true } } catch (e) { out.rtWrite = err(e) }
  out.rtContent = (await readFile(file, 'utf8')).slice(0, 10)
  out.rtTemps = await temps(mnt)
  await disk.free()
}

{ // pcp export onto a full disk, the store elsewhere
  const home = await mkdtemp(join(tmpdir(), 'pcp-short-'))
  try {
    const a = await Agent.open({ name: 'd' }, { home })
    for (let i = 0; i < 30; i++) await a.stamp('t', { i, pad: 'p'.repeat(400) })
    const path = join(mnt, 'd.audit.json')
    const disk = await fillLeaving(2)
    try { out.exportWhileFull = { ok: (await a.export(path)).eventCount } } catch (e) { out.exportWhileFull = err(e) }
    out.exportLeft = existsSync(path)
    out.exportTemps = await temps(mnt)
    await disk.free()
    out.exportAfter = (await a.export(path)).eventCount
    await a.close()
  } finally { await rm(home, { recursive: true, force: true }) }
}

{ // pcp identity unlock -o onto a full disk: no part-file left to block the retry as "exists"
  const home = await mkdtemp(join(tmpdir(), 'pcp-short-'))
  try {
    await createAgentIdentity(home, 'k'); await secureAgentKey(home, 'k', 'pw', { scryptN: 1024 })
    const key = join(mnt, 'k.key')
    const unlock = (): { status: number | null, code?: string } => {
      const r = spawnSync(process.execPath, [pcpBin, 'identity', 'unlock', 'k', '-o', key], { env: { ...process.env, PCP_HOME: home, PCP_PASSPHRASE: 'pw', PCP_SCRYPT_N: '1024' }, encoding: 'utf8' })
      return { status: r.status, code: /\[([A-Z_]+)\]\s*$/.exec(r.stderr)?.[1] }
    }
    const disk = await fillLeaving(0)
    out.unlockWhileFull = unlock()
    out.unlockLeft = existsSync(key)
    await disk.free()
    out.unlockAfter = unlock()
    out.unlockBytes = existsSync(key) ? readFileSync(key).length : 0
  } finally { await rm(home, { recursive: true, force: true }) }
}

console.log(JSON.stringify(out))
