// Loads rpi/native's addon (ioctl + uv_poll, see gpiochip.c for why it is this small). It is built on the
// device by `npm run build:gpiochip` (node-gyp; needs build-essential, like onoff's epoll), never at
// npm install time, so installing pcp-edge never needs a compiler. PCP_GPIOCHIP_ADDON points elsewhere.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { endianness } from 'node:os'
import { fileURLToPath } from 'node:url'
import { PcpError } from '../../runtime/errors.js'
import { RpiErrorCodes } from '../errors.js'

export interface GpiochipAddon {
  ioctl (fd: number, request: number, buf: Uint8Array): number
  poll (fd: number, callback: (err: string | null) => void): object
  unpoll (handle: object): void
}

const requireHere = createRequire(import.meta.url)
const REL = 'rpi/native/build/Release/pcp_gpiochip.node'
let cached: GpiochipAddon | undefined

/** Where the addon may be: next to the sources (rpi/chardev/) or the compiled modules (dist/rpi/chardev/). */
export function addonCandidates (): string[] {
  const env = process.env.PCP_GPIOCHIP_ADDON
  return [
    ...(env ? [env] : []),
    fileURLToPath(new URL(`../../${REL}`, import.meta.url)),
    fileURLToPath(new URL(`../../../${REL}`, import.meta.url))
  ]
}

export function loadGpiochipAddon (): GpiochipAddon {
  if (cached) return cached
  if (endianness() !== 'LE') throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING, 'the character-device GPIO backend packs uAPI structs little-endian; this host is big-endian')
  const tried = addonCandidates()
  const found = tried.find((p) => existsSync(p))
  if (!found) {
    throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING,
      `the character-device GPIO backend needs its native addon, not built yet: run "npm run build:gpiochip" in the pcp-edge package (needs: sudo apt install build-essential). Looked in: ${tried.join(', ')}`,
      { expected: tried })
  }
  try {
    cached = requireHere(found) as GpiochipAddon
  } catch (err) {
    throw new PcpError(RpiErrorCodes.GPIO_BACKEND_MISSING, `${found} could not be loaded (${(err as Error).message}); rebuild it on this machine: npm run build:gpiochip`, { file: found, cause: err })
  }
  return cached
}
