// Runs the shipped example rpi/examples/fan-control.ts in a child process with PCP_SIMULATE=1 (SIMULATED
// GPIO and temperature: stand-ins) with the run line its header documents, as a user would type it, stops
// it with SIGTERM as systemd would, and checks the chain it left.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { tmpDir, ROOT } from './helpers.js'

const Example = suite('rpi example fan-control on a simulated Pi (stand-in GPIO and temperature)')

Example('SIGTERM stops the loop cleanly; readings, decisions, actuator and GPIO events form one verified chain', async () => {
  const tmp = tmpDir('pcp-rpi-example-')
  const home = tmp.path
  try {
    const header = readFileSync(join(ROOT, 'rpi/examples/fan-control.ts'), 'utf8')
    const line = /^\/\/ {3}(PCP_SIMULATE=1 node .*rpi\/examples\/fan-control\.ts)\s+#/m.exec(header)?.[1]
    assert.ok(line, 'the example documents its simulated run line')
    // `exec env`: the shell becomes node (with the line's variables), so the SIGTERM below reaches the example.
    const child = spawn('sh', ['-c', `exec env ${line}`], {
      cwd: ROOT, env: { ...process.env, PCP_HOME: home, PCP_SAMPLE_MS: '40', PCP_AGENT: 'pi-fan' }, stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    // Started (first line) or failed: an exit without output must fail the test, not leave it waiting.
    await new Promise<void>((resolve) => { child.stdout.once('data', () => resolve()); child.once('exit', () => resolve()) })
    await new Promise((resolve) => setTimeout(resolve, 1200)) // ~30 readings: the simulated temperature crosses both thresholds
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    assert.is(code, 0, out)
    assert.match(out, /stopped \(SIGTERM\)/)
    const agent = await Agent.open({ name: 'pi-fan' }, { home, create: false })
    try {
      const report = await agent.verify()
      assert.ok(report.valid, JSON.stringify(report.errors))
      const events = await agent.history()
      const types = events.map((e) => e.payload.event_type)
      assert.is(types[0], 'rpi_agent_init')
      assert.is(types.at(-1), 'rpi_agent_shutdown')
      assert.is(types.at(-2), 'rpi_gpio_cleanup')
      const stopped = events.find((e) => e.payload.event_type === 'rpi_sampler_stopped')!
      assert.is(stopped.payload.reason, 'SIGTERM')
      assert.ok(types.filter((t) => t === 'rpi_sensor_reading').length >= 10)
      const decisions = events.filter((e) => e.payload.event_type === 'rpi_decision').map((e) => e.payload.decision)
      assert.ok(decisions.includes('fan_on') && decisions.includes('fan_off'), decisions.join(','))
      // Each switch is decision → actuator command → GPIO output, in that order.
      const i = types.indexOf('rpi_decision')
      assert.equal(types.slice(i, i + 3), ['rpi_decision', 'rpi_actuator_command', 'rpi_gpio_output'])
      assert.ok(events.every((e, k) => k === 0 || e.previous_hash !== null))
    } finally { await agent.close() }
  } finally { tmp.cleanup() }
})

Example.run()
