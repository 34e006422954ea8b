// Shared test plumbing: temp dirs that are removed after, the repo root, fixtures.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Float } from '../runtime/index.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

export function tmpDir (prefix = 'pcp-test-'): { path: string, cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

export function readFixture (name: string): string {
  return readFileSync(join(ROOT, 'test', name), 'utf8')
}

/** The code of the error a promise rejects with ('no error' if it resolves). */
export async function codeOf (p: Promise<unknown>): Promise<string> {
  try { await p; return 'no error' } catch (e) { return (e as { code?: string }).code ?? String(e) }
}

/** A low scrypt cost for tests that create many encrypted keys; the real N is tested in keyfile.test.ts. */
export const FAST_SCRYPT_N = 2 ** 10

/** A small deterministic PRNG so property tests replay the same cases. */
export function seededRandom (seed: number): () => number {
  return () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
}

/** A random JSON value with the awkward parts: Floats, big ints, astral and escaped characters. */
export function randomValue (rnd: () => number, depth: number): unknown {
  const r = rnd()
  if (depth > 3 || r < 0.5) {
    const k = Math.floor(rnd() * 8)
    if (k === 0) return null
    if (k === 1) return rnd() < 0.5
    if (k === 2) return Math.floor((rnd() - 0.5) * 1e6)
    if (k === 3) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20)
    if (k === 4) return new Float(Math.floor(rnd() * 1000))
    if (k === 5) return BigInt(Math.floor(rnd() * 1e9)) * 10n ** BigInt(Math.floor(rnd() * 12))
    const chars = ['a', 'é', '😀', '｡', '"', '\\', '\n', '\u0001', 'Z', ' ']
    return Array.from({ length: Math.floor(rnd() * 6) }, () => chars[Math.floor(rnd() * chars.length)]).join('')
  }
  if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1))
  const o: Record<string, unknown> = {}
  for (let i = Math.floor(rnd() * 5); i > 0; i--) o[String(randomValue(() => rnd() * 0.49 + 0.5, 9)) + i] = randomValue(rnd, depth + 1)
  return o
}
