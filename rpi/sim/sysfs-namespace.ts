// STAND-IN plumbing: puts the simulated sysfs tree (sysfs-tree.ts) where the real onoff looks, i.e. at
// /sys/class/gpio, but only inside a private mount namespace made by `unshare --mount --propagation
// private`, so the tmpfs never appears on (or propagates to) the host's /sys. Needs root (CAP_SYS_ADMIN)
// and util-linux's unshare; sysfsNamespaceSupport() says why not otherwise, and the tests skip with it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { SimChip } from './sysfs-tree.js'

export const SIM_GPIO_ROOT = '/sys/class/gpio'

export function sysfsNamespaceSupport (): { ok: true } | { ok: false, why: string } {
  if (process.platform !== 'linux') return { ok: false, why: `mount namespaces need Linux, this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root: a private mount namespace with a tmpfs needs CAP_SYS_ADMIN' }
  for (const tool of ['unshare', 'mount', 'mkfifo']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return { ok: false, why: `${tool} (util-linux/coreutils) is not installed` }
  }
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
    'mount -t tmpfs pcp-probe /mnt && umount /mnt'], { encoding: 'utf8' })
  if (probe.status !== 0) return { ok: false, why: `unshare --mount failed here: ${(probe.stderr || probe.error?.message || '').trim()}` }
  return { ok: true }
}

const NS_ENV = 'PCP_RPI_HOST_MNTNS'

/**
 * True when this process is in another mount namespace than the one runInPrivateNamespace() was called
 * from (passed down in PCP_RPI_HOST_MNTNS) and than PID 1's. Without that variable: false (refuse).
 * PID 1 alone is not enough: in a sandbox the caller may already sit in a namespace of its own.
 */
export function inPrivateMountNamespace (): boolean {
  const host = process.env[NS_ENV]
  let self: string
  try { self = readlinkSync('/proc/self/ns/mnt') } catch { return false }
  let init: string | undefined
  try { init = readlinkSync('/proc/1/ns/mnt') } catch {} // sandboxes may hide PID 1 even from root
  return !!host && self !== host && self !== init
}

/** Runs `node <execArgv> script` under unshare --mount --propagation private; returns spawnSync's result. */
export function runInPrivateNamespace (script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): ReturnType<typeof spawnSync> {
  return spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, ...process.execArgv, script], {
    env: { ...process.env, ...env, [NS_ENV]: readlinkSync('/proc/self/ns/mnt') }, encoding: 'utf8', timeout: timeoutMs
  })
}

/**
 * Inside the namespace: tmpfs over /sys/class/gpio (or over /sys/class when the host has no gpio class,
 * as on this CI machine; that hides other classes from this namespace only). Refuses to run in the host
 * namespace, which is what keeps it from ever touching the real /sys.
 */
export function mountSimulatedSysfs (): string {
  if (!inPrivateMountNamespace()) throw new Error('refusing to mount over /sys/class/gpio outside a private mount namespace (run under unshare --mount --propagation private)')
  const target = existsSync(SIM_GPIO_ROOT) ? SIM_GPIO_ROOT : '/sys/class'
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'pcp-sim-gpio', target])
  if (target !== SIM_GPIO_ROOT) mkdirSync(SIM_GPIO_ROOT, { mode: 0o755 })
  return SIM_GPIO_ROOT
}

/** Starts the simulator in its own process (onoff busy-waits in ours) and resolves once it serves. */
export async function startSysfsSimulator (chips: SimChip[], opts: { gid?: number } = {}): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('./sysfs-sim-main.ts', import.meta.url))
  const child = spawn(process.execPath, [...process.execArgv, main, JSON.stringify({ root: SIM_GPIO_ROOT, chips, gid: opts.gid })],
    { stdio: ['pipe', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => { out += d; if (out.includes('ready')) resolve() })
    child.once('exit', (code) => reject(new Error(`sysfs simulator exited with ${code} before serving`)))
  })
  return child
}
