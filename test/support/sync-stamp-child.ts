// Child for the sync power-cut test: stamps continuously and syncs to the hub at argv[5]; prints
// "acked <seq> <phase> <error code>" every 50 ms. The parent cuts the power under it and SIGKILLs it.
import { Agent } from '../../runtime/index.js'
import { SyncAgent } from '../../sync/agent.js'

const [home, name, durability, url] = process.argv.slice(2)
const agent = await Agent.open({ name: name! }, { home: home!, durability: durability as 'durable' | 'relaxed' })
const sync = await SyncAgent.start({ url: url!, agents: [agent], batchSize: 50, ackTimeoutMs: 800, minReconnectMs: 100, maxReconnectMs: 300, statusFile: false })
process.stdout.write('ready\n')
setInterval(() => {
  const s = sync.status().agents[0]!
  process.stdout.write(`acked ${s.ackedSeq} ${s.phase} ${s.lastError?.code ?? '-'}\n`)
}, 50)
let n = 0
for (;;) {
  await Promise.all(Array.from({ length: 20 }, () => agent.stamp('tick', { n: n++ })))
  await new Promise((r) => setTimeout(r, 5))
}
