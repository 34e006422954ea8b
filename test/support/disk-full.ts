// A real full disk for tests: a small tmpfs mounted in a private mount namespace (`unshare -m`, root
// only), so nothing outside the test's child process sees it and nothing needs cleaning up but a dir.
import { spawn, spawnSync } from 'node:child_process'
import { open, unlink, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Why a tmpfs cannot be mounted here, or null when it can. */
export function tmpfsUnavailable (): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (process.getuid?.() !== 0) return 'not root: mounting a tmpfs in a private mount namespace needs root'
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'], { encoding: 'utf8' })
  if (probe.error) return `unshare is not available (${probe.error.message})`
  if (probe.status !== 0) return `cannot mount a tmpfs in a private mount namespace: ${probe.stderr.trim()}`
  return null
}

/**
 * Runs `node --import tsx <script> <args[0]> <mnt> <args[1..]>` with a fresh tmpfs of `sizeMiB` mounted
 * at <mnt> (a temp dir, empty again outside the namespace). Resolves with stdout, stderr, exit code.
 */
export async function inTmpfs (sizeMiB: number, script: string, args: string[], opts: { cwd: string, env?: NodeJS.ProcessEnv, timeoutMs?: number }): Promise<{ mnt: string, code: number | null, stdout: string, stderr: string }> {
  const mnt = await mkdtemp(join(tmpdir(), 'pcp-tmpfs-'))
  try {
    const sh = 'mount -t tmpfs -o size="$1"m tmpfs "$2" && shift 2 && exec "$@"'
    const [first, ...rest] = args
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, 'sh', String(sizeMiB), mnt,
      process.execPath, '--import', 'tsx', script, first!, mnt, ...rest], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''; let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 50_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    clearTimeout(timer)
    return { mnt, code, stdout, stderr }
  } finally {
    await rm(mnt, { recursive: true, force: true })
  }
}

/** Fills the filesystem of `dir` to the last byte; free() gives the space back. */
export async function fillDisk (dir: string): Promise<{ free: () => Promise<void> }> {
  const path = join(dir, 'FILL')
  const fh = await open(path, 'w')
  for (const size of [1 << 20, 1 << 12, 1 << 9]) {
    const block = Buffer.alloc(size, 0x5a)
    for (;;) {
      try { const { bytesWritten } = await fh.write(block); if (bytesWritten < size) break } catch { break }
    }
  }
  await fh.close()
  return { free: () => unlink(path) }
}
