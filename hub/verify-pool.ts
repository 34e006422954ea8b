// Over 300 lines (307): one class whose ordering contract below spans submit, dispatch and settle; not
// split in issue 19's restructuring (the error table and the tsx resolver are the only pieces apart from it).
// A worker_threads pool for the hub's CPU-bound work (event verification), with per-key ordering.
//
// Contract (key = agent_id in the hub):
// - Items of one key are processed one at a time, in submission order, and their promises settle in that
//   order. At most one message holding a key's items is in flight, so a key never runs on two workers at
//   once; it may run on different workers over time, so the task must not keep per-key state in the
//   worker (pass what it needs, e.g. the previous event hash, in the item).
// - Different keys run in parallel, up to one per worker; ready keys are served first come, first served.
// - Items travel in batches: one postMessage carries up to `maxBatch` items, gathered from one key's queue
//   and, when that key has fewer, from the next ready keys. Each worker holds up to `inflightPerWorker`
//   messages, so it starts the next one while the main thread handles the last one's results.
// - A task that throws rejects only its own item (code POOL_TASK_FAILED, the original error as `cause`);
//   a worker that dies rejects the items it held (POOL_WORKER_FAILED) and is replaced. Later items of the
//   same key still run: what a gap means (e.g. stop that agent's chain) is the caller's decision.
// - Items and results are structured-cloned; the task is `(item) => result | Promise<result>`, the named
//   export of an ES module given by URL (`.ts` modules run under tsx, see verify-pool-worker.ts).
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { PcpError } from '../runtime/errors.js'
import { WORKER_SOURCE } from './verify-pool-worker.js'

/** Codes this module rejects with; the lead adds them to runtime/errors.ts ErrorCodes. */
export const PoolErrorCodes = {
  POOL_TASK_LOAD_FAILED: 'POOL_TASK_LOAD_FAILED',
  POOL_TASK_FAILED: 'POOL_TASK_FAILED',
  POOL_WORKER_FAILED: 'POOL_WORKER_FAILED',
  POOL_CLOSED: 'POOL_CLOSED'
} as const

/** A task module beside `base` (the caller's import.meta.url), with its suffix: `.ts` under tsx (tests, bench), `.js` once built. */
export function taskModule (path: string, base: string): URL {
  return new URL(path + (base.endsWith('.ts') ? '.ts' : '.js'), base)
}

export interface VerifyPoolOptions {
  /** URL (string or URL) of the ES module exporting the task. A `.ts` module needs tsx installed. */
  module: string | URL
  /** Name of the task export. Default 'default'. */
  exportName?: string
  /** Worker threads. Default: os.availableParallelism(). */
  workers?: number
  /** Most items per message. Default 256. */
  maxBatch?: number
  /** Messages a worker may hold at once. Default 2. */
  inflightPerWorker?: number
}

export interface VerifyPoolStats {
  workers: number
  queued: number
  inflight: number
  /** Messages posted to workers so far (items / messages = the batching achieved). */
  messages: number
  completed: number
  failed: number
  respawns: number
}

interface Job { item: unknown, resolve: (r: unknown) => void, reject: (e: unknown) => void }
interface KeyQueue { key: string, jobs: Job[], busy: boolean }
interface Chunk { kq: KeyQueue, jobs: Job[] }
interface Slot { worker: Worker, inflight: Map<number, Chunk[]>, dead: boolean }
interface WireError { name: string, message: string, code?: string, stack?: string }
interface Spawn { module: string, exportName: string, tsx?: string }

export class VerifyPool<I = unknown, R = unknown> {
  readonly #spawn: Spawn
  readonly #maxBatch: number
  readonly #inflightPerWorker: number
  readonly #keys = new Map<string, KeyQueue>()
  #ready: KeyQueue[] = []
  #slots: Slot[] = []
  #nextId = 1
  #queued = 0
  #completed = 0
  #failed = 0
  #respawns = 0
  #closing = false
  #idle: Array<() => void> = []

  private constructor (spawn: Spawn, maxBatch: number, inflightPerWorker: number) {
    this.#spawn = spawn
    this.#maxBatch = maxBatch
    this.#inflightPerWorker = inflightPerWorker
  }

  /** Starts the workers and resolves once every one has loaded the task (or rejects, naming the module). */
  static async open<I = unknown, R = unknown> (opts: VerifyPoolOptions): Promise<VerifyPool<I, R>> {
    const module = opts?.module instanceof URL ? opts.module.href : opts?.module
    if (typeof module !== 'string' || !/^(file|data):/.test(module)) throw new TypeError(`"module" expected a file: or data: URL, got ${JSON.stringify(module)}`)
    const exportName = opts.exportName ?? 'default'
    const workers = opts.workers ?? availableParallelism()
    const maxBatch = opts.maxBatch ?? 256
    const inflight = opts.inflightPerWorker ?? 2
    for (const [name, v] of [['workers', workers], ['maxBatch', maxBatch], ['inflightPerWorker', inflight]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`"${name}" expected a positive integer, got ${String(v)}`)
    }
    const spawn: Spawn = { module, exportName }
    if (/\.[cm]?ts$/.test(new URL(module).pathname)) spawn.tsx = resolveTsx(module)
    const pool = new VerifyPool<I, R>(spawn, maxBatch, inflight)
    const started = Array.from({ length: workers }, () => pool.#start())
    const results = await Promise.allSettled(started)
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failure) {
      await Promise.all(pool.#slots.map((s) => s.worker.terminate()))
      throw failure.reason
    }
    return pool
  }

  /** Queues one item under `key`; resolves with the task's result, in order with the key's other items. */
  submit (key: string, item: I): Promise<R> {
    if (typeof key !== 'string') throw new TypeError(`"key" expected a string, got ${typeof key}`)
    if (this.#closing) return Promise.reject(new PcpError(PoolErrorCodes.POOL_CLOSED, 'the verify pool is closed', { key }))
    const promise = new Promise<R>((resolve, reject) => this.#enqueue(key, [{ item, resolve: resolve as (r: unknown) => void, reject }]))
    this.#pump()
    return promise
  }

  /** Queues several items of one key at once (one array, one promise); results are in item order. */
  submitMany (key: string, items: readonly I[]): Promise<R[]> {
    if (typeof key !== 'string') throw new TypeError(`"key" expected a string, got ${typeof key}`)
    if (!Array.isArray(items)) throw new TypeError(`"items" expected an array, got ${typeof items}`)
    if (this.#closing) return Promise.reject(new PcpError(PoolErrorCodes.POOL_CLOSED, 'the verify pool is closed', { key }))
    // Enqueued together, then one pump: the whole array can leave in one message.
    const jobs: Job[] = []
    const promises = items.map((item) => new Promise<R>((resolve, reject) => { jobs.push({ item, resolve: resolve as (r: unknown) => void, reject }) }))
    this.#enqueue(key, jobs)
    this.#pump()
    return Promise.all(promises)
  }

  get stats (): VerifyPoolStats {
    let inflight = 0
    for (const s of this.#slots) for (const chunks of s.inflight.values()) for (const c of chunks) inflight += c.jobs.length
    return { workers: this.#slots.length, queued: this.#queued, inflight, messages: this.#nextId - 1, completed: this.#completed, failed: this.#failed, respawns: this.#respawns }
  }

  /** Resolves when nothing is queued or in flight. */
  drain (): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  /** Refuses new items, finishes what was submitted, then stops the workers. */
  async close (): Promise<void> {
    this.#closing = true
    await this.drain()
    await Promise.all(this.#slots.map((s) => { s.dead = true; return s.worker.terminate() }))
  }

  /** Stops at once: every queued or in-flight item rejects with POOL_CLOSED. */
  async terminate (): Promise<void> {
    this.#closing = true
    const err = (key: string): PcpError => new PcpError(PoolErrorCodes.POOL_CLOSED, 'the verify pool was terminated', { key })
    for (const s of this.#slots) {
      s.dead = true
      for (const chunks of s.inflight.values()) for (const c of chunks) for (const j of c.jobs) j.reject(err(c.kq.key))
      s.inflight.clear()
    }
    for (const kq of this.#keys.values()) for (const j of kq.jobs) j.reject(err(kq.key))
    this.#keys.clear(); this.#ready = []; this.#queued = 0
    await Promise.all(this.#slots.map((s) => s.worker.terminate()))
    this.#settleIdle()
  }

  #enqueue (key: string, jobs: Job[]): void {
    let kq = this.#keys.get(key)
    if (!kq) { kq = { key, jobs: [], busy: false }; this.#keys.set(key, kq) }
    if (kq.jobs.length === 0 && !kq.busy) this.#ready.push(kq)
    kq.jobs.push(...jobs)
    this.#queued += jobs.length
  }

  #pump (): void {
    while (this.#ready.length > 0) {
      let slot: Slot | undefined
      for (const s of this.#slots) if (!s.dead && s.inflight.size < this.#inflightPerWorker && (!slot || s.inflight.size < slot.inflight.size)) slot = s
      if (!slot) return
      const chunks: Chunk[] = []
      const items: unknown[] = []
      while (items.length < this.#maxBatch && this.#ready.length > 0) {
        const kq = this.#ready.shift()!
        const jobs = kq.jobs.splice(0, this.#maxBatch - items.length)
        kq.busy = true
        chunks.push({ kq, jobs })
        for (const j of jobs) items.push(j.item)
      }
      this.#queued -= items.length
      const id = this.#nextId++
      slot.inflight.set(id, chunks)
      slot.worker.postMessage({ id, items })
    }
  }

  #start (): Promise<void> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.#spawn })
    const slot: Slot = { worker, inflight: new Map(), dead: false }
    this.#slots.push(slot)
    return new Promise((resolve, reject) => {
      let loaded = false
      worker.on('message', (msg: { type: string, id?: number, out?: Array<[boolean, unknown]>, error?: WireError }) => {
        if (msg.type === 'ready') { loaded = true; resolve(); return }
        if (msg.type === 'load-error') {
          slot.dead = true
          reject(new PcpError(PoolErrorCodes.POOL_TASK_LOAD_FAILED,
            `verify pool: cannot load export "${this.#spawn.exportName}" of ${this.#spawn.module}: ${msg.error!.message}`,
            { file: this.#spawn.module, field: this.#spawn.exportName, cause: revive(msg.error!) }))
          return
        }
        if (msg.type === 'done') this.#finish(slot, msg.id!, msg.out!)
      })
      worker.on('error', (err) => { if (!loaded) { slot.dead = true; reject(err) } else this.#lose(slot, err) })
      worker.on('exit', (code) => {
        if (!loaded && !slot.dead) { slot.dead = true; reject(new Error(`worker exited with code ${code} before loading the task`)) }
        if (loaded && !slot.dead) this.#lose(slot, new Error(`worker exited with code ${code}`))
      })
    })
  }

  #finish (slot: Slot, id: number, out: Array<[boolean, unknown]>): void {
    const chunks = slot.inflight.get(id)
    if (!chunks) return
    slot.inflight.delete(id)
    let i = 0
    for (const { kq, jobs } of chunks) {
      for (const job of jobs) {
        const [ok, value] = out[i++]!
        if (ok) { this.#completed++; job.resolve(value) } else {
          this.#failed++
          const cause = revive(value as WireError)
          job.reject(new PcpError(PoolErrorCodes.POOL_TASK_FAILED, `verify task failed for key ${kq.key}: ${cause.message}`, { key: kq.key, cause }))
        }
      }
      this.#release(kq)
    }
    this.#pump()
    this.#settleIdle()
  }

  /** A worker died after loading: fail what it held, replace it, carry on. */
  #lose (slot: Slot, err: unknown): void {
    if (slot.dead) return
    slot.dead = true
    this.#slots = this.#slots.filter((s) => s !== slot)
    for (const chunks of slot.inflight.values()) {
      for (const { kq, jobs } of chunks) {
        for (const job of jobs) {
          this.#failed++
          job.reject(new PcpError(PoolErrorCodes.POOL_WORKER_FAILED, `verify pool worker died holding key ${kq.key}: ${(err as Error)?.message ?? String(err)}`, { key: kq.key, cause: err }))
        }
        this.#release(kq)
      }
    }
    slot.inflight.clear()
    if (!this.#closing) {
      this.#respawns++
      // A replacement that cannot load (the module vanished) leaves the pool smaller, not broken.
      this.#start().then(() => this.#pump(), (e: unknown) => {
        this.#slots = this.#slots.filter((s) => !s.dead)
        if (this.#slots.length === 0) this.#failQueued(e)
      })
    }
    this.#pump()
    this.#settleIdle()
  }

  /** No worker left to run anything: queued items would wait forever, so they fail now. */
  #failQueued (err: unknown): void {
    for (const kq of this.#keys.values()) {
      for (const job of kq.jobs) {
        this.#failed++
        job.reject(new PcpError(PoolErrorCodes.POOL_WORKER_FAILED, `verify pool has no worker left for key ${kq.key}: ${(err as Error)?.message ?? String(err)}`, { key: kq.key, cause: err }))
      }
    }
    this.#keys.clear(); this.#ready = []; this.#queued = 0
    this.#settleIdle()
  }

  #release (kq: KeyQueue): void {
    kq.busy = false
    if (kq.jobs.length > 0) this.#ready.push(kq)
    else this.#keys.delete(kq.key)
  }

  #isIdle (): boolean {
    return this.#queued === 0 && this.#slots.every((s) => s.inflight.size === 0)
  }

  #settleIdle (): void {
    if (this.#idle.length === 0 || !this.#isIdle()) return
    const waiting = this.#idle
    this.#idle = []
    for (const resolve of waiting) resolve()
  }
}

function revive (e: WireError): Error {
  const err = new Error(e.message)
  err.name = e.name
  if (e.code) (err as Error & { code?: string }).code = e.code
  if (e.stack) err.stack = e.stack
  return err
}

function resolveTsx (module: string): string {
  try {
    return import.meta.resolve('tsx/esm/api')
  } catch (cause) {
    throw new PcpError(PoolErrorCodes.POOL_TASK_LOAD_FAILED, `verify pool: ${module} is TypeScript and tsx (a dev dependency) is not installed; use the built .js module`, { file: module, cause })
  }
}
