// Child process for the crash tests: stamps continuously with up to 32 stamps in flight and prints
// "ok <seq> <hash>" for each stamp() that resolved. The parent SIGKILLs it at a random moment.
// Optional: a run number to tag the payloads with (so a parent can tell runs apart), a pad size in
// bytes (large pads fill LevelDB's 4 MB write buffer within one run, so its flushes get cut too) and
// a rotation period (rotate() after every that many stamps, so cuts land inside key swaps too).
import { Agent, eventHash } from '../../runtime/index.js'

const [home, name, durability, run, padBytes, rotateEvery] = process.argv.slice(2)
const agent = await Agent.open({ name: name! }, { home: home!, durability: durability as 'durable' | 'relaxed' })
process.stdout.write('ready\n')
const fail = (err: unknown): never => { process.stderr.write(String(err) + '\n'); process.exit(3) }
const period = Number(rotateEvery ?? 0)
let inFlight = 0
let i = 0
for (;;) {
  while (inFlight < 32) {
    inFlight++
    const n = i++
    agent.stamp('tick', { n, pad: 'x'.repeat(padBytes ? Number(padBytes) : n % 50), ...(run === undefined ? {} : { run: Number(run) }) }).then((ev) => {
      inFlight--
      // Report only after resolution: the claim the parent checks is "acknowledged ⇒ stored".
      process.stdout.write(`ok ${n} ${eventHash(ev)}\n`)
    }, fail)
    if (period && i % period === 0) { await agent.rotate().catch(fail); process.stdout.write('rotated\n') }
  }
  await new Promise((r) => setImmediate(r))
}
