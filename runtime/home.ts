// The agent directory layout, shared with the reference (protocol.md §12) so a directory copied
// between the two works in both:  $PCP_HOME/agents/<name>/{identity.json, private.key.json | private.key.enc}
// Our event store lives beside them in store/, and rotate() keeps the documents of replaced keys in
// rotated/ (the reference ignores unknown entries).
import { readFile, readdir, chmod } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { PcpError, ErrorCodes } from './errors.js'
import { crypto } from './crypto.js'
import { Identity, parseIdentityDocument, AISS2_IDENTITY_VERSION } from './identity.js'
import { pqBackend } from './pq.js'
import { stringifyJson, parseJson } from './json.js'
import { equalBytes, fromBase64Strict } from './encoding.js'
import { encryptSeed, encryptSeeds, decryptSeeds, plaintextKeyFile, parsePlaintextKeyFile, parsePlaintextKeyFileSeeds, PQKY_MAGIC } from './keyfile.js'
import { writeFileAtomic, ensureDir, exists, shred } from './fsutil.js'
import type { IdentityDocument } from './types.js'

export const IDENTITY_FILE = 'identity.json'
export const PLAIN_KEY_FILE = 'private.key.json'
export const ENC_KEY_FILE = 'private.key.enc'

export function pcpHome (explicit?: string): string {
  return explicit ?? process.env.PCP_HOME ?? join(homedir(), '.pcp')
}

// Letters, digits, '_' and '-' (what the reference's _safe_name leaves), 1-64 chars. We refuse rather
// than rewrite other names: rewriting makes "a/b" and "a_b" collide (gaps.md #18).
const NAME = /^[\p{L}\p{N}_-][\p{L}\p{N}_.-]{0,63}$/u

export function checkAgentName (name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) {
    throw new PcpError(ErrorCodes.AGENT_NAME_INVALID,
      `agent name ${JSON.stringify(name)} is not allowed: use 1-64 letters, digits, '_', '-' or '.', starting with a letter, digit, '_' or '-'`,
      { field: 'name', actual: name })
  }
  return name
}

export function agentDir (home: string, name: string): string {
  return join(home, 'agents', checkAgentName(name))
}

export interface CreateAgentOptions {
  passphrase?: string, now?: number, metadata?: Record<string, string>, scryptN?: number
  /** Also an ML-DSA-65 key (AISS-2): its seed goes in the key file, the identity document is AISS-2.0. */
  pq?: boolean
}

/** Creates a new identity on disk. Refuses to overwrite one (IDENTITY_EXISTS). */
export async function createAgentIdentity (home: string, name: string, opts: CreateAgentOptions = {}): Promise<Identity> {
  const dir = agentDir(home, name)
  if (await exists(join(dir, IDENTITY_FILE))) {
    throw new PcpError(ErrorCodes.IDENTITY_EXISTS, `agent "${name}" already exists in ${dir}`, { agent: name, file: dir })
  }
  await ensureDir(join(home, 'agents'))
  await ensureDir(dir)
  await chmod(dir, 0o700)
  const seed = crypto().randomBytes(32)
  const pqSeed = opts.pq ? crypto().randomBytes(32) : undefined
  const key = await keyFileFor(seed, opts.passphrase || undefined, opts.scryptN, pqSeed)
  const identity = Identity.fromSeed(seed, { ...(opts.now !== undefined ? { now: opts.now } : {}), ...(opts.metadata ? { metadata: opts.metadata } : {}), ...(pqSeed ? { pqSeed } : {}) })
  await writeFileAtomic(join(dir, key.file), key.bytes, 0o600)
  await writeFileAtomic(join(dir, IDENTITY_FILE), identityFileText(identity, opts.pq === true), 0o644)
  return identity
}

/**
 * The private-key file of a seed (and of an ML-DSA-65 seed, when given): its name in the agent directory
 * and its bytes (PQKY when a passphrase is given; v2 with both seeds, runtime/keyfile.ts).
 */
export async function keyFileFor (seed: Uint8Array, passphrase: string | undefined, scryptN?: number, pqSeed?: Uint8Array | null): Promise<{ file: string, bytes: string | Uint8Array }> {
  return passphrase === undefined
    ? { file: PLAIN_KEY_FILE, bytes: plaintextKeyFile(seed, pqSeed) }
    : { file: ENC_KEY_FILE, bytes: pqSeed ? await encryptSeeds({ ed: seed, pq: pqSeed }, passphrase, scryptN ? { scryptN } : {}) : await encryptSeed(seed, passphrase, scryptN ? { scryptN } : {}) }
}

/**
 * identity.json as the reference writes it (json.dumps(indent=2)). `aiss2`: the AISS-2.0 document (both
 * keys), written only for an agent whose chain is AISS-2 from its genesis: a verifier given it requires
 * AISS-2.0 from event 0 (runtime/profile.ts), so an agent that upgraded later keeps its AISS-1 document.
 */
export function identityFileText (identity: Identity, aiss2 = false): string {
  return stringifyJson(aiss2 ? identity.documentAiss2() : identity.document(), 2) + '\n'
}

/** Reads and checks an identity document file; `missing` is the error when the file cannot be read. */
async function readDocumentFile (file: string, missing: (err: unknown) => PcpError): Promise<IdentityDocument> {
  let text: string
  try { text = await readFile(file, 'utf8') } catch (err) { throw missing(err) }
  return parseIdentityDocument(parseJson(text, file), file).doc
}

export async function readIdentityDocument (home: string, name: string): Promise<IdentityDocument> {
  const file = join(agentDir(home, name), IDENTITY_FILE)
  return readDocumentFile(file, (err) => new PcpError(ErrorCodes.IDENTITY_NOT_FOUND, `no agent "${name}" in ${home} (${file} is missing)`, { agent: name, file, cause: err }))
}

/** Where rotate() keeps the identity document of a key it replaced, so the chain still verifies from event 0. */
export function rotatedIdentityFile (dir: string, agentId: string): string {
  return join(dir, 'rotated', `${agentId}.identity.json`)
}

/** The document of an identity the agent in `dir` rotated away from. */
export async function readRotatedIdentityDocument (dir: string, name: string, agentId: string): Promise<IdentityDocument> {
  const file = rotatedIdentityFile(dir, agentId)
  return readDocumentFile(file, (err) => new PcpError(ErrorCodes.IDENTITY_NOT_FOUND, `agent "${name}": the first identity of the chain (${agentId}) has no document at ${file}`, { agent: name, file, cause: err }))
}

export async function isKeyEncrypted (home: string, name: string): Promise<boolean> {
  return exists(join(agentDir(home, name), ENC_KEY_FILE))
}

/**
 * Loads an agent's signing identity, checking that its key matches its identity document. `unlocked`:
 * the key already unlocked (the text of a plaintext key file, `pcp identity unlock`), read instead of the
 * key file, so no scrypt runs (its 128 MiB peak, README "Pi Zero 2 W").
 */
export async function loadAgentIdentity (home: string, name: string, opts: { passphrase?: string, scryptN?: number, unlocked?: { text: string, source: string } } = {}): Promise<Identity> {
  const dir = agentDir(home, name)
  const doc = await readIdentityDocument(home, name)
  if (opts.unlocked) return bindIdentity(parsePlaintextKeyFileSeeds(opts.unlocked.text, opts.unlocked.source), doc, opts.unlocked.source)
  const passphrase = opts.passphrase ?? process.env.PCP_PASSPHRASE
  const scrypt = opts.scryptN ? { scryptN: opts.scryptN } : {}
  const seeds = await readAgentSeeds(dir, name, passphrase, scrypt)
  return bindIdentity(seeds, doc, join(dir, IDENTITY_FILE))
}

/** Both seeds of an agent's key file (pq null for an AISS-1 key). The caller owns (and should zero) them. */
export async function readAgentSeeds (dir: string, name: string, passphrase: string | undefined, scrypt: { scryptN?: number } = {}): Promise<{ ed: Uint8Array, pq: Uint8Array | null }> {
  const encFile = join(dir, ENC_KEY_FILE)
  if (await exists(encFile)) {
    return decryptSeeds(new Uint8Array(await readFile(encFile)), passphrase, encFile, scrypt)
  } else {
    const plainFile = join(dir, PLAIN_KEY_FILE)
    let text: string
    try { text = await readFile(plainFile, 'utf8') } catch (err) {
      throw new PcpError(ErrorCodes.IDENTITY_NOT_FOUND, `agent "${name}" has no private key (${encFile} or ${plainFile})`, { agent: name, file: plainFile, cause: err })
    }
    // A PQKY file saved under the .json name still loads (the reference decides by magic, not name).
    return text.startsWith(PQKY_MAGIC)
      ? decryptSeeds(new Uint8Array(await readFile(plainFile)), passphrase, plainFile, scrypt)
      : parsePlaintextKeyFileSeeds(text, plainFile)
  }
}

/**
 * An agent's key, unlocked once (scrypt runs here), as the text of a plaintext key file: for a credential
 * store (`systemd-creds encrypt`) from which a service opens the agent without scrypt (AgentOpenOptions.
 * unlockedKey). Checked against the identity document first. The caller owns the secret text.
 */
export async function unlockedKeyText (home: string, name: string, passphrase: string | undefined, scrypt: { scryptN?: number } = {}): Promise<string> {
  const dir = agentDir(home, name)
  const doc = await readIdentityDocument(home, name)
  const seeds = await readAgentSeeds(dir, name, passphrase, scrypt)
  const text = plaintextKeyFile(seeds.ed, seeds.pq)
  bindIdentity(seeds, doc, join(dir, IDENTITY_FILE)).destroy()
  return text
}

/**
 * Adds an ML-DSA-65 seed to an agent's key file (same protection: encrypted again under the same
 * passphrase, or plaintext), keeping the Ed25519 seed; a key file that has one is left as it is.
 * Returns both seeds. Written atomically, before any event names the key (Agent.upgradeProfile).
 */
export async function addPqSeed (dir: string, name: string, passphrase: string | undefined, scrypt: { scryptN?: number } = {}): Promise<{ ed: Uint8Array, pq: Uint8Array }> {
  const seeds = await readAgentSeeds(dir, name, passphrase, scrypt)
  if (seeds.pq) return { ed: seeds.ed, pq: seeds.pq }
  const pq = crypto().randomBytes(32)
  const encrypted = await exists(join(dir, ENC_KEY_FILE))
  const key = await keyFileFor(seeds.ed, encrypted ? passphrase : undefined, scrypt.scryptN, pq)
  await writeFileAtomic(join(dir, key.file), key.bytes, 0o600)
  return { ed: seeds.ed, pq }
}

/** Builds the Identity and refuses a key that is not the one the document names. Takes ownership of the seeds. */
export function bindIdentity (seeds: Uint8Array | { ed: Uint8Array, pq: Uint8Array | null }, doc: IdentityDocument, source: string): Identity {
  const { ed, pq } = seeds instanceof Uint8Array ? { ed: seeds, pq: null } : seeds
  if (pq && !pqBackend()) {
    ed.fill(0); pq.fill(0)
    throw new PcpError(ErrorCodes.PQ_UNAVAILABLE, `${source}: the key file holds an ML-DSA-65 key, and this process has no ML-DSA backend (import "pcp-edge/aiss2")`, { file: source })
  }
  const identity = Identity.fromSeed(ed, { createdAt: doc.created_at, ...(doc.metadata ? { metadata: doc.metadata as Record<string, string> } : {}), ...(pq ? { pqSeed: pq } : {}) })
  const docKey = fromBase64Strict(doc.public_key)
  if (!docKey || !equalBytes(docKey, identity.publicKey)) {
    identity.destroy()
    throw new PcpError(ErrorCodes.IDENTITY_INVALID, `${source}: the private key does not belong to public_key ${doc.public_key}`, { file: source, field: 'public_key' })
  }
  if (doc.version === AISS2_IDENTITY_VERSION) {
    const docPq = typeof doc.public_key_pq === 'string' ? fromBase64Strict(doc.public_key_pq) : null
    if (identity.publicKeyPq === null || !docPq || !equalBytes(docPq, identity.publicKeyPq)) {
      identity.destroy()
      throw new PcpError(ErrorCodes.IDENTITY_INVALID, `${source}: the key file's ML-DSA-65 key is missing or is not public_key_pq of the AISS-2.0 document`, { file: source, field: 'public_key_pq' })
    }
  }
  return identity
}

/** Reads the reference's legacy CLI identity file: {"identity": doc, "private_key": "<base64 seed>"}. */
export async function loadIdentityFile (file: string): Promise<Identity> {
  let text: string
  try { text = await readFile(file, 'utf8') } catch (err) {
    throw new PcpError(ErrorCodes.IDENTITY_NOT_FOUND, `cannot read identity file ${file}`, { file, cause: err })
  }
  const doc = parseJson(text, file) as Record<string, unknown>
  const inner = doc?.identity
  if (!inner) throw new PcpError(ErrorCodes.IDENTITY_INVALID, `${file}: no "identity" field`, { file, field: 'identity' })
  const parsed = parseIdentityDocument(inner, file).doc
  const seed = parsePlaintextKeyFile(JSON.stringify({ private_key: doc.private_key }), file)
  return bindIdentity(seed, parsed, file)
}

/** Encrypts a plaintext key in place: write the PQKY file, then overwrite and remove the plaintext. */
export async function secureAgentKey (home: string, name: string, passphrase: string, opts: { scryptN?: number } = {}): Promise<void> {
  const dir = agentDir(home, name)
  const plainFile = join(dir, PLAIN_KEY_FILE)
  if (await exists(join(dir, ENC_KEY_FILE))) {
    throw new PcpError(ErrorCodes.IDENTITY_EXISTS, `agent "${name}" already has an encrypted key`, { agent: name, file: join(dir, ENC_KEY_FILE) })
  }
  // Both seeds: an AISS-2 key file keeps its ML-DSA seed under the same protection (PQKY v2).
  const seeds = parsePlaintextKeyFileSeeds(await readFile(plainFile, 'utf8'), plainFile)
  try {
    await writeFileAtomic(join(dir, ENC_KEY_FILE), await encryptSeeds(seeds, passphrase, opts.scryptN ? { scryptN: opts.scryptN } : {}), 0o600)
  } finally {
    seeds.ed.fill(0); seeds.pq?.fill(0)
  }
  await shred(plainFile)
}

export async function listAgentNames (home: string): Promise<string[]> {
  let entries
  try { entries = await readdir(join(home, 'agents'), { withFileTypes: true }) } catch { return [] }
  const names: string[] = []
  for (const e of entries) {
    if (e.isDirectory() && NAME.test(e.name) && await exists(join(home, 'agents', e.name, IDENTITY_FILE))) names.push(e.name)
  }
  return names.sort()
}
