// Durable file writes for TrustGate's stores: a crash leaves either the old file or the complete new one
// (temp file + fsync + rename + fsync of the directory), and appends are fsynced before they count.
// Synchronous siblings of runtime/fsutil.ts's async writeFileAtomic: the version and principal stores
// have synchronous APIs (the CLI and the hub call them inline).
import { closeSync, fsyncSync, openSync, renameSync, writeSync, readSync, readFileSync, ftruncateSync, fstatSync, unlinkSync } from 'node:fs'
import { dirname, join, basename } from 'node:path'
import { randomBytes } from 'node:crypto'

function fsyncDir (dir: string): void {
  let fd: number | undefined
  try { fd = openSync(dir, 'r'); fsyncSync(fd) } catch { /* some filesystems refuse directory fsync; rename is still atomic */ } finally { if (fd !== undefined) closeSync(fd) }
}

export function writeFileAtomic (path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd); try { unlinkSync(tmp) } catch {}
    throw err
  }
  closeSync(fd)
  renameSync(tmp, path)
  fsyncDir(dirname(path))
}

/**
 * Appends one line and fsyncs it. A torn last line (no final newline: a crash mid-append, never
 * acknowledged to anyone) is cut off first so the new line starts clean.
 */
export function appendLineDurable (path: string, line: string): void {
  if (line.includes('\n')) throw new RangeError('"line" must not contain a newline')
  const fd = openSync(path, 'a+', 0o600)
  try {
    const size = fstatSync(fd).size
    const last = Buffer.alloc(1)
    // Only the last byte decides; the whole file is read just to find the cut in the rare torn case.
    if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) ftruncateSync(fd, readFileSync(path).lastIndexOf(0x0a) + 1)
    writeSync(fd, Buffer.from(line + '\n', 'utf8'))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
