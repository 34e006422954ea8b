// The principals who may answer REQUIRE_HUMAN decisions and activate policies, with real authentication
// (gaps.md #44: the reference took `principal_name` from the request body and minted a token for it).
//
// Scheme: each principal has their own bearer secret, shown once at creation and stored only as its
// SHA-256. A token reads `tgp_<principal_id>_<43 chars base64url of 32 random bytes>`: the id lets us look
// the principal up, the 256-bit secret is what proves it. A plain hash is enough at rest because the
// secret is random and long (nothing to brute-force, unlike a password); comparison is constant-time.
// The API token (TRUSTGATE_TOKEN) lets a caller talk to the API; only a principal token answers for a human.
//
// File: `<dir>/principals.json`, written atomically. The hub re-reads it when its mtime changes, so
// `pcp trustgate principal add` on the hub's machine takes effect without a restart (bootstrap path:
// the first principal can only be created with filesystem access to the hub's state directory).
import { existsSync, readFileSync, statSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { PcpError } from '../../runtime/errors.js'
import { writeFileAtomic } from './fsutil.js'
import { CLEARANCES, clearanceRank, type Clearance, type Principal, type PrincipalDirectory } from './principals.js'

export const PrincipalErrorCodes = {
  PRINCIPAL_EXISTS: 'PRINCIPAL_EXISTS',
  PRINCIPAL_STORE_CORRUPTED: 'PRINCIPAL_STORE_CORRUPTED'
} as const

export interface StoredPrincipal extends Principal {
  created_at: number
  created_by: string
  /** SHA-256 hex of the whole token. */
  token_hash: string
}

/** What the API shows: never the hash. */
export type PrincipalSummary = Omit<StoredPrincipal, 'token_hash'>

const TOKEN = /^tgp_(PRINCIPAL-[0-9A-F]{12})_([A-Za-z0-9_-]{43})$/
/** What a principal's name may be; the API and the CLI check it first to answer REQUEST_INVALID. */
export const PRINCIPAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest()

/** What the service and its routes need of a principal store: this file's, or the shared one (pg-principals.ts). */
export interface Principals extends PrincipalDirectory {
  authenticate (token: unknown): Principal | undefined
  summary (id: string): PrincipalSummary | undefined
  list (): PrincipalSummary[]
  create (input: { name: string, clearance: Clearance, createdBy: string, now: number }): { principal: PrincipalSummary, token: string } | Promise<{ principal: PrincipalSummary, token: string }>
  setActive (id: string, active: boolean): PrincipalSummary | Promise<PrincipalSummary>
  rotateToken (id: string): string | Promise<string>
  /** Shared store: reads what other hubs changed (before a principal's answer is taken). */
  refresh? (): Promise<void>
}

/** A new principal's record and its token (shown once): the same scheme for every store. */
export function mintPrincipal (input: { name: string, clearance: Clearance, createdBy: string, now: number }, random: (n: number) => Uint8Array, taken: (id: string) => boolean): { stored: StoredPrincipal, token: string } {
  if (typeof input?.name !== 'string' || !PRINCIPAL_NAME.test(input.name)) throw new TypeError(`"name" expected 1-64 of [A-Za-z0-9._@-] starting with a letter or digit, got ${JSON.stringify(input?.name)}`)
  clearanceRank(input.clearance)
  if (typeof input.createdBy !== 'string' || input.createdBy === '') throw new TypeError('"createdBy" expected a non-empty string')
  let id: string
  do id = 'PRINCIPAL-' + Buffer.from(random(6)).toString('hex').toUpperCase(); while (taken(id))
  const token = newToken(id, random)
  return { stored: { id, name: input.name, clearance: input.clearance, active: true, created_at: input.now, created_by: input.createdBy, token_hash: tokenHash(token) }, token }
}

export const newToken = (id: string, random: (n: number) => Uint8Array): string => `tgp_${id}_${Buffer.from(random(32)).toString('base64url')}`
export const tokenHash = (token: string): string => hashToken(token).toString('hex')

/** The principal `token` proves among `byId`, in constant time whether or not its id exists. */
export function authenticateIn (byId: ReadonlyMap<string, StoredPrincipal>, token: unknown): Principal | undefined {
  if (typeof token !== 'string') return undefined
  const m = TOKEN.exec(token)
  const p = m === null ? undefined : byId.get(m[1]!)
  // Hash and compare even when the id is unknown, so timing does not tell which ids exist.
  const expected = p === undefined ? Buffer.alloc(32) : Buffer.from(p.token_hash, 'hex')
  const ok = timingSafeEqual(expected, hashToken(token))
  return ok && p !== undefined ? toPrincipal(p) : undefined
}

/** A stored principal as read back (a file, a database row), or null when it is malformed. */
export function parseStoredPrincipal (p: unknown): StoredPrincipal | null {
  const q = p as StoredPrincipal
  if (typeof q?.id !== 'string' || typeof q.name !== 'string' || !(CLEARANCES as readonly string[]).includes(q.clearance) ||
    typeof q.active !== 'boolean' || typeof q.token_hash !== 'string' || !/^[0-9a-f]{64}$/.test(q.token_hash)) return null
  return Object.freeze({ ...q })
}

export class PrincipalStore implements Principals {
  #byId = new Map<string, StoredPrincipal>()
  #stamp = ''
  readonly #random: (n: number) => Uint8Array

  private constructor (readonly file: string, random?: (n: number) => Uint8Array) {
    this.#random = random ?? ((n) => randomBytes(n))
  }

  /** Opens (creating the directory if needed) the store in `dir`. */
  static open (dir: string, opts: { random?: (n: number) => Uint8Array } = {}): PrincipalStore {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('"dir" expected a non-empty path')
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const store = new PrincipalStore(join(dir, 'principals.json'), opts.random)
    store.#reload()
    return store
  }

  /** Re-reads the file if another process (the CLI) changed it. */
  #reload (): void {
    if (!existsSync(this.file)) { this.#byId = new Map(); this.#stamp = ''; return }
    // Every save is an atomic rename, so a change always shows as a new inode (mtime alone can tie).
    const st = statSync(this.file)
    const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`
    if (stamp === this.#stamp) return
    let doc: { version?: number, principals?: StoredPrincipal[] }
    try { doc = JSON.parse(readFileSync(this.file, 'utf8')) } catch (err) {
      throw new PcpError(PrincipalErrorCodes.PRINCIPAL_STORE_CORRUPTED, `${this.file} is not valid JSON`, { file: this.file, cause: err })
    }
    if (doc?.version !== 1 || !Array.isArray(doc.principals)) throw new PcpError(PrincipalErrorCodes.PRINCIPAL_STORE_CORRUPTED, `${this.file} is not a principal store (version 1)`, { file: this.file })
    const next = new Map<string, StoredPrincipal>()
    doc.principals.forEach((p, i) => {
      const q = parseStoredPrincipal(p)
      if (q === null) throw new PcpError(PrincipalErrorCodes.PRINCIPAL_STORE_CORRUPTED, `${this.file}: principal ${i} is malformed`, { file: this.file, index: i })
      next.set(q.id, q)
    })
    this.#byId = next
    this.#stamp = stamp
  }

  #save (): void {
    writeFileAtomic(this.file, JSON.stringify({ version: 1, principals: [...this.#byId.values()] }, null, 2) + '\n')
    const st = statSync(this.file)
    this.#stamp = `${st.ino}:${st.mtimeMs}:${st.size}`
  }

  /** Creates a principal. The token is returned once and never stored in clear. */
  create (input: { name: string, clearance: Clearance, createdBy: string, now: number }): { principal: PrincipalSummary, token: string } {
    if (typeof input?.name !== 'string' || !PRINCIPAL_NAME.test(input.name)) throw new TypeError(`"name" expected 1-64 of [A-Za-z0-9._@-] starting with a letter or digit, got ${JSON.stringify(input?.name)}`)
    this.#reload()
    if ([...this.#byId.values()].some((p) => p.name === input.name)) {
      throw new PcpError(PrincipalErrorCodes.PRINCIPAL_EXISTS, `a principal named ${input.name} already exists`, { key: input.name })
    }
    const { stored, token } = mintPrincipal(input, this.#random, (id) => this.#byId.has(id))
    this.#byId.set(stored.id, Object.freeze(stored))
    this.#save()
    return { principal: summary(stored), token }
  }

  /** A new token for `id` (the old one stops working at once). */
  rotateToken (id: string): string {
    const p = this.#require(id)
    const token = newToken(id, this.#random)
    this.#byId.set(id, Object.freeze({ ...p, token_hash: tokenHash(token) }))
    this.#save()
    return token
  }

  setActive (id: string, active: boolean): PrincipalSummary {
    if (typeof active !== 'boolean') throw new TypeError('"active" expected a boolean')
    const p = { ...this.#require(id), active }
    this.#byId.set(id, Object.freeze(p))
    this.#save()
    return summary(p)
  }

  /**
   * The principal a presented token proves, or undefined. Inactive principals are returned (callers and
   * the approval queue refuse them with PRINCIPAL_INACTIVE, which is a clearer answer than "bad token").
   */
  authenticate (token: unknown): Principal | undefined {
    this.#reload()
    return authenticateIn(this.#byId, token)
  }

  /** Every principal as stored (with its token hash): what a shared store imports (pg-principals.ts). */
  stored (): StoredPrincipal[] {
    this.#reload()
    return [...this.#byId.values()]
  }

  get (id: string): Principal | undefined {
    this.#reload()
    const p = this.#byId.get(id)
    return p === undefined ? undefined : toPrincipal(p)
  }

  summary (id: string): PrincipalSummary | undefined {
    this.#reload()
    const p = this.#byId.get(id)
    return p === undefined ? undefined : summary(p)
  }

  list (): PrincipalSummary[] {
    this.#reload()
    return [...this.#byId.values()].map(summary).sort((a, b) => a.name.localeCompare(b.name))
  }

  #require (id: string): StoredPrincipal {
    this.#reload()
    const p = this.#byId.get(id)
    if (p === undefined) throw new PcpError('PRINCIPAL_UNKNOWN', `unknown principal "${id}"`, { key: id })
    return p
  }
}

export function summary (p: StoredPrincipal): PrincipalSummary {
  const { token_hash: _h, ...rest } = p
  return rest
}

function toPrincipal (p: StoredPrincipal): Principal {
  return { id: p.id, name: p.name, clearance: p.clearance, active: p.active }
}
