// Child process for test/store-interval.test.ts: a sensor script in 'interval' durability. It stamps
// one event every `periodMs` (a fixed rate, like a sampler) and prints "ok <n> <hash>" once each
// stamp() resolved. The parent timestamps each line on arrival and cuts the power or SIGKILLs.
import { Agent, eventHash } from '../../runtime/index.js'

const [home, name, intervalMs, periodMs] = process.argv.slice(2)
const agent = await Agent.open({ name: name! }, { home: home!, durability: 'interval', syncIntervalMs: Number(intervalMs) })
process.stdout.write('ready\n')
let n = 0
setInterval(() => {
  const i = n++
  agent.stamp('reading', { n: i, temp_c: 20 + (i % 50) / 10 }).then((ev) => process.stdout.write(`ok ${i} ${eventHash(ev)}\n`),
    (err) => { process.stderr.write(String(err) + '\n'); process.exit(3) })
}, Number(periodMs))
