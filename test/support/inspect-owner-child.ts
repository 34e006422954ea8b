// Child process for test/store-inspect.test.ts: the robot's own script. It holds the store (the
// LevelDB lock) and stamps every 20 ms, printing "ok <seq> <hash>" once each stamp resolved; SIGTERM
// (fresh chain: tick n is event #n) closes it cleanly and prints "closed <seq>".
import { Agent, eventHash } from '../../runtime/index.js'

const [home, name, durability] = process.argv.slice(2)
const agent = await Agent.open({ name: name! }, { home: home!, ...(durability ? { durability: durability as 'durable' } : {}) })
process.stdout.write(`ready ${process.pid}\n`)
let n = 0
let stopping = false
const timer = setInterval(() => {
  if (stopping) return
  // A fresh chain: the n-th tick is event #n.
  const seq = n++
  agent.stamp('tick', { n: seq, temp_c: 21.5 }).then((ev) => process.stdout.write(`ok ${seq} ${eventHash(ev)}\n`),
    (err) => { process.stderr.write(String(err) + '\n'); process.exit(3) })
}, 20)
process.once('SIGTERM', () => {
  stopping = true
  clearInterval(timer)
  void agent.close().then(() => { process.stdout.write(`closed ${agent.head?.seq ?? -1}\n`); process.exit(0) })
})
