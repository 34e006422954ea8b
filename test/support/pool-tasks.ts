// Task functions for test/hub-verify-pool.test.ts, loaded inside the pool's workers (under tsx: this file is
// TypeScript on purpose, to prove .ts task modules load). These are test tasks, not the protocol's verify.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'

/** CPU-bound: `rounds` chained SHA-256 over `seed`. */
export function sha256Rounds (item: { seed: string, rounds: number }): string {
  let h = Buffer.from(item.seed)
  for (let i = 0; i < item.rounds; i++) h = createHash('sha256').update(h).digest()
  return h.toString('hex')
}

const keys = new Map<string, KeyObject>()
/** CPU-bound like the hub's real work: one Ed25519 signature check (node:crypto). Caches key objects. */
export function ed25519Verify (item: { spki: Uint8Array, message: Uint8Array, signature: Uint8Array }): boolean {
  const id = Buffer.from(item.spki).toString('base64')
  let key = keys.get(id)
  if (!key) { key = createPublicKey({ key: Buffer.from(item.spki), format: 'der', type: 'spki' }); keys.set(id, key) }
  return verify(null, item.message, key, item.signature)
}

/** Busy-waits `ms` of wall time and reports when it ran, so a test can see overlap and order. */
export function timed (item: { key: string, seq: number, ms: number }): { key: string, seq: number, start: number, end: number } {
  const start = performance.timeOrigin + performance.now()
  while (performance.timeOrigin + performance.now() - start < item.ms) { /* spin: stands for CPU work */ }
  return { key: item.key, seq: item.seq, start, end: performance.timeOrigin + performance.now() }
}

/** Throws for `fail`, kills its worker thread for `crash`, echoes otherwise; async to cover awaited tasks. */
export async function faulty (item: { op: 'ok' | 'fail' | 'crash' | 'uncloneable', n: number }): Promise<unknown> {
  await Promise.resolve()
  if (item.op === 'fail') throw Object.assign(new Error(`task refused item ${item.n}`), { code: 'TEST_REFUSED' })
  if (item.op === 'crash') process.exit(3) // in a worker thread this ends that thread only
  if (item.op === 'uncloneable') return () => item.n
  return item.n
}

export const notAFunction = 42
