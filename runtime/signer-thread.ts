// Signing on a second thread. An event's hash covers its unsigned bytes, so the chain can advance
// before the signature exists; bursts of stamps are then signed here while the main thread prepares,
// encodes and stores the next ones, so stamp+persist throughput is not capped by one core's signing.
// The key travels as a node KeyObject: the seed never leaves OpenSSL.
import { Worker } from 'node:worker_threads'

// CommonJS source evaluated in the worker: no TypeScript loader needed in dev, no extra file in the build.
const SOURCE = `
const { parentPort } = require('node:worker_threads')
const { sign } = require('node:crypto')
let key
parentPort.on('message', (m) => {
  if (m.key) { key = m.key; return }
  try {
    const out = new Uint8Array(64 * (m.ends.length))
    let start = 0
    for (let i = 0; i < m.ends.length; i++) {
      out.set(sign(null, m.data.subarray(start, m.ends[i]), key), 64 * i)
      start = m.ends[i]
    }
    parentPort.postMessage({ id: m.id, sigs: out }, [out.buffer])
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) })
  }
})`

export class SignerThread {
  #worker: Worker
  #pending = new Map<number, { resolve: (sigs: Uint8Array) => void, reject: (e: Error) => void }>()
  #next = 0
  #dead: Error | undefined

  private constructor (key: unknown) {
    this.#worker = new Worker(SOURCE, { eval: true })
    this.#worker.unref() // an agent nobody closed must not keep the process alive
    this.#worker.postMessage({ key })
    this.#worker.on('message', (m: { id: number, sigs?: Uint8Array, error?: string }) => {
      const p = this.#pending.get(m.id)
      if (!p) return
      this.#pending.delete(m.id)
      if (m.sigs) p.resolve(m.sigs); else p.reject(new Error(`signer thread: ${m.error}`))
    })
    const fail = (err: Error): void => {
      this.#dead = err
      for (const p of this.#pending.values()) p.reject(err)
      this.#pending.clear()
    }
    this.#worker.on('error', fail)
    this.#worker.on('exit', (code) => fail(new Error(`signer thread exited with code ${code}`)))
  }

  /** A thread for this key, or undefined when the crypto backend has no transferable key. */
  static start (handle: unknown): SignerThread | undefined {
    return handle ? new SignerThread(handle) : undefined
  }

  get alive (): boolean { return !this.#dead }
  /** Requests sent and not answered yet: 0 when the thread is idle. */
  get busy (): number { return this.#pending.size }

  /** Signs each message; resolves with the 64-byte signatures concatenated in order. */
  sign (messages: Uint8Array[]): Promise<Uint8Array> {
    if (this.#dead) return Promise.reject(this.#dead)
    let total = 0
    for (const m of messages) total += m.length
    const data = new Uint8Array(total)
    const ends = new Uint32Array(messages.length)
    let at = 0
    messages.forEach((m, i) => { data.set(m, at); at += m.length; ends[i] = at })
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker.postMessage({ id, data, ends }, [data.buffer, ends.buffer])
    })
  }

  async close (): Promise<void> {
    this.#dead ??= new Error('signer thread closed')
    await this.#worker.terminate()
  }
}
