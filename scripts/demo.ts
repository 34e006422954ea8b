// npm run demo [-- --keep] [-- --json]
// The end-to-end demo on the embedded defaults: a hub (embedded MQTT broker, Vigil, TrustGate) on free
// ports, two simulated devices (a ROS 2 robot on the stand-in, a Pi on the GPIO simulator) stamping and
// syncing, three TrustGate decisions (allowed, blocked, approved by a human), a tampered export caught
// at its exact index. Every step is checked; a failed check makes the exit code 1. Steps: demo/steps.ts.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Reporter, secs } from './demo/report.js'
import { runSteps, TOTAL_STEPS, type Demo } from './demo/steps.js'

const HELP = `npm run demo [-- options]      (or: node --import tsx scripts/demo.ts [options])

The end-to-end demo, on this machine only (127.0.0.1, free ports, a fresh temp directory):
starts a hub, creates two device identities, runs a SIMULATED robot (ROS 2 stand-in) and a
SIMULATED Pi (GPIO simulator), syncs their signed events, shows Vigil's scores, asks TrustGate
for an allowed, a blocked and a human-approved action, and catches a tampered export.

Options:
  --keep    leave the hub (and its dashboard) running at the end, until Ctrl-C
  --json    print a machine-readable summary on stdout (the progress goes to stderr)
  -h, --help

Exit code: 0 every check passed, 1 a check failed, 2 bad arguments.`

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) { process.stdout.write(HELP + '\n'); process.exit(0) }
const unknown = args.filter((a) => a !== '--keep' && a !== '--json')
if (unknown.length > 0) { process.stderr.write(`demo: unknown option ${unknown[0]} (see --help)\n`); process.exit(2) }
const keep = args.includes('--keep')
const json = args.includes('--json')

const out = json ? process.stderr : process.stdout
const rep = new Reporter({ write: (t) => { out.write(t) }, totalSteps: TOTAL_STEPS })
const dataDir = mkdtempSync(join(tmpdir(), 'pcp-demo-'))
const demo: Demo = { rep, dataDir, summary: {}, gates: [] }

/** Closes the devices' side: gates, sync, agents. The hub is closed separately (--keep leaves it). */
async function closeDevices (): Promise<void> {
  for (const g of demo.gates.splice(0)) await g.close().catch(() => {})
  await demo.sync?.close().catch(() => {})
  for (const a of [demo.robot, demo.pi]) await a?.close().catch(() => {})
  demo.robot = demo.pi = undefined
}

// A stuck step must not leave a newcomer staring at a silent terminal.
const watchdog = setTimeout(() => {
  process.stderr.write(`demo: still running after 60 s${rep.current ? `, in step ${rep.current}` : ''}; giving up\n`)
  process.exit(1)
}, 60_000)
watchdog.unref()

let stopping = false
const interrupted = (signal: NodeJS.Signals): void => {
  if (stopping) return
  stopping = true
  process.stderr.write(`demo: ${signal}, closing\n`)
  void closeDevices().then(() => demo.services?.close()).finally(() => process.exit(130))
}
process.on('SIGINT', interrupted)
process.on('SIGTERM', interrupted)

rep.say(`PCP end-to-end demo: a hub and two SIMULATED devices on 127.0.0.1, data in ${dataDir}`)
let crashed = false
try {
  await runSteps(demo)
} catch {
  crashed = true // the step printed its error
}
await closeDevices()
clearTimeout(watchdog)

const failed = rep.failed
const ok = !crashed && failed.length === 0
const urls = demo.summary.urls as { dashboard?: string } | undefined
rep.say()
rep.say(ok ? `All ${rep.checks.length} checks passed in ${secs(rep.elapsed())}.` : `${failed.length} of ${rep.checks.length} checks FAILED: ${failed.map((c) => c.id).join(', ')}`)
if (urls?.dashboard) rep.say(`  dashboard  ${urls.dashboard}${keep ? '' : '   (stops with the demo; --keep keeps it)'}`)
rep.say(`  data       ${dataDir}`)
const tamper = demo.summary.tamper as { tamperedFile?: string } | undefined
if (tamper?.tamperedFile) rep.say(`  try        npx pcp verify ${tamper.tamperedFile}`)

if (json) {
  process.stdout.write(JSON.stringify({ ok, durationMs: Math.round(rep.elapsed()), dataDir, keep, steps: rep.steps, checks: rep.checks, ...demo.summary }, null, 2) + '\n')
}

if (keep && demo.services) {
  process.off('SIGINT', interrupted); process.off('SIGTERM', interrupted)
  rep.say(`  status     npx pcp hub status --data ${join(dataDir, 'hub')}`)
  rep.say('The hub keeps running (--keep). Ctrl-C to stop it.')
  const services = demo.services
  const stop = (): void => { void services.close().then(() => { rep.say('hub stopped'); process.exit(ok ? 0 : 1) }) }
  process.once('SIGINT', stop); process.once('SIGTERM', stop)
} else {
  await demo.services?.close()
  process.exitCode = ok ? 0 : 1
  // Everything is closed; if some handle still keeps the process alive, say so rather than hang.
  setTimeout(() => { process.stderr.write('demo: still running 3 s after closing everything; forcing exit\n'); process.exit(process.exitCode ?? 1) }, 3000).unref()
}
