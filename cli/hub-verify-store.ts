// pcp hub verify-store: re-verifies every chain in the hub's store (LevelDB under --data, or PostgreSQL
// with --store) from its stored bytes and reports the first fault of each agent (hub/store/verify-store.ts).
// For a store restored from a backup (docs/scaling.md): exit 0 when every chain verifies, 1 when one does not.
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PcpError } from '../runtime/index.js'
import { openHubStore } from '../hub/store/open.js'
import { verifyStore } from '../hub/store/verify-store.js'
import { action, printJson, hubDataDir, EXIT } from './common.js'

export function registerVerifyStore (hub: Command, program: Command, storeUrl: (v: string) => string): void {
  hub.command('verify-store')
    .description('re-verify every chain the hub store holds (signatures, links, nonces, rotations, heads) and report the first fault of each agent')
    .option('--data <dir>', 'data directory of a LevelDB store (default: <home>/hub); the hub must be stopped')
    .option('--store <url>', 'verify the PostgreSQL store at this URL instead (as given to hub start; hubs may keep running)')
    .option('--json', 'print the verdict as JSON')
    .addHelpText('after', '\nExit status: 0 every chain verifies, 1 at least one fault (listed), 2 the store cannot be opened.\n')
    .action(action(async (o: { data?: string, store?: string, json?: boolean }) => {
      const dataDir = hubDataDir(program, o.data)
      // Reading never creates: a mistyped --data must not become an empty store that "verifies".
      if (o.store === undefined && !existsSync(join(dataDir, 'store'))) throw new PcpError('HUB_DATA_NOT_FOUND', `no hub store in ${dataDir} (no store/ there): check --data or $PCP_HOME, or pass --store postgres://…`, { file: dataDir })
      let store
      try { store = await openHubStore(dataDir, o.store === undefined ? undefined : storeUrl(o.store)) } catch (err) {
        if ((err as PcpError).code === 'STORE_LOCKED') throw new PcpError('STORE_LOCKED', `a hub runs on ${join(dataDir, 'store')}: stop it first (LevelDB is one process per store), or verify a copy`, { file: dataDir, cause: err })
        throw err
      }
      try {
        const verdict = await verifyStore(store)
        if (o.json) printJson({ store: store.path, ...verdict })
        else {
          process.stdout.write(`pcp hub verify-store: ${store.path}: ${verdict.agents} chain(s), ${verdict.events} events verified in ${verdict.ms} ms: ${verdict.ok ? 'all valid' : `${verdict.faults.length} with a fault`}\n`)
          for (const f of verdict.faults) process.stdout.write(`  ${f.agentId}  ${f.name}: ${f.code} at ${f.index < 0 ? 'the chain' : `event #${f.index}`}: ${f.message}\n`)
        }
        return verdict.ok ? EXIT.OK : EXIT.INVALID
      } finally { await store.close() }
    }))
}
