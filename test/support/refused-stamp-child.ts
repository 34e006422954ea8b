// Child for test/lossless.test.ts: a default Node process (an unhandled rejection kills it) stamps a
// payload nested 2,000 deep between good stamps, then closes. Prints one JSON line with what happened.
import { Agent } from '../../runtime/index.js'

const [home] = process.argv.slice(2) as [string]
let deep: unknown = 1
for (let i = 0; i < 2000; i++) deep = [deep]
const agent = await Agent.open({ name: 'deep' }, { home })
const first = agent.stamp('before', { i: 0 })
let refused = 'no error'
// Not awaited at once, as a sensor loop would: the good stamps around it are in flight with it.
const bad = agent.stamp('deep', { deep: deep as never }).then(() => 'no error', (e: { code?: string }) => { refused = e.code ?? String(e); return refused })
const after = [1, 2, 3].map((i) => agent.stamp('after', { i }))
const settled = await Promise.race([Promise.all([first, bad, ...after]).then(() => 'all settled'), new Promise((r) => setTimeout(() => r('WEDGED'), 10_000))])
const later = await agent.stamp('later', { i: 4 }).then((e) => e.payload.event_type, (e: Error) => `failed: ${e.message}`)
const report = await agent.verify()
await agent.close()
process.stdout.write(JSON.stringify({ refused, settled, later, valid: report.valid, count: report.eventCount }) + '\n')
