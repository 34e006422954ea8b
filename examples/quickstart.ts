// Quickstart: sign what a machine does, then prove it. Run: npm run example examples/quickstart.ts
// (`pcp-edge` resolves to this checkout's sources through the `pcp-source` export condition).
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, verifyAuditExport, parseJson } from 'pcp-edge'

// A fresh directory each run, so the output below is what every run prints (not PCP_HOME: a second
// run there would reopen arm-1 and count 4 events).
const home = mkdtempSync(join(tmpdir(), 'pcp-quickstart-'))
const agent = await Agent.open({ name: 'arm-1' }, { home })   // creates the identity on first use

await agent.stamp('gripper_close', { force_n: 12.5, object: 'box-17' })  // durable when it resolves
await agent.stamp('move', { x: 0.42, y: -0.1, speed: 0.2 })

const file = join(home, 'arm-1.audit.json')
await agent.export(file)                                       // AISS-1.0-AUDIT, readable by the reference
await agent.close()

const { report } = verifyAuditExport(parseJson(readFileSync(file, 'utf8'))) as { report: { valid: boolean, event_count: number } }
console.log(`${report.event_count} events, valid: ${report.valid}`)  // → 2 events, valid: true
