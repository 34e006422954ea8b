// The `pcp` program with only the hub and sync commands, as cli/main.ts wires them, for the CLI tests.
import { Command } from 'commander'
import { registerHubCommands } from '../../cli/hub.js'
import { registerSyncCommands } from '../../cli/sync.js'

const program = new Command()
program.name('pcp').option('--home <dir>', 'agent data directory')
  .configureOutput({ outputError: (s, write) => write(`pcp: ${s.replace(/^error: /, '')}`) })
  .exitOverride((err) => { process.exit(err.exitCode === 0 ? 0 : 2) })
registerHubCommands(program)
registerSyncCommands(program)
await program.parseAsync(process.argv)
