// Where the running hub's HTTP APIs listen. `pcp hub start` may have been given other ports (1883 and
// 8421/8422 are often taken on a robot), and writes the ones it bound into <home>/hub/status.json;
// `pcp vigil …` and `pcp trustgate …` read them from there, as `pcp hub status` does, before falling
// back to the default ports.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pcpHome } from '../runtime/index.js'
import { pidAlive } from '../hub/control.js'

let home: string | undefined
/** main.ts passes the global --home before any command runs. */
export function setCliHome (h: string | undefined): void { home = h }

export function runningHubApi (kind: 'vigil' | 'trustgate'): string | undefined {
  try {
    const status = JSON.parse(readFileSync(join(pcpHome(home), 'hub', 'status.json'), 'utf8')) as { pid?: unknown, api?: Record<string, string | null> }
    if (!pidAlive(status.pid)) return undefined
    return status.api?.[kind] ?? undefined
  } catch { return undefined }
}
