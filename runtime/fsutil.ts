// Small durable-file helpers. A key file or identity half-written by a power cut must never replace a
// good one: write a temp file, fsync it, rename over, fsync the directory.
import { open, rename, mkdir, unlink, stat } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'

export async function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await syncDir(dirname(path))
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
