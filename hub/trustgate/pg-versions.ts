// Policy versions on the shared store (pg-state.ts): the bytes in pcp_tg_policies, named by their hash as
// versions/<hash>.policy is on disk; the activation history is the journal's policy_activated entries,
// which pg-state.ts hands in (took) as it reads or writes them. Reads are synchronous, from memory, as the
// file store's are: every version is held (a policy is at most 1 MiB, and versions are few).
import type { Pool } from 'pg'
import { canonicalize } from '../../runtime/canonical.js'
import { PcpError } from '../../runtime/errors.js'
import { parsePolicy, policyHash } from '../../policy/load.js'
import type { LoadedPolicy } from '../../policy/types.js'
import { TrustGateErrorCodes as Codes } from './errors.js'
import { diffPolicies, lineHash, resolveVersion, verifiedPolicy, type ActivationRecord, type IntegrityProblem, type PolicyChange } from './versions.js'
import type { PolicyVersions } from './state.js'


export class PgPolicyVersions implements PolicyVersions {
  readonly #pool: Pool
  readonly #bytes = new Map<string, Uint8Array>()
  readonly #history: ActivationRecord[] = []

  constructor (pool: Pool) { this.#pool = pool }

  /** Reads every stored version. */
  async load (): Promise<void> {
    const { rows } = await this.#pool.query<{ version: string, bytes: Buffer }>('SELECT version, bytes FROM pcp_tg_policies')
    for (const r of rows) this.#bytes.set(r.version, new Uint8Array(r.bytes))
  }

  /** Makes sure version `id` (named by an activation another hub journalled) is held. */
  async fetch (id: string): Promise<void> {
    if (this.#bytes.has(id)) return
    const { rows } = await this.#pool.query<{ bytes: Buffer }>('SELECT bytes FROM pcp_tg_policies WHERE version = $1', [id])
    if (rows[0] === undefined) throw new PcpError(Codes.POLICY_STORE_CORRUPTED, `the journal activates policy version ${id}, which the store does not hold`, { key: id })
    this.#bytes.set(id, new Uint8Array(rows[0].bytes))
  }

  /** An activation, once journalled. */
  took (record: ActivationRecord): void { this.#history.push(record) }

  async add (bytes: Uint8Array, source: string): Promise<{ id: string, policy: LoadedPolicy, created: boolean }> {
    const policy = parsePolicy(bytes, source) // throws POLICY_INVALID: invalid policies never enter history
    const id = policy.hash
    const { rowCount } = await this.#pool.query('INSERT INTO pcp_tg_policies (version, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, Buffer.from(bytes)])
    if (rowCount === 0) {
      await this.fetch(id)
      this.get(id) // the stored row must still hold these bytes
    } else this.#bytes.set(id, bytes)
    return { id, policy, created: rowCount !== 0 }
  }

  resolve (idOrPrefix: string): string { return resolveVersion(this.versions(), idOrPrefix) }

  versions (): string[] { return [...this.#bytes.keys()].sort() }

  get (idOrPrefix: string): LoadedPolicy {
    const id = this.resolve(idOrPrefix)
    return verifiedPolicy(id, this.#bytes.get(id)!)
  }

  history (): ActivationRecord[] { return [...this.#history] }

  active (): { record: ActivationRecord, policy: LoadedPolicy } | null {
    const record = this.#history.at(-1)
    return record === undefined ? null : { record, policy: this.get(record.version) }
  }

  activeAt (at: number): { record: ActivationRecord, policy: LoadedPolicy } | null {
    const record = this.#history.filter((r) => r.at <= at).pop()
    return record === undefined ? null : { record, policy: this.get(record.version) }
  }

  diff (a: string, b: string): PolicyChange[] { return diffPolicies(this.get(a).policy, this.get(b).policy) }

  /** The same checks as the file store's, on the rows and the journal's activation history. */
  checkIntegrity (): { ok: boolean, problems: IntegrityProblem[] } {
    const problems: IntegrityProblem[] = []
    for (const [id, bytes] of this.#bytes) {
      const actual = policyHash(bytes)
      if (actual !== id) problems.push({ kind: 'version_tampered', version: id, message: `policy version ${id} was modified: its bytes hash to ${actual}` })
    }
    let prev = ''
    this.#history.forEach((rec, i) => {
      if (rec.seq !== i + 1) problems.push({ kind: 'log_malformed', line: i + 1, message: `activation ${i + 1} carries seq ${rec.seq}` })
      if (rec.prev !== prev) problems.push({ kind: 'log_link_broken', line: i + 1, message: `activation ${i + 1} does not link to the one before it` })
      if (!this.#bytes.has(rec.version)) problems.push({ kind: 'log_missing_version', line: i + 1, version: rec.version, message: `activation ${i + 1} names version ${rec.version}, which is not stored` })
      prev = lineHash(canonicalize(rec))
    })
    return { ok: problems.length === 0, problems }
  }
}
