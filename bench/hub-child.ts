// The hub of the ingest bench in a process of its own (bench/ingest.ts), so what it costs can be told from
// what the devices cost: its CPU (process.cpuUsage: every thread of the process, the verify workers and,
// with the embedded broker, the broker included) and its heap after a full GC (started with --expose-gc).
// Protocol over the IPC channel of child_process.fork: the child sends { ready, url } once it listens;
// each request { id, ask } is answered with { id, value }.
import { Hub, type HubOptions } from '../hub/hub.js'

const opts = JSON.parse(process.argv[2]!) as HubOptions
const hub = await Hub.start(opts)
await hub.startVerifyWorkers()

const gc = (globalThis as { gc?: () => void }).gc
const ask: Record<string, () => unknown> = {
  cpu: () => process.cpuUsage(),
  stats: () => hub.stats(),
  // Twice: the first full GC may leave what finalizers free for the second.
  heap: () => { if (!gc) throw new Error('the hub child needs --expose-gc'); gc(); gc(); const m = process.memoryUsage(); return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers } },
  close: async () => { await hub.close(); setImmediate(() => process.exit(0)) }
}
process.on('message', (m: { id: number, ask: string }) => {
  void (async () => {
    try { process.send!({ id: m.id, value: await ask[m.ask]!() }) } catch (err) { process.send!({ id: m.id, error: (err as Error).message }) }
  })()
})
process.send!({ ready: true, url: hub.mqttUrl })
