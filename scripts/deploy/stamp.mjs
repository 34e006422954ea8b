// A device's smallest tool, shipped in each deploy folder (npm run build): stamps one durable event
// with the bundled core and prints the chain's length and verdict. Needs only `node` (≥ 20).
//   node stamp.mjs NAME EVENT_TYPE ['{"json":"payload"}']      data in $PCP_HOME or ~/.pcp
import { Agent, parseJson, PcpError } from './pcp-core.mjs'

const [name, type, payload] = process.argv.slice(2)
if (!name || !type) {
  process.stderr.write('usage: node stamp.mjs NAME EVENT_TYPE [JSON_PAYLOAD]\n')
  process.exit(2)
}
try {
  const agent = await Agent.open({ name })
  await agent.stamp(type, payload ? parseJson(payload, 'payload') : {})
  const report = await agent.verify()
  await agent.close()
  console.log(`${name}: ${report.eventCount} events, valid: ${report.valid}`)
} catch (err) {
  process.stderr.write(`stamp: ${err instanceof PcpError ? `${err.message} [${err.code}]` : err.message}\n`)
  process.exit(2)
}
