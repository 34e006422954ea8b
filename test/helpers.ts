// Shared test plumbing: temp dirs that are removed after, the repo root, fixtures.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

export function tmpDir (prefix = 'pcp-test-'): { path: string, cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

export function readFixture (name: string): string {
  return readFileSync(join(ROOT, 'test', name), 'utf8')
}

/** A low scrypt cost for tests that create many encrypted keys; the real N is tested in keyfile.test.ts. */
export const FAST_SCRYPT_N = 2 ** 10
