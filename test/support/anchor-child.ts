// A real agent process that anchors (test/anchor.test.ts kills it with SIGKILL). Args: home, name,
// TSA URL, trust-root PEM file, number of events to stamp (0 = stamp until killed). Prints
// "ok <hash>" per acknowledged stamp, "anchored <from> <to>" per anchor event, and
// "pending <n>" once n cuts are durably pending and the first was tried.
import { Agent } from '../../runtime/index.js'
import { Anchorer } from '../../runtime/anchor/anchorer.js'
import { readTrustRootsFile } from '../../runtime/tsa/trust-file.js'

const [home, name, url, rootFile, countArg] = process.argv.slice(2) as [string, string, string, string, string]
const agent = await Agent.open({ name }, { home })
const anchorer = await Anchorer.start(agent, { tsaUrl: url, trustRoots: await readTrustRootsFile(rootFile), everyEvents: 10, everySeconds: 3600, retryMinMs: 20, retryMaxMs: 50, timeoutMs: 2000 })
agent.on('stamped', (_e, hash: string) => process.stdout.write(`ok ${hash}\n`))
agent.on('anchored', (a: { from: number, to: number }) => process.stdout.write(`anchored ${a.from} ${a.to}\n`))
const count = Number(countArg)
let i = 0
while (count === 0 || i < count) {
  await agent.stamp('step', { i: i++ })
  if (count === 0 && i % 5 === 0) await new Promise((r) => setTimeout(r, 5))
}
// Offline: wait until the first cut was tried (the queue is tried in order), say so, stay alive to be killed.
for (;;) {
  await anchorer.kick()
  const s = anchorer.status()
  if (s.pending.length > 0 && s.pending[0]!.attempts > 0) { process.stdout.write(`pending ${s.pending.length}\n`); break }
  await new Promise((r) => setTimeout(r, 20))
}
setInterval(() => {}, 1000)
