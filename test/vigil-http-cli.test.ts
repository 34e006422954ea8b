// `pcp vigil status|alerts|export` as a child process against a real hub listening on 127.0.0.1.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseJson, stringifyJson, verifyAuditExport } from '../runtime/index.js'
import { startVigilApi } from '../hub/vigil/http.js'
import { makeHub, auth, tampered, TOKEN, type Hub } from './vigil-http-helpers.js'
import { ROOT, tmpDir } from './helpers.js'

const Cli = suite('vigil-http-cli')
let hub: Hub
let server: Awaited<ReturnType<typeof startVigilApi>>
const dir = tmpDir('pcp-vigil-cli-')

function pcp (args: string[], env: Record<string, string> = { VIGIL_TOKEN: TOKEN }): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'test', 'vigil-cli-entry.ts'), 'vigil', ...args],
      { cwd: dir.path, env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
      })
  })
}

Cli.before(async () => {
  hub = await makeHub(['cli-bot'], 5)
  server = await startVigilApi({ vigil: hub.vigil, chain: hub.chain, metrics: hub.metrics, token: TOKEN, port: 0, now: () => hub.clock.now })
  const ev = await hub.agents[0]!.stamp('observation', { v: 1 })
  await fetch(`${server.url}/api/agent/cli-bot/record`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: stringifyJson(tampered(ev, { v: 2 })) })
})
Cli.after(async () => { await server?.close(); await hub?.close(); dir.cleanup() })

Cli('status --json is the hub summary; the table names every agent and its state', async () => {
  const json = await pcp(['status', '--json', '--url', server.url])
  assert.is(json.code, 0, json.stderr)
  const s = JSON.parse(json.stdout)
  assert.is(s.totals.agents, 1)
  assert.is(s.agents[0].vrs, hub.vigil.vrs(hub.agents[0]!.agentId)!.vrs)
  const text = await pcp(['status', '--url', server.url])
  assert.is(text.code, 0)
  assert.match(text.stdout, `installation ${s.installationState}`)
  assert.match(text.stdout, /cli-bot\s+\S{32}\s+(ALERT|CRITICAL)/)
  assert.match(text.stdout, 'anomalous')
})

Cli('alerts [--json] lists the tamper alert; filters pass through; bad input exits 2', async () => {
  const json = await pcp(['alerts', '--json', '--severity', 'high', '--url', server.url])
  assert.is(json.code, 0, json.stderr)
  const body = JSON.parse(json.stdout)
  assert.ok(body.alerts.some((a: { type: string }) => a.type === 'chain_bad_signature'))
  const text = await pcp(['alerts', '--agent', 'cli-bot', '--url', server.url])
  assert.match(text.stdout, 'chain_bad_signature')
  const bad = await pcp(['alerts', '--severity', 'loud', '--url', server.url])
  assert.is(bad.code, 2)
  assert.match(bad.stderr, 'expected one of')
  const unknown = await pcp(['alerts', '--agent', 'nobody', '--url', server.url])
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, '[AGENT_NOT_FOUND]')
})

Cli('token from --token-file; a wrong token or no hub is a one-line error, exit 2', async () => {
  writeFileSync(join(dir.path, 'tok'), TOKEN + '\n')
  assert.is((await pcp(['status', '--url', server.url, '--token-file', 'tok'], {})).code, 0)
  const refused = await pcp(['status', '--url', server.url], { VIGIL_TOKEN: 'wrong-token-0123456789' })
  assert.is(refused.code, 2)
  assert.match(refused.stderr, '[HUB_UNAUTHORIZED]')
  const down = await pcp(['status', '--url', 'http://127.0.0.1:1'])
  assert.is(down.code, 2)
  assert.match(down.stderr, '[HUB_UNREACHABLE]')
  assert.is(down.stderr.trim().split('\n').length, 1)
})

Cli('export writes a verifiable audit export', async () => {
  const r = await pcp(['export', 'cli-bot', '-o', 'out.audit.json', '--url', server.url])
  assert.is(r.code, 0, r.stderr)
  const verdict = verifyAuditExport(parseJson(readFileSync(join(dir.path, 'out.audit.json'), 'utf8')))
  assert.ok(verdict.usable && verdict.report.valid)
  assert.is(verdict.usable && verdict.report.event_count, 5)
  const def = await pcp(['export', hub.agents[0]!.agentId, '--json', '--url', server.url])
  assert.is(JSON.parse(def.stdout).path, `${hub.agents[0]!.agentId}.audit.json`)
})

Cli.run()
