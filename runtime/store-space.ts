// Disk-full rules shared by the device store and the hub store (both one LevelDB per directory).
// 1. A failed LevelDB write leaves its log with a torn record, and LevelDB keeps accepting writes after
//    it that do not survive a reopen (issue 13 #4). So a store refuses every write after a write error
//    until it has closed and reopened the database; the caller classifies the error with writeError().
// 2. Reopening replays the log into a new table file: it needs free space about the size of the log
//    (up to twice LevelDB's 4 MiB write buffer). A reserve file of RESERVE_BYTES in the store directory
//    holds that space while the disk fills; opening deletes it when free space is short, so a full disk
//    can still be opened and read, and writes are accepted again only once the reserve is back in place
//    with RESERVE_MARGIN free beside it.
import { statfs, stat, open, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { PcpError, ErrorCodes, type PcpErrorFields } from './errors.js'

export const RESERVE_FILE = 'RESERVE.pcp'
export const RESERVE_BYTES = 9 * 1024 * 1024
export const RESERVE_MARGIN = 1024 * 1024

const CHUNK = 1024 * 1024

/** Bytes an unprivileged process may still write on the filesystem holding `dir`. */
export async function freeBytes (dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** ENOSPC or EDQUOT anywhere in the cause chain: Node's fs codes, or LevelDB's strerror text. */
export function isNoSpace (err: unknown): boolean {
  for (let e = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined, i = 0; e && i < 8; e = e.cause as typeof e, i++) {
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === ErrorCodes.STORE_NO_SPACE) return true
    if (typeof e.message === 'string' && /No space left on device|Disk quota exceeded|ENOSPC|EDQUOT/.test(e.message)) return true
  }
  return false
}

async function reserveSize (dir: string): Promise<number> {
  return stat(join(dir, RESERVE_FILE)).then((s) => s.size, () => 0)
}

/**
 * Bytes still to free before the store in `dir` may accept writes (0: none): the reserve in place
 * plus RESERVE_MARGIN free, or RESERVE_BYTES + RESERVE_MARGIN free to recreate the reserve.
 */
export async function spaceShortfall (dir: string): Promise<number> {
  const held = await reserveSize(dir) >= RESERVE_BYTES
  return Math.max(0, (held ? RESERVE_MARGIN : RESERVE_BYTES + RESERVE_MARGIN) - await freeBytes(dir))
}

/** Before opening: frees the reserve when there is less than its size free, to make room for the log replay. */
export async function releaseReserveIfShort (dir: string): Promise<void> {
  if (await reserveSize(dir) === 0) return
  if (await freeBytes(dir).catch(() => 0) < RESERVE_BYTES) await unlink(join(dir, RESERVE_FILE)).catch(() => {})
}

/**
 * After opening: (re)creates the reserve when it is missing or short and there is room for it and the
 * margin; returns the shortfall (0 when writes may be accepted). Random bytes, so a compressing
 * filesystem still allocates them; not fsynced: one lost in a crash is recreated at the next open.
 */
export async function ensureReserve (dir: string): Promise<number> {
  const have = await reserveSize(dir)
  if (have >= RESERVE_BYTES) return spaceShortfall(dir)
  const short = Math.max(0, RESERVE_BYTES - have + RESERVE_MARGIN - await freeBytes(dir))
  if (short > 0) return short
  const path = join(dir, RESERVE_FILE)
  const fh = await open(path, 'w', 0o600)
  try {
    const block = randomBytes(CHUNK)
    for (let at = 0; at < RESERVE_BYTES; at += CHUNK) await fh.write(block, 0, Math.min(CHUNK, RESERVE_BYTES - at), at)
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(path).catch(() => {})
    if (isNoSpace(err)) return spaceShortfall(dir)
    throw err
  }
  await fh.close()
  return spaceShortfall(dir)
}

/** STORE_NO_SPACE: what failed, the directory, and how many bytes must be freed. */
export function noSpaceError (what: string, dir: string, needed: number, fields: PcpErrorFields = {}): PcpError {
  const mib = (needed / 1048576).toFixed(1)
  return new PcpError(ErrorCodes.STORE_NO_SPACE,
    `${what}: no space left on the device holding ${dir}; free at least ${needed} bytes (${mib} MiB) there: ` +
    `the store takes writes again once it holds its ${RESERVE_BYTES / 1048576} MiB reserve (${RESERVE_FILE}) with ${RESERVE_MARGIN / 1048576} MiB free beside it`,
    { ...fields, file: dir, needed })
}

/**
 * A write error as the store reports it: STORE_NO_SPACE for a full disk, STORE_WRITE_FAILED otherwise.
 * Synchronous, so a store is refusing before anything else runs; `needed` defaults to the margin (what
 * a store holding its reserve needs), and recover() says the exact shortfall.
 */
export function writeError (what: string, dir: string, err: unknown, fields: PcpErrorFields = {}, needed = RESERVE_MARGIN): PcpError {
  if (err instanceof PcpError && (err.code === ErrorCodes.STORE_NO_SPACE || err.code === ErrorCodes.STORE_WRITE_FAILED)) return err
  const message = (err as Error)?.message ?? String(err)
  if (isNoSpace(err)) return noSpaceError(`${what} (${message})`, dir, needed, { ...fields, cause: err })
  return new PcpError(ErrorCodes.STORE_WRITE_FAILED,
    `${what}: ${message}; the store takes writes again once it has been reopened`, { ...fields, file: dir, cause: err })
}
