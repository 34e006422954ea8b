// pcp: one command, one file per concern under cli/. Each registers its subcommands here.
import { Command } from 'commander'
import { registerIdentityCommands } from './identity.js'
import { registerVerifyCommands } from './verify.js'
import { registerMemoryCommands } from './memory.js'
import { registerRos2Commands } from './ros2.js'
import { registerSessionCommands } from './session.js'
import { registerVigilCommands } from './vigil.js'
import { registerTrustgateCommands } from './trustgate.js'
import { registerHubCommands } from './hub.js'
import { registerSyncCommands } from './sync.js'
import { reportError } from './common.js'
import { setCliHome } from './hub-ports.js'

const program = new Command()
program
  .name('pcp')
  .description('pcp-edge: signed, hash-chained, verifiable records of what robots and devices did (AISS-1)')
  .version('0.1.0')
  .option('--home <dir>', 'agent data directory (default: $PCP_HOME or ~/.pcp)')
  .configureOutput({ outputError: (s, write) => write(`pcp: ${s.replace(/^error: /, '')}`) })
  .exitOverride((err) => { process.exit(err.exitCode === 0 ? 0 : 2) })

program.hook('preAction', () => { setCliHome(program.opts().home as string | undefined) })

registerIdentityCommands(program)
registerVerifyCommands(program)
registerMemoryCommands(program)
registerRos2Commands(program)
registerSessionCommands(program)
registerVigilCommands(program)
registerTrustgateCommands(program)
registerHubCommands(program)
registerSyncCommands(program)

// Whatever escapes a command (an option parser, a late socket error) still ends as one line, exit 2.
const json = process.argv.includes('--json')
const fatal = (err: unknown): void => { reportError(err, json); process.exit(2) }
process.on('uncaughtException', fatal)
process.on('unhandledRejection', fatal)
await program.parseAsync(process.argv).catch(fatal)
