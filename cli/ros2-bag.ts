// `pcp ros2 record` and `pcp ros2 verify-bag`: tamper-evident MCAP bags (ros2/recorder.ts, ros2/verify-bag.ts).
//   pcp ros2 record -o BAG.mcap --topic /scan:sensor_msgs/msg/LaserScan [...]   needs ROS 2 (or PCP_ROS2_STANDIN=1)
//   pcp ros2 verify-bag BAG.mcap --chain EXPORT.json                              needs no ROS at all
// verify-bag exits like `pcp verify`: 0 every message proven, 1 anything altered / missing / inserted
// (or the chain itself invalid), 2 unusable input. Both need the optional ROS 2 tools (@mcap/core,
// @foxglove/*: ros2/tools.ts); without them they say what to install (ROS2_TOOLS_MISSING, exit 2).
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { parseJson, verifyAuditExport, type AissEvent } from '../runtime/index.js'
import type { MessageVerdict } from '../ros2/verify-bag.js'
import { readPassphrase } from '../ros2/config.js'
import { loadRos2Tools } from '../ros2/tools.js'
import { action, printJson, EXIT } from './common.js'

function parseTopic (spec: string): { topic: string, type: string } {
  const i = spec.lastIndexOf(':')
  if (i <= 0 || i === spec.length - 1) throw new RangeError(`--topic expected NAME:TYPE (e.g. /scan:sensor_msgs/msg/LaserScan), got ${JSON.stringify(spec)}`)
  return { topic: spec.slice(0, i), type: spec.slice(i + 1) }
}

const line = (v: MessageVerdict): string => `  ${v.status.toUpperCase().padEnd(8)} ${v.topic} seq ${v.sequence} log_time ${v.log_time ?? '?'}`

export function registerRos2BagCommands (ros2: Command): void {
  ros2.command('record')
    .description('record topics into an MCAP bag (ros2msg schemas, cdr) while the chain stamps a signed window digest over exactly the bytes written')
    .requiredOption('-o, --output <file>', 'the .mcap file to create (must not exist)')
    .requiredOption('--topic <name:type>', 'topic and message type; repeat for more', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--window-ms <ms>', 'window length', '1000')
    .option('--duration <s>', 'stop after this many seconds (default: until SIGINT/SIGTERM)')
    .option('--agent <name>', 'agent whose chain records the bag', 'pcp_recorder')
    .option('--home <dir>', 'agent home (default $PCP_HOME or ~/.pcp)')
    .option('--passphrase-file <file>', 'read the key passphrase from this file (else $CREDENTIALS_DIRECTORY/pcp-passphrase, else $PCP_PASSPHRASE)')
    .option('--json', 'print the summary as JSON')
    .action(action(async (opts: { output: string, topic: string[], windowMs: string, duration?: string, agent: string, home?: string, passphraseFile?: string, json?: boolean }) => {
      const topics = opts.topic.map(parseTopic)
      if (topics.length === 0) throw new RangeError('--topic is required')
      const windowMs = Number(opts.windowMs)
      const { BagRecorder } = await loadRos2Tools('pcp ros2 record', () => import('../ros2/recorder.js'))
      const { Agent } = await import('../runtime/index.js')
      const { rclnodejs } = await import('../ros2/index.js')
      const pass = readPassphrase({ file: opts.passphraseFile })
      const agent = await Agent.open({ name: opts.agent }, { ...(opts.home ? { home: opts.home } : {}), ...(pass ? { passphrase: pass } : {}) })
      await rclnodejs.init()
      rclnodejs.removeSignalHandlers?.()
      const node = new rclnodejs.Node('pcp_recorder')
      node.spin()
      const rec = await BagRecorder.start({ node, stamper: agent, file: opts.output, topics, windowMs })
      if (!opts.json) process.stderr.write(`recording ${topics.map((t) => t.topic).join(', ')} into ${opts.output} (bag ${rec.bagId}); Ctrl-C to stop\n`)
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve()); process.once('SIGTERM', () => resolve())
        if (opts.duration !== undefined) setTimeout(resolve, Number(opts.duration) * 1000)
      })
      await rec.close()
      node.destroy()
      rclnodejs.shutdown()
      await agent.close()
      const summary = { bag: opts.output, bag_id: rec.bagId, messages: rec.messages, bytes: rec.bytes, agent_id: agent.agentId }
      if (opts.json) printJson(summary)
      else process.stdout.write(`recorded ${rec.messages} messages (${rec.bytes} bytes) into ${opts.output}\n`)
      return EXIT.OK
    }))

  ros2.command('verify-bag <bag>')
    .description('prove every message of an MCAP bag against a chain export: proven, altered, missing or inserted.\nexit 0 all proven, 1 not, 2 unusable input')
    .requiredOption('--chain <export>', 'audit export (JSON) of the recorder\'s chain, or of the publishing node\'s chain')
    .option('--all', 'list proven messages too')
    .option('--json', 'print {"valid","counts","messages":[{"topic","sequence","log_time","status"}],"windows","problems"}')
    .action(action(async (bagFile: string, opts: { chain: string, all?: boolean, json?: boolean }) => {
      const [{ readBag }, { verifyBag }] = await loadRos2Tools('pcp ros2 verify-bag', () => Promise.all([import('../ros2/bag.js'), import('../ros2/verify-bag.js')]))
      const unusable = (reason: string): number => {
        if (opts.json) printJson({ valid: false, unusable: true, reason })
        else process.stderr.write(`pcp ros2 verify-bag: ${reason}\n`)
        return EXIT.UNUSABLE
      }
      let bytes: Buffer
      try { bytes = await readFile(bagFile) } catch (err) { return unusable(`${bagFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`) }
      const bag = readBag(bytes)
      if (bag.profile === null && bag.messages.length === 0) return unusable(`${bagFile}: not an MCAP file${bag.truncated ? ` (${bag.truncated})` : ''}`)
      let doc: unknown
      try { doc = parseJson(await readFile(opts.chain, 'utf8'), opts.chain) } catch (err) { return unusable(`${opts.chain}: ${(err as Error).message}`) }
      const exp = verifyAuditExport(doc)
      if (!exp.usable) return unusable(`${opts.chain}: not an audit export: ${exp.reason}`)
      const report = verifyBag(bag, (doc as { events: AissEvent[] }).events)
      const chainOk = exp.report.valid
      if (!chainOk) report.problems.unshift(`the chain export itself is invalid (${exp.report.errors[0]?.code ?? '?'}: ${exp.report.errors[0]?.message ?? ''}); run pcp verify`)
      const valid = chainOk && report.valid
      if (opts.json) {
        // nanosecond times as strings: a JSON number would lose them in every JavaScript reader
        const messages = report.messages.map((m) => ({ ...m, log_time: m.log_time === null ? null : String(m.log_time) }))
        printJson({ valid, bag: bagFile, chain_valid: chainOk, counts: report.counts, messages, windows: report.windows, problems: report.problems })
      } else {
        const c = report.counts
        process.stdout.write(`${valid ? 'valid' : 'INVALID'}: ${c.proven} proven, ${c.altered} altered, ${c.missing} missing, ${c.inserted} inserted (${bagFile})\n`)
        for (const p of report.problems) process.stdout.write(`  ! ${p}\n`)
        for (const v of report.messages) if (opts.all || v.status !== 'proven') process.stdout.write(line(v) + '\n')
      }
      return valid ? EXIT.OK : EXIT.INVALID
    }))
}
