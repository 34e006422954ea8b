// pcp: one command, one file per concern under cli/. Each registers its subcommands here.
import { Command } from 'commander'
import { reportError } from './common.js'
import { setCliHome } from './hub-ports.js'
// ML-DSA-65 for AISS-2 (runtime/pq.ts): `pcp verify`, stamping and key loading apply the AISS-2 rules.
import '../runtime/aiss2-install.js'

const program = new Command()
program
  .name('pcp')
  .description('pcp-edge: signed, hash-chained, verifiable records of what robots and devices did (AISS-1)')
  .version('0.1.0')
  .option('--home <dir>', 'agent data directory (default: $PCP_HOME or ~/.pcp)')
  .configureOutput({ outputError: (s, write) => write(`pcp: ${s.replace(/^error: /, '')}`) })
  .exitOverride((err) => { process.exit(err.exitCode === 0 ? 0 : 2) })

program.hook('preAction', () => { setCliHome(program.opts().home as string | undefined) })

// Each group is loaded only when its command runs (all of them for --help or an unknown command):
// `pcp verify` or `pcp stamp` on a Pi then never loads the hub, MQTT and ROS 2 stacks (~18 MB of RSS).
type Register = (p: Command) => void
const GROUPS: Array<[string[], () => Promise<Register>]> = [
  [['identity'], async () => (await import('./identity.js')).registerIdentityCommands],
  [['verify'], async () => (await import('./verify.js')).registerVerifyCommands],
  [['stamp', 'memory', 'history', 'export'], async () => (await import('./memory.js')).registerMemoryCommands],
  [['ros2'], async () => (await import('./ros2.js')).registerRos2Commands],
  [['session-verify'], async () => (await import('./session.js')).registerSessionCommands],
  [['vigil'], async () => (await import('./vigil.js')).registerVigilCommands],
  [['trustgate'], async () => (await import('./trustgate.js')).registerTrustgateCommands],
  [['hub'], async () => (await import('./hub.js')).registerHubCommands],
  [['sync'], async () => (await import('./sync.js')).registerSyncCommands]
]
/** The first argument that is not a global option (or --home's value). */
function commandName (args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--home') { i++; continue }
    if (!args[i]!.startsWith('-')) return args[i]
  }
  return undefined
}
const name = commandName(process.argv.slice(2))
const known = GROUPS.some(([names]) => name !== undefined && names.includes(name))
for (const [names, load] of GROUPS) if (!known || names.includes(name!)) (await load())(program)

// Whatever escapes a command (an option parser, a late socket error) still ends as one line, exit 2.
const json = process.argv.includes('--json')
const fatal = (err: unknown): void => { reportError(err, json); process.exit(2) }
process.on('uncaughtException', fatal)
process.on('unhandledRejection', fatal)
await program.parseAsync(process.argv).catch(fatal)
