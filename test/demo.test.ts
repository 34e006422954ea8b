// `npm run demo`, the README's first command, run as a newcomer runs it: a child process on a fresh temp
// directory, embedded defaults only. Its --json summary is checked, and then what it left on disk is
// checked again from outside (device chains, the hub's store, the tampered export), so a demo that only
// claimed success would fail here. The devices in it are the SIMULATED ones (ROS 2 stand-in, GPIO simulator).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, eventHash, parseJson, verifyAuditExport } from '../runtime/index.js'
import { readHubChain } from './support/hub-helpers.js'
import { ROOT } from './helpers.js'

const Demo = suite('demo (npm run demo; simulated devices)')

interface Run { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }

/** Runs scripts/demo.ts exactly as the npm script does; `onLine` sees stdout lines as they come. */
function runDemo (args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void, timeoutMs = 60_000): Promise<Run> {
  const t = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } })
  let stdout = ''; let stderr = ''; let buf = ''
  child.stdout.on('data', (d) => {
    stdout += d; buf += d
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) { const line = buf.slice(0, nl); buf = buf.slice(nl + 1); onLine?.(line, child) }
  })
  child.stderr.on('data', (d) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) => child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, ms: Date.now() - t }) }))
}

const dataDirOf = (text: string): string | undefined => /\/\S*pcp-demo-[A-Za-z0-9]+/.exec(text)?.[0]

Demo('--json: exits 0 within 30 s, every check passes, and what it left on disk agrees', async () => {
  const r = await runDemo(['--json'])
  const dir = dataDirOf(r.stderr)
  try {
    assert.is(r.code, 0, r.stderr)
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`)
    const j = JSON.parse(r.stdout)
    assert.is(j.ok, true)
    assert.is(j.dataDir, dir)
    assert.equal(j.checks.filter((c: { ok: boolean }) => !c.ok), [])
    assert.is(j.steps.length, 10)
    assert.ok(j.steps.every((s: { ok: boolean }) => s.ok))

    // The progress went to stderr, and says which parts are simulated; nothing else leaked there.
    assert.match(r.stderr, /SIMULATED \(ROS 2 stand-in\)/)
    assert.match(r.stderr, /SIMULATED Pi \/ GPIO simulator/)
    assert.not.match(r.stderr, /\(node:\d+\)|forcing exit|Error/)
    assert.is(j.simulation.robot.binding, 'standin')

    // Events synced == events stamped, before and after the gate decisions; hub heads = device heads.
    for (const rows of [j.syncedBefore, j.syncedAfter]) {
      assert.is(rows.length, 2)
      for (const row of rows) assert.equal([row.atHub, row.headMatches], [row.stamped, true], row.name)
    }
    assert.ok(j.syncedBefore.every((row: { verification: string }) => row.verification === 'valid'))

    // TrustGate: one allowed, one blocked, one that needed and got a human.
    assert.equal([j.gate.allowed.allowed, j.gate.allowed.outcome, j.gate.allowed.source], [true, 'ALLOW', 'hub'])
    assert.equal([j.gate.blocked.allowed, j.gate.blocked.outcome, j.gate.blocked.rule], [false, 'BLOCK', 'dangerous_pattern'])
    assert.equal([j.approval.pending.outcome, j.gate.human.rule], ['REQUIRE_HUMAN', 'vrs_require_human'])
    assert.equal([j.gate.human.allowed, j.gate.human.state, j.approval.status, j.approval.principal.name], [true, 'APPROVED', 200, 'alice'])
    assert.match(j.gate.human.reason, new RegExp(`approved by ${j.approval.principal.id}`))

    // The tamper is found at the index that was edited; the untouched export verifies.
    assert.is(j.tamper.original.valid, true)
    assert.equal([j.tamper.tampered.valid, j.tamper.tampered.firstError.code, j.tamper.tampered.firstError.index], [false, 'SIGNATURE_INVALID', j.tamper.edit.index])
    // The edited event is not the robot's: refused, and the robot's VRS does not move. What a copy of its key signs is.
    assert.equal([j.tamper.forged.status, j.tamper.forged.code, j.tamper.forged.vrs], [422, 'SIGNATURE_INVALID', j.tamper.vigil.vrsBefore])
    assert.equal([j.tamper.vigil.status, j.tamper.vigil.code, j.tamper.vigil.state], [422, 'CHAIN_LINK_BROKEN', 'ALERT'])
    // A restored copy continuing from an older event is a fork (as pcp verify says): CRITICAL, blocked without a human.
    assert.equal([j.fork.status, j.fork.code, j.fork.state], [422, 'FORK_DETECTED', 'CRITICAL'])
    assert.equal([j.gate.forkBlocked.outcome, j.gate.forkBlocked.allowed], ['BLOCK', false])
    assert.ok(['vrs_block', 'tsi_critical'].includes(j.gate.forkBlocked.rule), j.gate.forkBlocked.rule)

    // The hub: the Pi's chain clean; the robot's refused exactly one event (the clone's); both verify.
    const [robot, pi] = j.hubChains
    assert.equal([pi.name, pi.verification, pi.rejectedCount, pi.storedChainValid], ['pi-sensor', 'valid', 0, true])
    assert.equal([robot.name, robot.verification, robot.rejectedCount, robot.lastProblem.code, robot.storedChainValid], ['patrol-robot', 'anomalous', 2, 'FORK_DETECTED', true])
    assert.is(j.journal.valid, true)

    // From outside the demo: the files and stores it left.
    const tampered = verifyAuditExport(parseJson(readFileSync(j.tamper.tamperedFile, 'utf8')))
    assert.ok(tampered.usable && !tampered.report.valid)
    if (tampered.usable) assert.is(tampered.report.errors[0]!.index, j.tamper.edit.index)
    const original = verifyAuditExport(parseJson(readFileSync(j.tamper.exportFile, 'utf8')))
    assert.ok(original.usable && original.report.valid)
    const decisions: string[] = []
    for (const [name, gates] of [['patrol-robot', 3], ['pi-sensor', 1]] as const) {
      const agent = await Agent.open({ name }, { home: join(dir!, 'devices') })
      try {
        assert.is((await agent.verify()).valid, true, name)
        const events = await agent.history()
        const ofGate = events.filter((e) => e.payload.event_type === 'gate_decision')
        assert.is(ofGate.length, gates, `${name} gate_decision events`)
        decisions.push(...ofGate.map((e) => String(e.payload.decision_id)))
        const stored = await readHubChain(join(dir!, 'hub'), agent.agentId)
        assert.equal(stored.hashes, events.map(eventHash), `${name}: the hub stored exactly the device's chain`)
      } finally { await agent.close() }
    }
    assert.equal(decisions.sort(), [j.gate.allowed.decisionId, j.gate.blocked.decisionId, j.gate.human.decisionId, j.gate.forkBlocked.decisionId].sort())
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
})

Demo('--keep: the dashboard answers while the hub runs; SIGTERM stops it cleanly', async () => {
  let dashboard: string | undefined
  let got: Promise<number> | undefined
  const r = await runDemo(['--keep'], (line, child) => {
    const m = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/dashboard\/)/.exec(line)
    if (m === null || got !== undefined) return
    dashboard = m[1]
    got = fetch(dashboard!).then((res) => res.status, () => -1).finally(() => child.kill('SIGTERM'))
  })
  const dir = dataDirOf(r.stdout)
  try {
    assert.ok(dashboard, r.stdout + r.stderr)
    assert.is(await got, 200)
    assert.is(r.code, 0, r.stderr)
    assert.is(r.signal, null)
    assert.match(r.stdout, /keeps running \(--keep\)/)
    assert.match(r.stdout, /hub stopped/)
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
})

Demo('--help explains; an unknown option exits 2 and starts nothing', async () => {
  const help = await runDemo(['--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, /--keep/)
  assert.match(help.stdout, /--json/)
  const bad = await runDemo(['--bogus'])
  assert.is(bad.code, 2)
  assert.match(bad.stderr, /unknown option --bogus/)
  assert.not.match(bad.stdout, /pcp-demo-/)
})

Demo.run()
