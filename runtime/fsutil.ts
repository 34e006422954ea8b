// Small durable-file helpers. A key file or identity half-written by a power cut must never replace a
// good one: write a temp file, fsync it, rename over, fsync the directory.
import { open, rename, mkdir, unlink, stat, type FileHandle } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'
import { ErrorCodes, PcpError } from './errors.js'

/** FILE_WRITE_FAILED naming `file`; the errno stays the cause (isNoSpace() still sees ENOSPC through it). */
export function fileWriteError (file: string, err: unknown): PcpError {
  if (err instanceof PcpError && err.code === ErrorCodes.FILE_WRITE_FAILED) return err
  const e = err as NodeJS.ErrnoException
  return new PcpError(ErrorCodes.FILE_WRITE_FAILED, `${file}: could not be written in full (${e?.code ?? 'error'}: ${e?.message ?? String(err)}); nothing was replaced`, { file, cause: err })
}

/**
 * FileHandle.write() returns after a short write without an error: at a full disk (tmpfs, ext4) the
 * kernel writes what fits and reports the count, and only the next write fails. A caller that ignores
 * the count renames a truncated file into place as if it were whole.
 */
export async function writeAll (fh: FileHandle, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  for (let at = 0; at < bytes.length;) {
    const { bytesWritten } = await fh.write(bytes, at, bytes.length - at)
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    at += bytesWritten
  }
}

export async function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  let fh: FileHandle
  try { fh = await open(tmp, 'wx', mode) } catch (err) { throw fileWriteError(path, err) }
  try {
    await writeAll(fh, data)
    await fh.sync()
    await fh.close()
    await rename(tmp, path)
  } catch (err) {
    // A temp file left at every failed attempt would fill a full disk further with each retry.
    await fh.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    throw fileWriteError(path, err)
  }
  await syncDir(dirname(path))
}

/**
 * Creates `path` (never over an existing file: EEXIST as Node raises it) with all of `data`, fsynced. A
 * failure after the create removes the part-file, so a retry is not refused as "exists" by a file this
 * call left, and no part of a secret lingers; then FILE_WRITE_FAILED naming the file.
 */
export async function writeNewFile (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const fh = await open(path, 'wx', mode)
  try {
    await writeAll(fh, data)
    await fh.sync()
    await fh.close()
  } catch (err) {
    await fh.close().catch(() => {})
    await shred(path).catch(() => unlink(path)).catch(() => {})
    throw fileWriteError(path, err)
  }
  await syncDir(dirname(path)).catch(() => {})
}

export async function syncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try { await fh.sync() } catch { /* some filesystems refuse fsync on directories */ } finally { await fh.close() }
}

export async function ensureDir (dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode })
}

export async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

/** Overwrite then unlink: a plaintext key must not linger on disk (the reference keeps a .bak, gaps.md #17). */
export async function shred (path: string): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    const { size } = await fh.stat()
    await fh.write(new Uint8Array(size), 0, size, 0)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await unlink(path)
}
