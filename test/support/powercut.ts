// Plumbing for the power-cut test: builds the STAND-IN power-losing filesystem (powercut/powercut-fs.c,
// libfuse3) into node_modules/.cache, mounts it in a private mount namespace of its own (so the mount
// is never visible on the host and vanishes with its last process) and runs a child inside it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers.js'

const SOURCE = join(ROOT, 'test/support/powercut/powercut-fs.c')

/** The built filesystem binary, or why this machine cannot run the test (printed as the skip reason). */
export function powercutSupport (): { ok: true, bin: string } | { ok: false, why: string } {
  if (process.platform !== 'linux') return { ok: false, why: `FUSE and mount namespaces need Linux, this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root: mounting FUSE without fusermount3 needs CAP_SYS_ADMIN' }
  if (!existsSync('/dev/fuse')) return { ok: false, why: '/dev/fuse is missing (no FUSE in this kernel or container)' }
  for (const tool of ['unshare', 'nsenter', 'cc', 'pkg-config']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return { ok: false, why: `${tool} is not installed` }
  }
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' })
  if (flags.status !== 0) return { ok: false, why: 'libfuse3 headers are missing (Debian: apt-get install libfuse3-dev; .ci/run installs it as root)' }
  const source = readFileSync(SOURCE)
  const dir = join(ROOT, 'node_modules/.cache/pcp-powercut')
  const bin = join(dir, 'powercut-fs-' + createHash('sha256').update(source).update(flags.stdout).digest('hex').slice(0, 16))
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    const tmp = `${bin}.${process.pid}`
    const cc = spawnSync('cc', ['-O2', '-Wall', '-o', tmp, SOURCE, ...flags.stdout.trim().split(/\s+/)], { encoding: 'utf8' })
    if (cc.status !== 0) return { ok: false, why: `cc could not build ${SOURCE}: ${cc.stderr.trim()}` }
    renameSync(tmp, bin)
  }
  return { ok: true, bin }
}

export interface PowercutMount { daemon: ChildProcess, exited: Promise<string>, log: () => string }

/** Mounts the disk image `backing` at `mnt` in a new private mount namespace; resolves once it serves. */
export async function mountPowercut (bin: string, backing: string, mnt: string, seed: number): Promise<PowercutMount> {
  const daemon = spawn('unshare', ['--mount', '--propagation', 'private', bin, backing, mnt], {
    env: { ...process.env, PCP_POWERCUT_SEED: String(seed) }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''; let out = ''
  daemon.stderr!.on('data', (d) => { err += d })
  const exited = new Promise<string>((resolve) => daemon.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)))
  await new Promise<void>((resolve, reject) => {
    daemon.stdout!.on('data', (d) => { out += d; if (out.includes('ready\n')) resolve() })
    void exited.then((how) => reject(new Error(`powercut-fs exited (${how}) before serving: ${err}`)))
  })
  return { daemon, exited, log: () => err }
}

/** Runs `node --import tsx script ...args` inside the mount's namespace. */
export function spawnInMount (m: PowercutMount, script: string, args: string[]): ChildProcess {
  return spawn('nsenter', ['-t', String(m.daemon.pid), '-m', `--wd=${ROOT}`, '--', process.execPath, '--import', 'tsx', script, ...args], { cwd: ROOT })
}
