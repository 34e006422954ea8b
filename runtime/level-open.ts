// Opening a LevelDB that one process owns at a time (an agent's store, the hub's store). LevelDB's own
// LOCK says only "locked"; we record the owner's pid beside it so the error can name the process.
// Opening also keeps the disk-full reserve (runtime/store-space.ts): freed before the open when space
// is short, so a full disk still opens, and recreated after it when there is room.
import { readFile, writeFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PcpError, ErrorCodes } from './errors.js'
import { releaseReserveIfShort, ensureReserve, isNoSpace, noSpaceError, spaceShortfall } from './store-space.js'

export interface LockedOpenMessages {
  locked: (pid: string) => string
  failed: (err: Error) => string
  agent?: string
}

const OWNER = 'OWNER.pid'

/**
 * Opens `db`; resolves with the bytes still to free before the store may accept writes (0: it may).
 * A full disk that prevents even the open gives STORE_NO_SPACE.
 */
export async function openLevelLocked (db: { open (): Promise<void> }, path: string, m: LockedOpenMessages): Promise<number> {
  const fields = { file: path, ...(m.agent ? { agent: m.agent } : {}) }
  await releaseReserveIfShort(path).catch(() => {})
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED' || (err as { code?: string }).code === 'LEVEL_LOCKED') {
      const pid = await readFile(join(path, OWNER), 'utf8').catch(() => '?')
      throw new PcpError(ErrorCodes.STORE_LOCKED, m.locked(pid.trim()), { ...fields, cause: err })
    }
    if (isNoSpace(err)) throw noSpaceError(m.failed(err as Error), path, Math.max(1, await spaceShortfall(path).catch(() => 1)), { ...fields, cause: err })
    // abstract-level says only "Database failed to open"; the reason is in the cause. An I/O error (a
    // read-only mount, permissions, too many open files) is not damage: STORE_CORRUPTED would send an
    // operator to repair a store that is whole.
    const detail = cause && typeof (cause as { message?: unknown }).message === 'string' ? new Error(`${(err as Error).message} (${(cause as { message: string }).message})`) : err as Error
    if (cause?.code === 'LEVEL_IO_ERROR') throw new PcpError(ErrorCodes.STORE_WRITE_FAILED, `${m.failed(detail)}; nothing was changed: open it again once the directory can be written`, { ...fields, cause: err })
    throw new PcpError(ErrorCodes.STORE_CORRUPTED, m.failed(detail), { ...fields, cause: err })
  }
  // Only for the STORE_LOCKED message: a full disk must not stop the open here.
  await writeFile(join(path, OWNER), String(process.pid)).catch(() => {})
  return ensureReserve(path).catch((err: unknown) => isNoSpace(err) ? 1 : 0)
}

/** Closes a database opened with openLevelLocked, forgetting the owner record first. */
export async function closeLevelLocked (db: { close (): Promise<void> }, path: string): Promise<void> {
  await unlink(join(path, OWNER)).catch(() => {})
  await db.close()
}

export type RawOp = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

/**
 * One atomic batch of operations whose keys are strings and values bytes already. abstract-level's batch()
 * clones every operation, validates it and runs it through the encodings before it reaches classic-level
 * (~6.5 µs per event on the device, ~19 µs on the hub, issue 18); classic-level's native batch takes
 * exactly these operations, so an open database gets them directly. Anything else (opening, closing)
 * takes the public path, which defers or refuses as abstract-level does.
 */
export function writeBatch (db: { batch (ops: RawOp[], opts: { sync: boolean }): Promise<void> }, ops: RawOp[], sync: boolean): Promise<void> {
  const raw = db as unknown as { status?: string, _batch?: (ops: RawOp[], opts: { sync: boolean }) => Promise<void> }
  if (ops.length > 0 && raw.status === 'open' && typeof raw._batch === 'function') return raw._batch(ops, { sync })
  return db.batch(ops, { sync })
}
