// `pcp` with only the vigil commands, as cli/main.ts wires them (used by vigil-http-cli.test.ts).
import { Command } from 'commander'
import { registerVigilCommands } from '../cli/vigil.js'

const program = new Command().name('pcp').showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(`pcp: ${s.replace(/^error: /, '')}`) })
  .exitOverride((err) => { process.exit(err.exitCode === 0 ? 0 : 2) })
registerVigilCommands(program)
await program.parseAsync(process.argv)
