// The hub's server stack (fastify, aedes, pino, prom-client) is an optional peer: a device install leaves it out
// (README "Install as a library"). Loading it only when `pcp hub start` runs keeps every other command
// working on a device, and a missing piece becomes one line saying what to install.
import { PcpError } from '../runtime/index.js'

export const HUB_STACK_INSTALL = 'npm install fastify@5 aedes@1 pino@10 prom-client@15'

export async function loadHubServices (): Promise<typeof import('../hub/services.js')> {
  try {
    await import('pino') // the hub's log (hub/log.ts loads it itself, later)
    return await import('../hub/services.js')
  } catch (err) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec((err as Error).message)?.[1]
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && missing && /^(fastify|aedes|pino|prom-client)(\/|$)/.test(missing)) {
      throw new PcpError('HUB_STACK_MISSING', `the hub needs ${missing}, which a device install leaves out: ${HUB_STACK_INSTALL}`, { field: missing, cause: err })
    }
    throw err
  }
}
