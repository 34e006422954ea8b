// Child for the power-cut rotation test: stamps, rotates the key, prints "rotated <old> <new> <hash>"
// once rotate() resolved, then waits for the power cut (the parent cuts, then SIGKILLs it).
import { Agent, eventHash } from '../../runtime/index.js'

const [home, name, durability] = process.argv.slice(2)
const agent = await Agent.open({ name: name! }, { home: home!, durability: durability as 'durable' | 'relaxed' })
for (let i = 0; i < 3; i++) await agent.stamp('tick', { i })
const r = await agent.rotate()
process.stdout.write(`rotated ${r.previousAgentId} ${r.newAgentId} ${eventHash(r.event)}\n`)
setInterval(() => {}, 1000)
