// Key rotation on disk (the chain side is runtime/rotation.ts). rotate() stages the new key and identity
// document beside the current ones (*.next) before the rotation event exists, and swaps them in once the
// event is in the chain, keeping the replaced document under rotated/. A process stopped anywhere in
// between leaves files that the next open finishes (the chain names the staged key) or forgets (it does not).
import { rename, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseJson } from './json.js'
import { writeFileAtomic, exists, ensureDir, shred } from './fsutil.js'
import { IDENTITY_FILE, PLAIN_KEY_FILE, ENC_KEY_FILE, identityFileText, rotatedIdentityFile } from './home.js'
import type { Identity } from './identity.js'

const NEXT = '.next'
const KEY_FILES = [ENC_KEY_FILE, PLAIN_KEY_FILE]

/** Writes the new key, then its document: a staged document always has its key beside it. */
export async function stageKeySwap (dir: string, key: { file: string, bytes: string | Uint8Array }, next: Identity, aiss2Document = false): Promise<void> {
  await writeFileAtomic(join(dir, key.file + NEXT), key.bytes, 0o600)
  await writeFileAtomic(join(dir, IDENTITY_FILE + NEXT), identityFileText(next, aiss2Document), 0o644)
}

/** The agent_id named by a staged identity document, or undefined when no swap is pending. */
export async function stagedAgentId (dir: string): Promise<unknown> {
  const file = join(dir, IDENTITY_FILE + NEXT)
  if (!await exists(file)) return undefined
  return (parseJson(await readFile(file, 'utf8'), file) as { agent_id?: unknown } | null)?.agent_id
}

/** Forgets a staged key that never signed: the chain does not name it. */
export async function discardKeySwap (dir: string): Promise<void> {
  for (const f of [IDENTITY_FILE, ...KEY_FILES]) if (await exists(join(dir, f + NEXT))) await shred(join(dir, f + NEXT))
}

/**
 * Puts the staged key and document in place. Safe to run again after a stop at any step: the key is staged
 * before the document, so a staged document without a staged key means the key was already swapped in.
 */
export async function completeKeySwap (dir: string): Promise<void> {
  const nextDoc = join(dir, IDENTITY_FILE + NEXT)
  if (!await exists(nextDoc)) return
  const current = join(dir, IDENTITY_FILE)
  for (const key of KEY_FILES) {
    if (!await exists(join(dir, key + NEXT))) continue
    if (await exists(current)) {
      const doc = parseJson(await readFile(current, 'utf8'), current) as { agent_id: string }
      await ensureDir(join(dir, 'rotated'))
      await rename(current, rotatedIdentityFile(dir, doc.agent_id))
    }
    for (const k of KEY_FILES) if (await exists(join(dir, k))) await shred(join(dir, k))
    await rename(join(dir, key + NEXT), join(dir, key))
    break
  }
  await rename(nextDoc, current)
}
