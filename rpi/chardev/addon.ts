// Loads rpi/native's addon (ioctl + epoll, see gpiochip.c for why it is this small). The package ships it
// prebuilt (rpi/native/prebuilds/<platform>-<arch>/, made by `npm run build:prebuilds`): it uses only
// Node-API, so one binary per platform serves every Node >= 18 and a device installs it without a
// compiler. Where no prebuild fits (another arch, or one that does not load), `npm run build:gpiochip`
// (node-gyp) builds it locally; PCP_GPIOCHIP_ADDON points elsewhere. A 10-line lookup instead of
// node-gyp-build: that is in our tree only inside the vendored LevelDB bundle, not an installed dependency.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { arch, endianness, platform } from 'node:os'
import { fileURLToPath } from 'node:url'
import { getSystemErrorName } from 'node:util'
import { PcpError } from '../../runtime/errors.js'
import { RpiErrorCodes } from '../errors.js'

export interface GpiochipAddon {
  ioctl (fd: number, request: number, buf: Uint8Array): number
  poll (fd: number, callback: (err: string | null) => void): object
  unpoll (handle: object): void
}

const requireHere = createRequire(import.meta.url)
export const PREBUILD = `rpi/native/prebuilds/${platform()}-${arch()}/pcp_gpiochip.node`
const LOCAL = 'rpi/native/build/Release/pcp_gpiochip.node'
let cached: GpiochipAddon | undefined
let loadedFrom: string | undefined

/** Where the addon may be, in the order tried: $PCP_GPIOCHIP_ADDON, the prebuild, a local build; each
 * next to the sources (rpi/chardev/) or the compiled modules (dist/rpi/chardev/). */
export function addonCandidates (): string[] {
  const env = process.env.PCP_GPIOCHIP_ADDON
  const at = (rel: string): string[] => [fileURLToPath(new URL(`../../${rel}`, import.meta.url)), fileURLToPath(new URL(`../../../${rel}`, import.meta.url))]
  return [...(env ? [env] : []), ...at(PREBUILD), ...at(LOCAL)]
}

/** The file the addon was loaded from (after loadGpiochipAddon), for setup reports and tests. */
export function gpiochipAddonPath (): string | undefined { return loadedFrom }

// The C side throws errno and syscall only; Node names errnos (libc has no portable errno-name call).
function named (err: unknown): unknown {
  const e = err as NodeJS.ErrnoException
  if (e instanceof Error && typeof e.errno === 'number' && e.code === undefined) {
    e.code = getSystemErrorName(e.errno)
    e.message = `${e.code}: ${e.message}`
  }
  return e
}

function wrap (raw: GpiochipAddon): GpiochipAddon {
  return {
    ioctl: (fd, request, buf) => { try { return raw.ioctl(fd, request, buf) } catch (err) { throw named(err) } },
    poll: (fd, callback) => { try { return raw.poll(fd, callback) } catch (err) { throw named(err) } },
    unpoll: (handle) => raw.unpoll(handle)
  }
}

export function loadGpiochipAddon (): GpiochipAddon {
  if (cached) return cached
  if (endianness() !== 'LE') throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING, 'the character-device GPIO backend packs uAPI structs little-endian; this host is big-endian')
  const tried = addonCandidates()
  const failed: string[] = []
  let firstError: unknown
  let firstFile: string | undefined
  // A prebuild that exists but does not load (an older libc than it needs) falls through to a local build.
  for (const file of tried.filter((p) => existsSync(p))) {
    try {
      cached = wrap(requireHere(file) as GpiochipAddon)
      loadedFrom = file
      return cached
    } catch (err) { firstError ??= err; firstFile ??= file; failed.push(`${file}: ${(err as Error).message}`) }
  }
  if (failed.length > 0) {
    throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING, `the character-device GPIO addon could not be loaded (${failed.join('; ')}); build it on this machine: npm run build:gpiochip in the pcp-edge package (needs: sudo apt install build-essential)`, { file: firstFile, expected: tried, cause: firstError })
  }
  throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING,
    `the character-device GPIO backend has no prebuilt addon for ${platform()}-${arch()}: run "npm run build:gpiochip" in the pcp-edge package (needs: sudo apt install build-essential). Looked in: ${tried.join(', ')}`,
    { expected: tried })
}
