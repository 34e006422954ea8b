// `pcp trustgate …` as a user runs it: real child processes against a real TrustGate HTTP API on
// 127.0.0.1 (port 0) served by this process. The commands are registered on a bare commander program the
// way cli/main.ts does (the lead wires them there), so the test runs exactly cli/trustgate.ts.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseJson, verifyAuditExport } from '../runtime/index.js'
import { ROOT, tmpDir } from './helpers.js'
import { tmpfsUnavailable } from './support/disk-full.js'
import { startTrustGateApi } from './trustgate-helpers.js'

const TOKEN = 'cli-test-token-0123456789'
const POLICY = `
name: cli-test
version: "1"
thresholds: { vrs_require_human: 0.6, vrs_block: 0.95 }
roles:
  operator: { allowed_tools: [read_db, write_db], blocked_tools: [shell] }
notification: { timeout_seconds: 120, on_timeout: REJECT }
`
const MAIN = `
import { Command } from 'commander'
import { registerTrustgateCommands } from ${JSON.stringify(join(ROOT, 'cli', 'trustgate.ts'))}
const p = new Command().name('pcp').option('--home <dir>')
  .configureOutput({ outputError: (s, write) => write('pcp: ' + s.replace(/^error: /, '')) })
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
registerTrustgateCommands(p)
await p.parseAsync(process.argv.slice(1), { from: 'user' })
`

// Async (not spawnSync): the API answering the child runs on this process's event loop.
function pcp (args: string[], env: Record<string, string> = {}): Promise<{ code: number, out: string, err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MAIN, '--', ...args], { cwd: ROOT, env: { ...process.env, TRUSTGATE_TOKEN: TOKEN, TRUSTGATE_PRINCIPAL_TOKEN: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout, err: stderr })
    })
  })
}

const Cli = suite('trustgate-cli')

Cli('principal add → activate-policy → pending → approve/reject → audit --export → simulate', async () => {
  const tmp = tmpDir('pcp-tg-cli-')
  const stateDir = join(tmp.path, 'hub', 'trustgate')
  const api = await startTrustGateApi({ home: tmp.path, dir: stateDir, token: TOKEN })
  const { hub, service, url } = api
  try {
    // Bootstrap: the first admin is created locally, on the hub's state directory.
    let r = await pcp(['--home', tmp.path, 'trustgate', 'principal', 'add', 'root', '--clearance', 'L3', '--json'])
    assert.is(r.code, 0, r.err)
    const root = JSON.parse(r.out)
    assert.match(root.token, /^tgp_PRINCIPAL-/)
    const tokenFile = join(tmp.path, 'root.token')
    writeFileSync(tokenFile, root.token + '\n', { mode: 0o600 })
    r = await pcp(['trustgate', 'principal', 'add', 'bad', '--clearance', 'L9', '--state-dir', stateDir])
    assert.equal([r.code, r.err.trim().split('\n').length], [2, 1])

    const file = join(tmp.path, 'policy.yaml')
    writeFileSync(file, POLICY)
    r = await pcp(['trustgate', 'activate-policy', file, '--comment', 'first', '--url', url])
    assert.is(r.code, 2, 'no principal token: refused')
    assert.match(r.err, /TRUSTGATE_PRINCIPAL_TOKEN/)
    r = await pcp(['trustgate', 'activate-policy', file, '--comment', 'first', '--url', url, '--principal-token-file', tokenFile, '--json'])
    assert.is(r.code, 0, r.err)
    assert.is(JSON.parse(r.out).version_id, 'cli-test@1')
    r = await pcp(['trustgate', 'activate-policy', join(tmp.path, 'missing.yaml'), '--url', url, '--principal-token-file', tokenFile])
    assert.equal([r.code, r.err.trim().split('\n').length], [2, 1])
    assert.match(r.err, /POLICY_LOAD_FAILED/)
    // An invalid policy: the one line names the file, the line and the field of each problem, not only their count.
    const bad = join(tmp.path, 'bad.yaml')
    writeFileSync(bad, 'name: x\nversion: 1\nroles:\n  operator:\n    bogus_field: 3\n')
    r = await pcp(['trustgate', 'activate-policy', bad, '--url', url, '--principal-token-file', tokenFile])
    assert.equal([r.code, r.err.trim().split('\n').length], [2, 1], r.err)
    assert.match(r.err, `${bad}:5:5 roles.operator.bogus_field: unknown field`)
    assert.match(r.err, /\[POLICY_INVALID\]$/m)
    r = await pcp(['trustgate', 'activate-policy', bad, '--url', url, '--principal-token-file', tokenFile, '--json'])
    assert.match(JSON.parse(r.out).error.message, 'roles.operator.bogus_field')

    const a = await service.evaluate({ agent_id: 'bot', action: 'write_db', vrs: 0.7 }, { source: 'test' })
    const b = await service.evaluate({ agent_id: 'bot', action: 'read_db', vrs: 0.7 }, { source: 'test' })
    r = await pcp(['trustgate', 'pending', '--url', url, '--json'])
    assert.equal(JSON.parse(r.out).decisions.map((d: { decision_id: string }) => d.decision_id).sort(), [a.decision.decision_id, b.decision.decision_id].sort())
    r = await pcp(['trustgate', 'pending', '--url', url])
    assert.match(r.out, a.decision.decision_id)

    // The API token alone cannot approve.
    r = await pcp(['trustgate', 'approve', a.decision.decision_id, '--url', url])
    assert.is(r.code, 2)
    r = await pcp(['trustgate', 'approve', a.decision.decision_id, '--url', url, '--justification', 'ok'], { TRUSTGATE_PRINCIPAL_TOKEN: root.token })
    assert.is(r.code, 0, r.err)
    assert.match(r.out, /APPROVED by PRINCIPAL-/)
    r = await pcp(['trustgate', 'reject', b.decision.decision_id, '--url', url, '--principal-token-file', tokenFile, '--reason', 'no', '--json'])
    assert.equal([r.code, JSON.parse(r.out).state], [0, 'REJECTED'])
    r = await pcp(['trustgate', 'reject', b.decision.decision_id, '--url', url, '--principal-token-file', tokenFile, '--reason', 'again'])
    assert.equal([r.code, r.err.trim().split('\n').length], [2, 1])
    assert.match(r.err, /DECISION_RESOLVED/)

    r = await pcp(['trustgate', 'audit', '--url', url, '--json'])
    const audit = JSON.parse(r.out)
    assert.is(audit.chain_valid, true)
    assert.ok(audit.entries.some((e: { type: string }) => e.type === 'trustgate.approved'))
    const exportFile = join(tmp.path, 'journal.json')
    r = await pcp(['trustgate', 'audit', '--url', url, '--export', exportFile])
    assert.is(r.code, 0, r.err)
    const report = verifyAuditExport(parseJson(readFileSync(exportFile, 'utf8')))
    assert.ok(report.usable && report.report.valid && report.report.agent_id === hub.agentId)
    if (tmpfsUnavailable() === null) {
      // Onto a full disk (a filled 1 MiB tmpfs in a private mount namespace; its listing is printed from
      // inside): refused naming the file, and nothing at the path (the old code left an empty journal.json).
      mkdirSync(join(tmp.path, 'full'))
      const sh = 'mount -t tmpfs -o size=1m tmpfs "$1" && (cat /dev/zero > "$1/FILL" 2>/dev/null; true) && d="$1" && shift && "$@"; echo "rc=$?"; ls -A "$d"'
      const full = await new Promise<{ out: string, err: string }>((resolve) => execFile('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, 'sh', tmp.path + '/full',
        process.execPath, '--import', 'tsx', '--input-type=module', '-e', MAIN, '--', 'trustgate', 'audit', '--url', url, '--export', join(tmp.path, 'full', 'journal.json')],
      { cwd: ROOT, env: { ...process.env, TRUSTGATE_TOKEN: TOKEN, TRUSTGATE_PRINCIPAL_TOKEN: '' } }, (_e, out, err) => resolve({ out, err })))
      assert.equal(full.out.trim().split('\n').slice(-2), ['rc=2', 'FILL'], full.err)
      assert.match(full.err, /FILE_WRITE_FAILED/)
    }

    r = await pcp(['trustgate', 'simulate', '--agent', 'bot', '--action', 'shell', '--url', url, '--json'])
    assert.equal([r.code, JSON.parse(r.out).decision.rule], [0, 'role_violation'])
    r = await pcp(['trustgate', 'simulate', '--agent', 'bot', '--action', 'read_db', '--payload', '[1]', '--url', url])
    assert.equal([r.code, r.err.trim().split('\n').length], [2, 1])

    r = await pcp(['trustgate', 'status', '--url', url], { TRUSTGATE_TOKEN: 'wrong-token-0123456789' })
    assert.is(r.code, 2)
    r = await pcp(['trustgate', 'status', '--url', 'http://127.0.0.1:9'])
    assert.equal([r.code, r.err.trim().split('\n').length], [2, 1])
    assert.match(r.err, /HUB_UNREACHABLE/)
  } finally {
    await api.close(); tmp.cleanup()
  }
})

Cli.run()
