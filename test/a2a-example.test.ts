// Runs the shipped example examples/a2a-robot-commands-pi.ts (robot controller and Pi relay board,
// both stand-ins: the relay is SIMULATED) in a child process over the embedded MQTT broker, then checks
// the session export it wrote with `pcp session-verify` and the Pi's chain.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { tmpDir, ROOT } from './helpers.js'
import { sessionCli } from './a2a-helpers.js'

const E = suite('a2a example: robot commands a Pi over MQTT (stand-in robot and SIMULATED relays)')

E('the example exits 0, its export verifies, and every relay change follows its mirrored command', async () => {
  const tmp = tmpDir()
  try {
    const file = join(tmp.path, 'session.json')
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/a2a-robot-commands-pi.ts', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCP_HOME: tmp.path, PCP_MQTT_URL: '' }, timeout: 60_000 })
    assert.is(run.status, 0, run.stdout + run.stderr)
    assert.match(run.stdout, /VALID/)
    assert.match(run.stdout, /relays now \[\[1,false\],\[2,true\]\]/)
    const check = sessionCli(['session-verify', file, '--json'])
    assert.is(check.code, 0, check.out + check.err)
    const report = JSON.parse(check.out)
    assert.is(report.handshakes, 1)
    assert.is(report.interactions, 3)
    const pi = await Agent.open({ name: 'pi-relays' }, { home: tmp.path, create: false })
    try {
      assert.ok((await pi.verify()).valid)
      const types = (await pi.history()).map((e) => e.payload.event_type)
      assert.equal(types.filter((t) => t === 'relay_command_received' || t === 'relay_set'),
        ['relay_command_received', 'relay_set', 'relay_command_received', 'relay_set', 'relay_command_received', 'relay_set'])
    } finally { await pi.close() }
  } finally { tmp.cleanup() }
})

E.run()
