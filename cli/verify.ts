import type { Command } from 'commander'
import { verifyAuditExportFile, PcpError } from '../runtime/index.js'
import { action, printJson, EXIT } from './common.js'
import { isAnchorEvent } from '../runtime/anchor/payload.js'
import { tsaTrustFromOptions, registerTsaTrustOptions } from './tsa-trust.js'
import type { compareHistories as CompareHistories } from './verify-anchors.js'

export function registerVerifyCommands (program: Command): void {
  const cmd = program.command('verify <file>')
    .description('verify an audit export: every signature, link, timestamp, nonce, the agent_id binding and chain_integrity_hash.\n' +
      'exit 0 valid, 1 invalid, 2 unusable file')
    .option('--json', 'print {"valid","event_count","agent_id","chain_integrity_hash","errors":[{"code","index","message"}]}, plus "anchors":{"count","verified","results"} for a chain with anchors, "against":{"file","diverges_at"} with --against and "evidence":{"dir","files"} when evidence was saved; or {"error":{"code","message"}} for an unusable file')
  registerTsaTrustOptions(cmd, 'verify the chain\'s RFC 3161 anchors against them', true)
  cmd.option('--against <file>', 'a second export of the same agent: report where the histories diverge, FORK_AFTER_FINALIZATION if an anchor made that point final')
    .action(action(async (file: string, opts: { json?: boolean, tsaRoots?: string, tsaCrl: string[], tsaOcsp: string[], tsaFetch?: boolean, tsaSaveEvidence?: string, against?: string }) => {
      // --json errors have the shape of every other command's: {"error":{"code","message"}}.
      const unusable = (reason: string, code: string): number => {
        if (opts.json) printJson({ error: { code, message: `${file}: ${reason}` } })
        else process.stderr.write(`pcp verify: ${file}: ${reason}\n`)
        return EXIT.UNUSABLE
      }
      // Streamed: memory stays bounded whatever the export's length (runtime/audit-stream.ts).
      let result
      // Counted in the same pass: an export's anchors prove no time unless roots are given, and the user
      // must be told they were not checked, not left to think the chain's "valid" covers them.
      let anchorEvents = 0
      const onEvent = (e: unknown): void => { if (isAnchorEvent(e)) anchorEvents++ }
      try { result = verifyAuditExportFile(file, { onEvent }) } catch (err) {
        if (err instanceof PcpError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err
        return unusable(`cannot read (${(err as NodeJS.ErrnoException).code})`, 'FILE_UNREADABLE')
      }
      if (!result.usable) return unusable(result.code === 'JSON_INVALID' ? `not JSON: ${result.reason}` : `not an audit export: ${result.reason}`, result.code)
      const r = result.report
      // Trusted time (README "Trusted time"): each anchor's verdict is one more error when it fails; CRLs,
      // OCSP responses or --tsa-fetch make revocation checked for every anchor, none keeps it unchecked.
      const trust = await tsaTrustFromOptions(opts)
      const va = trust || opts.against ? await import('./verify-anchors.js') : undefined
      const anchors = va ? await va.exportAnchors(file, trust) : undefined
      let fork: ReturnType<typeof CompareHistories> | undefined
      if (opts.against) {
        let other
        try { other = verifyAuditExportFile(opts.against) } catch (err) {
          if (err instanceof PcpError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err
          return unusable(`--against ${opts.against}: cannot read (${(err as NodeJS.ErrnoException).code})`, 'FILE_UNREADABLE')
        }
        if (!other.usable) return unusable(`--against ${opts.against}: ${other.reason}`, other.code)
        fork = va!.compareHistories(anchors!, await va!.exportAnchors(opts.against, trust))
      }
      // Written whatever the verdicts: the answer that says "revoked" is the evidence an auditor most needs to keep.
      const saved = trust?.evidence ? await trust.evidence.save() : undefined
      // The offline run the evidence is for, done now: offline every file in DIR speaks for every
      // certificate of its issuer, which can judge an anchor otherwise than the one answer fetched for it
      // (a stale CRL beside a fresh OCSP answer). Said, not hidden; this run's verdicts stand.
      let differs: Array<{ index: number, fetched: string, offline: string }> = []
      if (saved !== undefined && anchors !== undefined && anchors.verdicts.length > 0) {
        const offline = await va!.exportAnchors(file, { roots: trust!.roots, revocation: await (await import('./tsa-evidence.js')).offlineSources(trust!.evidence!.dir) })
        differs = anchors.verdicts.map((a, i) => ({ index: a.index, fetched: a.code ?? 'ok', offline: offline.verdicts[i]?.code ?? 'ok' })).filter((d) => d.fetched !== d.offline)
      }
      const evidenceJson = saved === undefined ? {} : { evidence: { dir: trust!.evidence!.dir, files: saved, reproducible: differs.length === 0, ...(differs.length ? { differs } : {}) } }
      if (saved !== undefined && differs.length) process.stderr.write(`pcp verify: warning: offline from ${trust!.evidence!.dir} ${differs.length} anchor(s) would be judged otherwise: ${differs.map((d) => `event ${d.index} ${d.fetched} → ${d.offline}`).join(', ')}\n`)
      const extra = anchors ? va!.anchorProblems(anchors, fork) : []
      const valid = r.valid && extra.length === 0
      const anchorJson = anchors !== undefined ? { anchors: va!.anchorsJson(anchors, trust !== undefined) } : anchorEvents > 0 ? { anchors: { count: anchorEvents, verified: false, results: [] } } : {}
      const forkJson = fork === undefined ? {} : { against: { file: opts.against, diverges_at: fork.divergence } }
      if (opts.json) {
        printJson({ valid, event_count: r.event_count, agent_id: r.agent_id, chain_integrity_hash: r.chain_integrity_hash, errors: [...r.errors.map((e) => ({ code: e.code, index: e.index, message: e.message })), ...extra], ...anchorJson, ...forkJson, ...evidenceJson })
        return valid ? EXIT.OK : EXIT.INVALID
      }
      if (!anchors && anchorEvents > 0) process.stdout.write(`anchors: ${anchorEvents}, not verified (no --tsa-roots)\n`)
      if (anchors) {
        const ok = anchors.verdicts.filter((a) => a.ok)
        process.stdout.write(trust === undefined
          ? `anchors: ${anchors.anchorCount}, not verified (no --tsa-roots)\n`
          : `anchors: ${ok.length} of ${anchors.anchorCount} verified${ok.length ? `, final up to event ${Math.max(...ok.map((a) => a.to))} (genTime ${ok[ok.length - 1]!.genTime!.toISOString()})` : ''}\n`)
      }
      if (saved !== undefined) process.stdout.write(`revocation evidence: ${saved.length} file(s) in ${trust!.evidence!.dir}${saved.length ? ` (offline: --tsa-crl ${trust!.evidence!.dir} --tsa-ocsp ${trust!.evidence!.dir})` : ''}\n`)
      if (fork) process.stdout.write(fork.divergence < 0 ? `against ${opts.against}: no divergence (one history extends the other)\n` : `against ${opts.against}: the histories diverge at event ${fork.divergence}\n`)
      for (const e of extra) process.stdout.write(`  [${e.code}] ${e.message}\n`)
      if (extra.length && r.valid) return EXIT.INVALID
      if (r.valid) {
        process.stdout.write(`valid: ${r.event_count} events of ${r.agent_id}, chain_integrity_hash ${r.chain_integrity_hash}\n`)
      } else {
        process.stdout.write(`INVALID: ${r.errors.length} problem(s) in ${r.event_count} events of ${r.agent_id}\n`)
        for (const e of r.errors.slice(0, 50)) process.stdout.write(`  [${e.code}] ${e.index >= 0 ? '' : 'export: '}${e.message}\n`)
        if (r.errors.length > 50) process.stdout.write(`  … and ${r.errors.length - 50} more (--json lists all)\n`)
      }
      return r.valid ? EXIT.OK : EXIT.INVALID
    }))
}
