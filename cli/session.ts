// `pcp session-verify FILE`: checks an AgentSession export (runtime/a2a/session-export.ts): every chain,
// every handshake co-signature, every mirrored interaction pair. Exit 0 valid, 1 invalid, 2 unusable.
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { parseJson } from '../runtime/index.js'
import { verifySessionExport } from '../runtime/a2a/session-verify.js'
import { EXIT, printJson, action } from './common.js'

export function registerSessionCommands (program: Command): void {
  program.command('session-verify')
    .argument('<file>', 'session export written by AgentSession.export() ("-" for stdin)')
    .description('verify an A2A session export: each agent\'s chain, every co-signed handshake and every interaction mirrored in the peer\'s chain (exit 0 valid, 1 invalid, 2 unusable)')
    .option('--json', 'print the report as JSON')
    .action(action(async (file: string, opts: { json?: boolean }) => {
      let doc: unknown
      try {
        doc = parseJson(readFileSync(file === '-' ? 0 : file, 'utf8'), file)
      } catch (err) {
        if (opts.json) printJson({ usable: false, reason: (err as Error).message })
        process.stderr.write(`pcp session-verify: cannot read ${file}: ${(err as Error).message}\n`)
        return EXIT.UNUSABLE
      }
      const result = verifySessionExport(doc)
      if (!result.usable) {
        if (opts.json) printJson({ usable: false, reason: result.reason })
        process.stderr.write(`pcp session-verify: ${file} is not a session export: ${result.reason}\n`)
        return EXIT.UNUSABLE
      }
      const r = result.report
      if (opts.json) {
        printJson({ usable: true, ...r })
      } else {
        const out = [`session ${r.sessionId}: ${r.valid ? 'VALID' : 'INVALID'}`]
        for (const a of r.agents) out.push(`  ${a.name} ${a.agentId ?? '?'}: chain ${a.chainValid ? 'ok' : 'BROKEN'}, ${a.events} events (${a.sessionEvents} in the session)`)
        out.push(`  ${r.handshakes} handshake(s) co-signed, ${r.interactions} interaction(s) mirrored`)
        for (const p of r.problems) out.push(`  ✗ ${p.code}${p.agent ? ` [${p.agent}${p.index >= 0 ? ` #${p.index}` : ''}]` : ''}: ${p.message}`)
        for (const w of r.warnings) out.push(`  ! ${w}`)
        process.stdout.write(out.join('\n') + '\n')
      }
      return r.valid ? EXIT.OK : EXIT.INVALID
    }))
}
