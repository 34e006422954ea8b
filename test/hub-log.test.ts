// The operator log as `pcp hub start` and `pcp sync run` write it, read from real child processes:
// JSON lines (pino), each with a numeric level and the component that wrote it; fastify's request lines
// for both HTTP APIs in the same stream as ingest, broker, TrustGate and Vigil lines; --log-level
// filters; --log-file takes the stream off stderr; `pcp sync run --log-level` logs as component sync.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { freePort, until } from './support/hub-helpers.js'
import { tmpDir, ROOT } from './helpers.js'

const L = suite('hub-log')
const CLI = join(ROOT, 'test/support/hub-cli.ts')
const COMPONENTS = new Set(['hub', 'ingest', 'store', 'broker', 'vigil', 'trustgate', 'http', 'sync'])
const LEVELS = new Set([10, 20, 30, 40, 50, 60]) // pino: trace debug info warn error fatal

interface Line { level: number, time: string, pid: number, component: string, msg?: string, event?: string, api?: string, req?: { method: string, url: string }, res?: { statusCode: number }, [k: string]: unknown }

/** Every non-empty line is one JSON object with a level, an ISO time and a known component. */
function parseLog (text: string, what: string): Line[] {
  return text.split('\n').filter((l) => l !== '').map((l) => {
    let o: Line
    try { o = JSON.parse(l) as Line } catch { throw new Error(`${what}: not a JSON line: ${l}`) }
    assert.ok(LEVELS.has(o.level), `${what}: level ${o.level}: ${l}`)
    assert.ok(COMPONENTS.has(o.component), `${what}: component ${String(o.component)}: ${l}`)
    assert.ok(!Number.isNaN(Date.parse(o.time)), `${what}: time: ${l}`)
    return o
  })
}

async function startHub (args: string[]): Promise<{ info: { vigil: string, trustgate: string, mqtt: string }, err: () => string, stop: () => Promise<void> }> {
  const hub = spawn(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--local-only', '--auto-approve', '--json', '--vigil-port', '0', '--trustgate-port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''; let err = ''
  hub.stdout.on('data', (d) => { out += d }); hub.stderr.on('data', (d) => { err += d })
  const exited = new Promise((resolve) => hub.once('exit', resolve))
  try { await until(() => out.includes('"trustgate"') || hub.exitCode !== null, 30_000, 'hub start') } catch (e) { hub.kill('SIGKILL'); throw e }
  assert.is(hub.exitCode, null, err)
  return { info: JSON.parse(out.trim().split('\n')[0]!), err: () => err, stop: async () => { hub.kill('SIGTERM'); await exited } }
}

L('hub start: JSON lines per component; fastify request lines in the same stream; sync run --log-level logs as sync', async () => {
  const tmp = tmpDir('pcp-hub-log-')
  const port = await freePort()
  const home = join(tmp.path, 'dev')
  const hub = await startHub(['--data', join(tmp.path, 'hub'), '--port', String(port), '--log-level', 'debug'])
  try {
    const dev = await Agent.open({ name: 'arm-3' }, { home })
    for (let i = 0; i < 20; i++) await dev.stamp('tick', { i })
    await dev.close()
    const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--home', home, 'sync', 'run', '--url', `mqtt://127.0.0.1:${port}`, '--until-synced', '--timeout', '30', '--json', '--log-level', 'info'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    assert.is(run.status, 0, run.stderr)
    assert.is(JSON.parse(run.stdout).agents[0].ackedSeq, 19) // stdout keeps its --json
    const sync = parseLog(run.stderr, 'sync run stderr')
    assert.ok(sync.length > 0 && sync.every((l) => l.component === 'sync'), run.stderr)
    assert.ok(sync.some((l) => l.event === 'mqtt_connected' && l.level === 30), run.stderr)

    assert.is((await fetch(`${hub.info.vigil}/metrics`)).status, 200)
    const decided = await fetch(`${hub.info.trustgate}/api/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: 'op-console', role: 'operator', action: 'shell', payload: { cmd: 'rm -rf /' } }) })
    const body = await decided.text()
    assert.is(decided.status, 200, body)
    assert.is((JSON.parse(body) as { outcome: string }).outcome, 'BLOCK', body)
    const read = await fetch(`${hub.info.trustgate}/api/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: 'op-console', role: 'operator', action: 'read_db', payload: { table: 'orders' } }) })
    assert.is(((await read.json()) as { outcome: string }).outcome, 'ALLOW')
  } finally { await hub.stop() }
  const log = parseLog(hub.err(), 'hub stderr')
  const by = (c: string): Line[] => log.filter((l) => l.component === c)
  for (const c of ['hub', 'ingest', 'broker', 'http', 'trustgate']) assert.ok(by(c).length > 0, `a ${c} line: ${[...new Set(log.map((l) => l.component))].join(', ')}`)
  assert.ok(by('ingest').some((l) => l.event === 'registered'), 'the device registered')
  assert.ok(by('ingest').some((l) => l.event === 'mqtt_connected'), 'the hub\'s own MQTT client')
  assert.ok(by('broker').some((l) => l.event === 'connect'), 'the device connected to the broker')
  assert.ok(by('trustgate').some((l) => l.event === 'decision' && l.outcome === 'BLOCK' && l.level === 30 && l.source === 'api'))
  assert.ok(by('hub').some((l) => l.event === 'shutdown'))
  // fastify's own request log, through the hub's logger: same stream, same pid, tagged by API.
  const req = by('http').filter((l) => l.req?.url === '/metrics')
  assert.ok(req.some((l) => l.api === 'vigil' && l.msg === 'incoming request' && l.req!.method === 'GET'), hub.err())
  const done = by('http').filter((l) => l.msg === 'request completed')
  assert.ok(done.some((l) => l.api === 'vigil' && l.res?.statusCode === 200), hub.err())
  assert.ok(done.some((l) => l.api === 'trustgate' && l.res?.statusCode === 200), hub.err())
  assert.is(new Set(log.map((l) => l.pid)).size, 1, 'one process, one stream')
  // ALLOW decisions are logged at debug (each is journalled anyway): --log-level debug lets them through.
  assert.ok(by('trustgate').some((l) => l.event === 'decision' && l.outcome === 'ALLOW' && l.level === 20), '--log-level debug lets debug lines through')
  tmp.cleanup()
})

L('hub start --log-file takes the log off stderr; --log-level info drops debug lines; a bad level is exit 2', async () => {
  const tmp = tmpDir('pcp-hub-log-')
  const file = join(tmp.path, 'logs', 'hub.log')
  const hub = await startHub(['--data', join(tmp.path, 'hub'), '--port', String(await freePort()), '--log-level', 'info', '--log-file', file])
  try {
    assert.is((await fetch(`${hub.info.vigil}/metrics`)).status, 200)
    const read = await fetch(`${hub.info.trustgate}/api/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: 'op-console', role: 'operator', action: 'read_db', payload: { table: 'orders' } }) })
    assert.is(((await read.json()) as { outcome: string }).outcome, 'ALLOW')
  } finally { await hub.stop() }
  assert.not.match(hub.err(), /"component"/, 'nothing of the log on stderr')
  const lines = parseLog(readFileSync(file, 'utf8'), 'log file')
  assert.ok(lines.some((l) => l.component === 'http' && l.req?.url === '/metrics'), 'request lines in the file')
  assert.ok(lines.some((l) => l.component === 'hub' && l.event === 'shutdown'), 'the hub\'s own lines in the same file')
  assert.ok(lines.every((l) => l.level >= 30), 'no line below info')
  assert.not.ok(lines.some((l) => l.event === 'decision'), 'the ALLOW decision (debug) is filtered out')
  const bad = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--local-only', '--data', join(tmp.path, 'hub'), '--log-level', 'chatty'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
  assert.is(bad.status, 2, bad.stderr)
  assert.match(bad.stderr, /--log-level expected one of fatal, error, warn, info, debug, trace, silent, got "chatty"/)
  tmp.cleanup()
})

L.run()
