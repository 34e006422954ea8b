// Opening a LevelDB that one process owns at a time (an agent's store, the hub's store). LevelDB's own
// LOCK says only "locked"; we record the owner's pid beside it so the error can name the process.
import { readFile, writeFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PcpError, ErrorCodes } from './errors.js'

export interface LockedOpenMessages {
  locked: (pid: string) => string
  failed: (err: Error) => string
  agent?: string
}

const OWNER = 'OWNER.pid'

export async function openLevelLocked (db: { open (): Promise<void> }, path: string, m: LockedOpenMessages): Promise<void> {
  const fields = { file: path, ...(m.agent ? { agent: m.agent } : {}) }
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED' || (err as { code?: string }).code === 'LEVEL_LOCKED') {
      const pid = await readFile(join(path, OWNER), 'utf8').catch(() => '?')
      throw new PcpError(ErrorCodes.STORE_LOCKED, m.locked(pid.trim()), { ...fields, cause: err })
    }
    throw new PcpError(ErrorCodes.STORE_CORRUPTED, m.failed(err as Error), { ...fields, cause: err })
  }
  await writeFile(join(path, OWNER), String(process.pid))
}

/** Closes a database opened with openLevelLocked, forgetting the owner record first. */
export async function closeLevelLocked (db: { close (): Promise<void> }, path: string): Promise<void> {
  await unlink(join(path, OWNER)).catch(() => {})
  await db.close()
}
