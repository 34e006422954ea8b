// Which store a hub runs on: LevelDB under <data>/store (the embedded default, one hub process), or
// PostgreSQL when `store` is a postgres:// URL (several hubs can share it; docs/scaling.md).
import { join } from 'node:path'
import type { PcpError } from '../../runtime/errors.js'
import { LevelHubStore, type StoreHealthListener } from './level.js'
import { isPostgresUrl } from './pg.js'
import type { HubStore } from './types.js'

/** A store with the health signals the hub logs and counts (hub/store-health.ts). */
export interface OpenedHubStore extends HubStore {
  /** The LevelDB directory, or the database URL without its password. */
  readonly path: string
  readonly failure: PcpError | null
  listen (l: StoreHealthListener): void
}

export async function openHubStore (dataDir: string, store: string | undefined, opts: { sync?: boolean } = {}): Promise<OpenedHubStore> {
  if (store === undefined) return await LevelHubStore.open(join(dataDir, 'store'), opts)
  if (!isPostgresUrl(store)) throw new TypeError(`"store" expected a postgres:// or postgresql:// URL (absent: LevelDB under the data directory), got ${JSON.stringify(store.replace(/:[^:@/]*@/, ':***@'))}`)
  const { PgHubStore } = await import('./pg.js')
  return await PgHubStore.open(store, opts)
}
