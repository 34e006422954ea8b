// The body of every verify-pool worker, as JavaScript source run with `new Worker(src, { eval: true })`.
//
// Why source text and not a worker file: a worker file would be `.ts` under tsx and `.js` in dist/, and a
// bundler may inline it away; an eval worker needs no file of its own, whatever the build. Why tsx is
// registered here and not with `execArgv: ['--import', 'tsx']`: on Node 20 that flag is not applied to
// worker threads (tried: the `.ts` import still fails with "Unknown file extension"), while tsx's own
// `register()` from `tsx/esm/api`, called inside the worker, works. The main thread resolves tsx's URL,
// only when the task module is TypeScript, so a production install without tsx never needs it.
//
// Protocol (structured-clone messages):
//   worker → main  { type: 'ready' } | { type: 'load-error', error }
//   main → worker  { id, items: unknown[] }
//   worker → main  { type: 'done', id, out: Array<[true, result] | [false, error]> }   (out[i] ↔ items[i])
// Messages are handled one at a time, in arrival order, and items within a message in array order, so an
// async task never interleaves two messages (the pool relies on this only for simplicity: a key is never
// in two messages at once anyway).
export const WORKER_SOURCE = String.raw`
'use strict'
const { parentPort, workerData } = require('node:worker_threads')

function serialize (e) {
  if (e instanceof Error) return { name: e.name, message: e.message, code: typeof e.code === 'string' ? e.code : undefined, stack: e.stack }
  return { name: 'NonError', message: String(e) }
}

async function main () {
  let task
  try {
    if (workerData.tsx) (await import(workerData.tsx)).register()
    const mod = await import(workerData.module)
    task = mod[workerData.exportName]
    if (typeof task !== 'function') throw new TypeError('export "' + workerData.exportName + '" of ' + workerData.module + ' is ' + typeof task + ', not a function')
  } catch (e) {
    parentPort.postMessage({ type: 'load-error', error: serialize(e) })
    return
  }

  async function run (msg) {
    const out = new Array(msg.items.length)
    for (let i = 0; i < msg.items.length; i++) {
      try {
        let r = task(msg.items[i])
        if (r !== null && typeof r === 'object' && typeof r.then === 'function') r = await r
        out[i] = [true, r]
      } catch (e) {
        out[i] = [false, serialize(e)]
      }
    }
    try {
      parentPort.postMessage({ type: 'done', id: msg.id, out })
    } catch (e) {
      // A result structured clone cannot copy (a function, a socket): fail the items, keep the worker.
      const error = serialize(e)
      parentPort.postMessage({ type: 'done', id: msg.id, out: out.map((o) => o[0] ? [false, error] : o) })
    }
  }

  let chain = Promise.resolve()
  parentPort.on('message', (msg) => { chain = chain.then(() => run(msg)) })
  parentPort.postMessage({ type: 'ready' })
}

main()
`
