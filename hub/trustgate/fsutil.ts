// Durable file writes for TrustGate's stores: a crash leaves either the old file or the complete new one
// (temp file + fsync + rename + fsync of the directory), and appends are fsynced before they count.
// Synchronous siblings of runtime/fsutil.ts's async writeFileAtomic: the version and principal stores
// have synchronous APIs (the CLI and the hub call them inline).
import { closeSync, fsyncSync, openSync, renameSync, writeSync, readSync, readFileSync, ftruncateSync, fstatSync, unlinkSync } from 'node:fs'
import { dirname, join, basename } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileWriteError } from '../../runtime/fsutil.js'

function fsyncDir (dir: string): void {
  let fd: number | undefined
  try { fd = openSync(dir, 'r'); fsyncSync(fd) } catch { /* some filesystems refuse directory fsync; rename is still atomic */ } finally { if (fd !== undefined) closeSync(fd) }
}

/** writeSync() reports a short write at a full disk as a count, not an error: loop until all is written. */
function writeAllSync (fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) {
    const n = writeSync(fd, bytes, at, bytes.length - at)
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    at += n
  }
}

/** FILE_WRITE_FAILED (naming `path`) unless the whole file is in place. */
export function writeFileAtomic (path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number
  try { fd = openSync(tmp, 'wx', 0o600) } catch (err) { throw fileWriteError(path, err) }
  try {
    writeAllSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fsyncSync(fd)
    closeSync(fd)
    renameSync(tmp, path)
  } catch (err) {
    try { closeSync(fd) } catch {}
    try { unlinkSync(tmp) } catch {}
    throw fileWriteError(path, err)
  }
  fsyncDir(dirname(path))
}

/**
 * Appends one line and fsyncs it. A torn last line (no final newline: a crash mid-append, never
 * acknowledged to anyone) is cut off first so the new line starts clean. A failed append (FILE_WRITE_FAILED)
 * cuts its own part-line off again, so a line is either whole and fsynced or absent.
 */
export function appendLineDurable (path: string, line: string): void {
  if (line.includes('\n')) throw new RangeError('"line" must not contain a newline')
  let fd: number
  try { fd = openSync(path, 'a+', 0o600) } catch (err) { throw fileWriteError(path, err) }
  let start = -1
  try {
    const size = fstatSync(fd).size
    const last = Buffer.alloc(1)
    // Only the last byte decides; the whole file is read just to find the cut in the rare torn case.
    start = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a ? readFileSync(path).lastIndexOf(0x0a) + 1 : size
    if (start !== size) ftruncateSync(fd, start)
    writeAllSync(fd, Buffer.from(line + '\n', 'utf8'))
    fsyncSync(fd)
  } catch (err) {
    if (start >= 0) try { ftruncateSync(fd, start) } catch {}
    throw fileWriteError(path, err)
  } finally {
    closeSync(fd)
  }
}
