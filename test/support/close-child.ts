// Child for the clean-close power-cut test: a relaxed agent stamps `n` events, closes, prints
// "closed <seq> <hash>" for its head, and stays alive until the parent cuts the power and kills it.
import { Agent } from '../../runtime/index.js'

const [home, name, n] = process.argv.slice(2)
const agent = await Agent.open({ name: name! }, { home: home!, durability: 'relaxed' })
await Promise.all(Array.from({ length: Number(n) }, (_, i) => agent.stamp('tick', { i })))
const head = agent.head!
await agent.close()
process.stdout.write(`closed ${head.seq} ${head.hash}\n`)
setInterval(() => {}, 1000)
