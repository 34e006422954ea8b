import type { Command } from 'commander'
import { verifyAuditExportFile, PcpError } from '../runtime/index.js'
import { action, printJson, EXIT } from './common.js'

export function registerVerifyCommands (program: Command): void {
  program.command('verify <file>')
    .description('verify an audit export: every signature, link, timestamp, nonce, the agent_id binding and chain_integrity_hash.\n' +
      'exit 0 valid, 1 invalid, 2 unusable file')
    .option('--json', 'print {"valid","event_count","agent_id","chain_integrity_hash","errors":[{"code","index","message"}]}, or {"error":{"code","message"}} for an unusable file')
    .action(action(async (file: string, opts: { json?: boolean }) => {
      // --json errors have the shape of every other command's: {"error":{"code","message"}}.
      const unusable = (reason: string, code: string): number => {
        if (opts.json) printJson({ error: { code, message: `${file}: ${reason}` } })
        else process.stderr.write(`pcp verify: ${file}: ${reason}\n`)
        return EXIT.UNUSABLE
      }
      // Streamed: memory stays bounded whatever the export's length (runtime/audit-stream.ts).
      let result
      try { result = verifyAuditExportFile(file) } catch (err) {
        if (err instanceof PcpError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err
        return unusable(`cannot read (${(err as NodeJS.ErrnoException).code})`, 'FILE_UNREADABLE')
      }
      if (!result.usable) return unusable(result.code === 'JSON_INVALID' ? `not JSON: ${result.reason}` : `not an audit export: ${result.reason}`, result.code)
      const r = result.report
      if (opts.json) {
        printJson({ valid: r.valid, event_count: r.event_count, agent_id: r.agent_id, chain_integrity_hash: r.chain_integrity_hash, errors: r.errors.map((e) => ({ code: e.code, index: e.index, message: e.message })) })
      } else if (r.valid) {
        process.stdout.write(`valid: ${r.event_count} events of ${r.agent_id}, chain_integrity_hash ${r.chain_integrity_hash}\n`)
      } else {
        process.stdout.write(`INVALID: ${r.errors.length} problem(s) in ${r.event_count} events of ${r.agent_id}\n`)
        for (const e of r.errors.slice(0, 50)) process.stdout.write(`  [${e.code}] ${e.index >= 0 ? '' : 'export: '}${e.message}\n`)
        if (r.errors.length > 50) process.stdout.write(`  … and ${r.errors.length - 50} more (--json lists all)\n`)
      }
      return r.valid ? EXIT.OK : EXIT.INVALID
    }))
}
