// The README's "Run a hub" lines, run by sh as written (with free ports in place of 1884/8431/8432 and
// the device's agent_id for AGENT_ID): --until-synced means the current hub acknowledged the head, a
// pending device names `pcp hub approve`, and pcp vigil / pcp trustgate find the hub's ports.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, until } from './support/hub-helpers.js'
import { tmpDir, ROOT } from './helpers.js'

const H = suite('hub-ops')
const tmp = tmpDir()
const home = join(tmp.path, 'home')
const bin = join(tmp.path, 'bin')
mkdirSync(bin); symlinkSync(join(ROOT, 'bin/pcp.js'), join(bin, 'pcp'))
const env = { ...process.env, PCP_HOME: home, PATH: `${bin}:${process.env.PATH}`, VIGIL_TOKEN: '', TRUSTGATE_TOKEN: '' }
const sh = (line: string): { code: number | null, out: string, err: string } => {
  const r = spawnSync('sh', ['-c', line], { cwd: tmp.path, encoding: 'utf8', env, timeout: 90_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Run a hub\n')))![1]!
const lines = block.split('\n').filter((l) => l.trim()).map((l) => l.replace(/\s+#.*$/, ''))

H('start, pending with the command to run, approve, synced, status; then no broker is not "synced"', async () => {
  const ports = { 1884: await freePort(), 8431: await freePort(), 8432: await freePort() }
  const [start, syncPending, approve, synced, status] = lines.map((l) => l.replace(/\b(1884|8431|8432)\b/g, (p) => String(ports[Number(p) as 1884]))) as [string, string, string, string, string]
  let r = sh('pcp identity create arm-1 --json && pcp stamp arm-1 boot')
  assert.is(r.code, 0, r.err)
  const agentId = (JSON.parse(r.out.slice(0, r.out.lastIndexOf('}') + 1)) as { agent_id: string }).agent_id
  const hub = spawn('sh', ['-c', `exec ${start}`], { cwd: tmp.path, env })
  let out = ''
  hub.stdout.on('data', (d) => { out += d }); hub.stderr.on('data', (d) => { out += d })
  try {
    await until(() => out.includes('Vigil dashboard'), 60_000, `hub start: ${out}`)
    r = sh(syncPending)
    assert.is(r.code, 2, r.out + r.err)
    assert.match(r.err, `arm-1 waits for approval by the hub: on the hub run \`pcp hub approve ${agentId}\``)
    r = sh(approve.replace('AGENT_ID', agentId))
    assert.is(r.code, 0, r.err)
    r = sh(synced)
    assert.is(r.code, 0, r.out + r.err)
    assert.match(r.out, /acked #0/)
    r = sh(status)
    assert.is(r.code, 0, r.err)
    assert.match(r.out, new RegExp(`${agentId}.*allowed`))
    assert.match(r.out, /SAFE|WATCH|ALERT|CRITICAL|agents/i) // Vigil answered
  } finally { hub.kill('SIGTERM') }
  await new Promise((resolve) => hub.once('exit', resolve))
  // The hub's structured log (pino JSON lines on stderr): what an operator needs to follow it.
  const log = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string, agent?: string, component?: string, msg?: string })
  const events = new Set(log.map((l) => l.event))
  for (const e of ['connect', 'disconnect', 'pending', 'approved', 'shutdown']) assert.ok(events.has(e), `log has ${e}: ${[...events].join(', ')}`)
  assert.match(log.find((l) => l.event === 'pending')!.msg!, `pcp hub approve ${agentId}`)
  assert.ok(log.every((l) => typeof l.component === 'string'), 'every line names its component')
  assert.is(sh(`pcp hub start --log-level loud --port ${await freePort()} --no-api`).code, 2)
  // The device's saved cursor says everything was acked; with no broker that proves nothing.
  r = sh(`pcp sync run --url mqtt://127.0.0.1:${await freePort()} --until-synced --timeout 2`)
  assert.is(r.code, 2, r.out + r.err)
  assert.match(r.err, /not synced after 2000 ms: arm-1: not connected to the broker/)
})

H.after(() => tmp.cleanup())
H.run()
