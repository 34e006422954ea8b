// Principals on the shared store (pg-state.ts): pcp_tg_principals holds each one's record (token hash,
// never the token) so a human created, deactivated or re-keyed through one hub is the same on every hub.
// Reads are synchronous, from memory, as the file store's are; the memory follows the table on every
// notification and poll, and refresh() reads it before a principal's answer or activation is taken, so a
// principal deactivated through one hub cannot answer through another that has not heard of it yet.
// Bootstrap stays as it is: principals in a hub's principals.json (`pcp trustgate principal add` on its
// machine) are added to the table when the hub starts or the file changes; a row never gives way to the
// file, so the file cannot re-activate or re-key a principal.
import type { Pool } from 'pg'
import { randomBytes } from 'node:crypto'
import { PcpError } from '../../runtime/errors.js'
import {
  PrincipalErrorCodes, authenticateIn, mintPrincipal, newToken, parseStoredPrincipal, summary, tokenHash,
  type PrincipalStore, type PrincipalSummary, type Principals, type StoredPrincipal
} from './principal-store.js'
import type { Clearance, Principal } from './principals.js'

export class PgPrincipals implements Principals {
  readonly #pool: Pool
  readonly #file: PrincipalStore
  #byId = new Map<string, StoredPrincipal>()
  #imported = new Set<string>()

  constructor (pool: Pool, file: PrincipalStore) { this.#pool = pool; this.#file = file }

  async refresh (): Promise<void> {
    await this.#import()
    const { rows } = await this.#pool.query<{ doc: string }>('SELECT doc FROM pcp_tg_principals')
    const next = new Map<string, StoredPrincipal>()
    rows.forEach((r, i) => {
      const p = parseStoredPrincipal(JSON.parse(r.doc))
      if (p === null) throw new PcpError(PrincipalErrorCodes.PRINCIPAL_STORE_CORRUPTED, `pcp_tg_principals: row ${i} is malformed`, { index: i })
      next.set(p.id, p)
    })
    this.#byId = next
  }

  /** The file's principals the table does not have yet. */
  async #import (): Promise<void> {
    for (const p of this.#file.stored()) {
      const key = `${p.id}:${p.token_hash}:${String(p.active)}`
      if (this.#imported.has(key)) continue
      await this.#pool.query('INSERT INTO pcp_tg_principals (id, name, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [p.id, p.name, JSON.stringify(p)])
      this.#imported.add(key)
    }
  }

  get (id: string): Principal | undefined {
    const p = this.#byId.get(id)
    return p === undefined ? undefined : { id: p.id, name: p.name, clearance: p.clearance, active: p.active }
  }

  authenticate (token: unknown): Principal | undefined { return authenticateIn(this.#byId, token) }

  summary (id: string): PrincipalSummary | undefined {
    const p = this.#byId.get(id)
    return p === undefined ? undefined : summary(p)
  }

  list (): PrincipalSummary[] { return [...this.#byId.values()].map(summary).sort((a, b) => a.name.localeCompare(b.name)) }

  async create (input: { name: string, clearance: Clearance, createdBy: string, now: number }): Promise<{ principal: PrincipalSummary, token: string }> {
    const { stored, token } = mintPrincipal(input, (n) => randomBytes(n), (id) => this.#byId.has(id))
    try {
      await this.#write("INSERT INTO pcp_tg_principals (id, name, doc) VALUES ($1, $2, $3) RETURNING id", [stored.id, stored.name, JSON.stringify(stored)])
    } catch (err) {
      // The name is unique across hubs: two creating one name at once, one of them is told.
      if ((err as { code?: string }).code === '23505') throw new PcpError(PrincipalErrorCodes.PRINCIPAL_EXISTS, `a principal named ${input.name} already exists`, { key: input.name })
      throw err
    }
    this.#byId.set(stored.id, Object.freeze(stored))
    return { principal: summary(stored), token }
  }

  async setActive (id: string, active: boolean): Promise<PrincipalSummary> {
    if (typeof active !== 'boolean') throw new TypeError('"active" expected a boolean')
    const p = await this.#update(id, (p) => ({ ...p, active }))
    return summary(p)
  }

  async rotateToken (id: string): Promise<string> {
    const token = newToken(id, (n) => randomBytes(n))
    await this.#update(id, (p) => ({ ...p, token_hash: tokenHash(token) }))
    return token
  }

  /**
   * Changes one row as it is in the table now, under its row lock: a deactivation through one hub and a
   * re-key through another at once both hold, neither writes over the other.
   */
  async #update (id: string, change: (p: StoredPrincipal) => StoredPrincipal): Promise<StoredPrincipal> {
    await this.#import()
    const c = await this.#pool.connect()
    try {
      await c.query('BEGIN')
      const { rows } = await c.query<{ doc: string }>('SELECT doc FROM pcp_tg_principals WHERE id = $1 FOR UPDATE', [id])
      const p = rows[0] === undefined ? null : parseStoredPrincipal(JSON.parse(rows[0].doc))
      if (p === null) throw new PcpError('PRINCIPAL_UNKNOWN', `unknown principal "${id}"`, { key: id })
      const next = Object.freeze(change(p))
      await c.query("UPDATE pcp_tg_principals SET doc = $2 WHERE id = $1", [id, JSON.stringify(next)])
      await c.query("SELECT pg_notify('pcp_tg_principals', $1)", [id])
      await c.query('COMMIT')
      this.#byId.set(id, next)
      return next
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    } finally { c.release() }
  }

  /** One statement: the write and its notification (sent at commit). */
  async #write (sql: string, params: unknown[]): Promise<void> {
    await this.#pool.query(`WITH w AS (${sql}) SELECT pg_notify('pcp_tg_principals', id) FROM w`, params)
  }
}
