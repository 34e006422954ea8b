// `pcp hub start|approve|status` and `pcp sync status|run`, run as real processes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { SyncAgent } from '../sync/agent.js'
import { freePort, until } from './support/hub-helpers.js'
import { startLoopbackTsa, type LoopbackTsa } from './support/openssl-tsa.js'
import { respond } from './support/openssl-ocsp.js'
import { tmpDir, ROOT } from './helpers.js'

const Cli = suite('pcp hub / pcp sync')
const CLI = join(ROOT, 'test/support/hub-cli.ts')
function pcp (...args: string[]): { code: number | null, out: string, err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

Cli('hub start says clearly when the port is taken (exit 2)', async () => {
  const tmp = tmpDir()
  const server = createServer(); await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  try {
    const r = pcp('hub', 'start', '--data', join(tmp.path, 'hub'), '--port', String(port), '--no-api')
    assert.is(r.code, 2)
    assert.match(r.err, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`))
    assert.match(r.err, /PORT_IN_USE/)
  } finally { server.close(); tmp.cleanup() }
})

Cli('hub start --share-group without --mqtt-url is refused: the embedded broker (aedes) has no shared subscriptions (exit 2)', async () => {
  const tmp = tmpDir()
  try {
    const r = pcp('hub', 'start', '--data', join(tmp.path, 'hub'), '--port', '0', '--no-api', '--share-group', 'hubs')
    assert.is(r.code, 2, r.err)
    assert.match(r.err, /shared subscription group "hubs" needs an external broker \(--mqtt-url.*the embedded broker \(aedes\) has no shared subscriptions \[HUB_SHARE_GROUP_NEEDS_BROKER\]/)
  } finally { tmp.cleanup() }
})

Cli('hub start --tsa-roots: an unreadable file is refused naming it (exit 2); a PEM root, its CRL and an OCSP response are loaded and counted in the start-up line, --tsa-fetch shown; --tsa-crl or --tsa-ocsp alone is refused', async () => {
  const tmp = tmpDir()
  let tsa: LoopbackTsa | undefined
  try {
    const missing = join(tmp.path, 'no-roots.pem')
    const r = pcp('hub', 'start', '--data', join(tmp.path, 'hub'), '--port', '0', '--no-api', '--tsa-roots', missing)
    assert.is(r.code, 2, r.err)
    assert.ok(r.err.includes(missing) && r.err.includes('TSA_TRUST_ROOT_INVALID'), r.err)
    // A CRL without roots would check nothing: refused before anything starts.
    const lone = pcp('hub', 'start', '--data', join(tmp.path, 'hub'), '--port', '0', '--no-api', '--tsa-crl', join(tmp.path, 'x.crl'))
    assert.is(lone.code, 2, lone.err)
    assert.match(lone.err, /--tsa-crl needs --tsa-roots.*\[ARGUMENT_INVALID\]/)
    const loneOcsp = pcp('hub', 'start', '--data', join(tmp.path, 'hub'), '--port', '0', '--no-api', '--tsa-ocsp', join(tmp.path, 'x.der'))
    assert.is(loneOcsp.code, 2, loneOcsp.err)
    assert.match(loneOcsp.err, /--tsa-ocsp needs --tsa-roots.*\[ARGUMENT_INVALID\]/)
    tsa = await startLoopbackTsa()
    const roots = join(tmp.path, 'roots.pem'); writeFileSync(roots, tsa.root.pem)
    const crl = await tsa.crl(tsa.root)
    const ocsp = await respond(tsa, tsa.root, tsa.tsa, [{ cert: tsa.tsa }])
    const hub = spawn(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--data', join(tmp.path, 'hub'), '--port', '0', '--no-api', '--json', '--tsa-roots', roots, '--tsa-crl', crl.file, '--tsa-ocsp', ocsp.file, '--tsa-fetch'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''; hub.stdout.on('data', (d) => { out += d })
    try {
      await until(() => out.includes('\n'), 30_000, 'hub start')
      assert.equal([JSON.parse(out).tsaRoots, JSON.parse(out).tsaCrls], [1, 1])
      assert.equal([JSON.parse(out).tsaOcsp, JSON.parse(out).tsaFetch], [1, true])
    } finally { hub.kill('SIGKILL') }
  } finally { await tsa?.close(); tmp.cleanup() }
})

Cli('hub start will not serve its HTTP APIs without tokens unless --local-only (exit 2, before listening)', async () => {
  const tmp = tmpDir()
  try {
    const r = pcp('hub', 'start', '--data', join(tmp.path, 'hub'), '--port', String(await freePort()))
    assert.is(r.code, 2)
    assert.match(r.err, /VIGIL_TOKEN is not set/)
    assert.match(r.err, /API_TOKEN_MISSING/)
  } finally { tmp.cleanup() }
})

Cli('a pending device is approved with pcp hub approve while the hub runs; status and sync status report it', async () => {
  const tmp = tmpDir()
  const port = await freePort()
  const data = join(tmp.path, 'hub'); const home = join(tmp.path, 'dev')
  const hub = spawn(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--data', data, '--port', String(port), '--no-api'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''; hub.stdout.on('data', (d) => { out += d })
  const agent = await Agent.open({ name: 'drill' }, { home })
  let sync: SyncAgent | undefined
  try {
    await until(() => out.includes('listening for devices'), 20_000, 'hub start')
    assert.match(out, new RegExp(`mqtt://127.0.0.1:${port} \\(embedded broker\\)`))
    for (let i = 0; i < 40; i++) await agent.stamp('tick', { i })
    sync = await SyncAgent.start({ url: `mqtt://127.0.0.1:${port}`, agents: [agent], ackTimeoutMs: 300 })
    await until(() => sync!.status().agents[0]!.phase === 'pending', 10_000, 'pending')
    await until(() => { const s = pcp('hub', 'status', '--data', data, '--json'); return s.code === 0 && JSON.parse(s.out).agents?.[0]?.state === 'pending' }, 10_000, 'status shows pending')
    const ap = pcp('hub', 'approve', agent.agentId, '--data', data, '--name', 'drill-7')
    assert.is(ap.code, 0, ap.err)
    await sync.flush(15_000)
    await until(() => { const s = JSON.parse(pcp('hub', 'status', '--data', data, '--json').out); return s.agents[0].eventCount === 40 }, 10_000, 'status shows 40 events')
    // The status file is rewritten every second, by this process's SyncAgent, whose event loop each
    // spawnSync of `pcp` blocks (seconds each on a loaded machine): give it several polls' worth of turns.
    await until(() => JSON.parse(pcp('--home', home, 'sync', 'status', '--json').out).agents[0].backlog === 0, 30_000, 'sync status backlog 0')
    const st = JSON.parse(pcp('--home', home, 'sync', 'status', '--json').out)
    assert.is(st.running, true)
    assert.is(st.connected, true)
    assert.is(st.agents[0].name, 'drill')
    assert.is(st.agents[0].ackedSeq, 39)
    assert.is(pcp('hub', 'approve', 'not-an-agent', '--data', data).code, 2)
  } finally {
    await sync?.close(); await agent.close()
    hub.kill('SIGTERM'); await new Promise((r) => hub.once('exit', r))
  }
  // Hub stopped: status reads the store; sync run forwards a closed agent's chain until synced.
  const text = pcp('hub', 'status', '--data', data)
  assert.is(text.code, 0, text.err)
  assert.match(text.out, /not running; 1 agent/)
  assert.match(text.out, /drill-7\s+allowed\s+40 events/)
  // The role its gate requests are decided under is the operator's choice (issue 14 #2).
  const role = pcp('hub', 'approve', agent.agentId, '--data', data, '--role', 'trusted', '--json')
  assert.is(role.code, 0, role.err)
  assert.equal([JSON.parse(role.out).role, JSON.parse(role.out).name], ['trusted', 'drill-7'])
  const badRole = pcp('hub', 'approve', agent.agentId, '--data', data, '--role', 'no role')
  assert.equal([badRole.code, /--role "no role"/.test(badRole.err)], [2, true], badRole.err)
  const a2 = await Agent.open({ name: 'drill' }, { home }); for (let i = 0; i < 10; i++) await a2.stamp('more'); await a2.close()
  const hub2 = spawn(process.execPath, ['--import', 'tsx', CLI, 'hub', 'start', '--data', data, '--port', String(port), '--json', '--no-api'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out2 = ''; hub2.stdout.on('data', (d) => { out2 += d })
  try {
    await until(() => out2.includes('hubAgentId'), 20_000, 'hub restart')
    const run = pcp('--home', home, 'sync', 'run', '--url', `mqtt://127.0.0.1:${port}`, '--until-synced', '--timeout', '20', '--json')
    assert.is(run.code, 0, run.err)
    assert.is(JSON.parse(run.out).agents[0].ackedSeq, 49)
    // The broker login needs each agent's key: an encrypted one without its passphrase is a clear refusal.
    const locked = join(tmp.path, 'locked')
    const enc = await Agent.open({ name: 'vault' }, { home: locked, passphrase: 'correct horse' }); await enc.stamp('tick'); await enc.close()
    const refused = pcp('--home', locked, 'sync', 'run', '--url', `mqtt://127.0.0.1:${port}`, '--until-synced', '--timeout', '5')
    assert.is(refused.code, 2, refused.err)
    assert.match(refused.err, /KEY_PASSPHRASE_REQUIRED/)
  } finally {
    hub2.kill('SIGTERM'); await new Promise((r) => hub2.once('exit', r)); tmp.cleanup()
  }
})

Cli.run()
