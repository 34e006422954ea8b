// Policy version store (trustgate.md §8, done properly): immutable, content-addressed versions plus an
// append-only, hash-linked activation log. Layout under `dir`:
//   versions/<sha256 of the raw bytes>.policy   the policy exactly as submitted (name = hash = version id)
//   activations.jsonl                            one canonical-JSON record per activation, each holding
//                                                the hash of the previous line (`prev`)
// The version id is policyHash() of the same raw bytes that loadPolicy hashes (gaps.md #52), so the
// policy_hash in every decision names a stored version. Single writer (the hub process) assumed.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { canonicalize } from '../../runtime/canonical.js'
import { PcpError } from '../../runtime/errors.js'
import { TrustGateErrorCodes as Codes } from './errors.js'
import { appendLineDurable, writeFileAtomic } from './fsutil.js'
import { parsePolicy, policyHash } from '../../policy/load.js'
import type { LoadedPolicy, Policy } from '../../policy/types.js'

export interface ActivationRecord {
  seq: number
  version: string
  name: string
  policy_version: string
  principal: string
  comment: string
  at: number
  prev: string
}

export interface PolicyChange { path: string, before: unknown, after: unknown }

export interface IntegrityProblem { kind: 'version_tampered' | 'version_misnamed' | 'log_malformed' | 'log_link_broken' | 'log_missing_version', version?: string, line?: number, message: string }

const HASH = /^[0-9a-f]{64}$/
/** The link of activations.jsonl (and of the shared store's history): SHA-256 of the previous record's canonical line. */
export const lineHash = (line: string): string => bytesToHex(sha256(new TextEncoder().encode(line)))

/** The one stored version id that `idOrPrefix` (≥ 8 hex digits) names, among `versions`. Shared by the file and PostgreSQL stores. */
export function resolveVersion (versions: readonly string[], idOrPrefix: string): string {
  if (typeof idOrPrefix !== 'string' || !/^[0-9a-f]{8,64}$/.test(idOrPrefix)) throw new TypeError(`"version" expected 8 to 64 lower-case hex digits, got ${String(idOrPrefix)}`)
  const hits = versions.filter((v) => v.startsWith(idOrPrefix))
  if (hits.length !== 1) {
    throw new PcpError(Codes.POLICY_VERSION_NOT_FOUND, hits.length === 0 ? `no stored policy version ${idOrPrefix}` : `policy version prefix ${idOrPrefix} is ambiguous`, { key: idOrPrefix })
  }
  return hits[0]!
}

/** The policy stored as version `id`, refusing bytes that no longer hash to it (POLICY_INTEGRITY). */
export function verifiedPolicy (id: string, bytes: Uint8Array): LoadedPolicy {
  const actual = policyHash(bytes)
  if (actual !== id) throw new PcpError(Codes.POLICY_INTEGRITY, `stored policy version ${id} was modified (its bytes hash to ${actual})`, { key: id, expected: id, actual })
  return parsePolicy(bytes, `version ${id.slice(0, 12)}`)
}

export class PolicyVersionStore {
  private constructor (readonly dir: string) {}

  /** Opens (creating if needed) a store in `dir`. */
  static open (dir: string): PolicyVersionStore {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('"dir" expected a non-empty path')
    mkdirSync(join(dir, 'versions'), { recursive: true, mode: 0o700 })
    return new PolicyVersionStore(dir)
  }

  private versionPath (id: string): string { return join(this.dir, 'versions', `${id}.policy`) }
  private get logPath (): string { return join(this.dir, 'activations.jsonl') }

  /** Validates and stores a policy; idempotent (same bytes → same id, file untouched). */
  add (input: Uint8Array | string, source = 'policy'): { id: string, policy: LoadedPolicy, created: boolean } {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input
    const policy = parsePolicy(bytes, source) // throws POLICY_INVALID: invalid policies never enter history
    const id = policy.hash
    const path = this.versionPath(id)
    if (existsSync(path)) {
      this.get(id) // an existing file with this name must still hold these bytes
      return { id, policy, created: false }
    }
    writeFileAtomic(path, bytes)
    return { id, policy, created: true }
  }

  /** Expands a unique prefix (≥ 8 hex digits) to a stored version id. */
  resolve (idOrPrefix: string): string { return resolveVersion(this.versions(), idOrPrefix) }

  /** Every stored version id, sorted. */
  versions (): string[] {
    return readdirSync(join(this.dir, 'versions')).filter((f) => f.endsWith('.policy')).map((f) => f.slice(0, -7)).sort()
  }

  /** Loads a stored version, refusing bytes that no longer hash to its id (POLICY_INTEGRITY). */
  get (idOrPrefix: string): LoadedPolicy {
    const id = this.resolve(idOrPrefix)
    return verifiedPolicy(id, readFileSync(this.versionPath(id)))
  }

  /** Makes a stored version the active one. Appends to the log; nothing is ever rewritten. */
  activate (idOrPrefix: string, by: { principal: string, comment?: string, at: number }): ActivationRecord {
    if (typeof by?.principal !== 'string' || by.principal === '') throw new TypeError('"principal" expected a non-empty string')
    if (typeof by.at !== 'number' || !Number.isFinite(by.at)) throw new TypeError('"at" expected a number of seconds')
    if (by.comment !== undefined && typeof by.comment !== 'string') throw new TypeError('"comment" expected a string')
    const policy = this.get(idOrPrefix)
    const { records, lastLine } = this.readLog()
    const record: ActivationRecord = {
      seq: records.length + 1, version: policy.hash, name: policy.policy.name, policy_version: policy.versionId,
      principal: by.principal, comment: by.comment ?? '', at: by.at, prev: lastLine === null ? '' : lineHash(lastLine)
    }
    appendLineDurable(this.logPath, canonicalize(record))
    return record
  }

  /** Activations, oldest first. Throws POLICY_STORE_CORRUPTED if the log does not parse. */
  history (): ActivationRecord[] { return this.readLog().records }

  /** The active policy (latest activation), verified against its id; null before the first activation. */
  active (): { record: ActivationRecord, policy: LoadedPolicy } | null {
    const records = this.history()
    const record = records[records.length - 1]
    return record === undefined ? null : { record, policy: this.get(record.version) }
  }

  /** The policy that was active at `at` (latest activation with at ≤ `at`), as the reference's get_at. */
  activeAt (at: number): { record: ActivationRecord, policy: LoadedPolicy } | null {
    const record = this.history().filter((r) => r.at <= at).pop()
    return record === undefined ? null : { record, policy: this.get(record.version) }
  }

  /** Field-level differences between two versions' parsed policies, sorted by path. */
  diff (a: string, b: string): PolicyChange[] {
    return diffPolicies(this.get(a).policy, this.get(b).policy)
  }

  /** Re-hashes every stored version and re-walks the activation log; names everything that is off. */
  checkIntegrity (): { ok: boolean, problems: IntegrityProblem[] } {
    const problems: IntegrityProblem[] = []
    const stored = new Set<string>()
    for (const f of readdirSync(join(this.dir, 'versions'))) {
      if (!f.endsWith('.policy')) continue
      const id = f.slice(0, -7)
      if (!HASH.test(id)) { problems.push({ kind: 'version_misnamed', version: id, message: `versions/${f} is not named by a SHA-256 hash` }); continue }
      stored.add(id)
      const actual = policyHash(readFileSync(this.versionPath(id)))
      if (actual !== id) problems.push({ kind: 'version_tampered', version: id, message: `policy version ${id} was modified: its bytes hash to ${actual}` })
    }
    const text = existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : ''
    let prev = ''
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()
    lines.forEach((line, i) => {
      const rec = parseRecord(line)
      if (rec === null || rec.seq !== i + 1) problems.push({ kind: 'log_malformed', line: i + 1, message: `activations.jsonl line ${i + 1} is not a valid activation record` })
      else {
        if (rec.prev !== prev) problems.push({ kind: 'log_link_broken', line: i + 1, message: `activations.jsonl line ${i + 1} does not link to the line before it (edited, inserted or removed lines)` })
        if (!stored.has(rec.version)) problems.push({ kind: 'log_missing_version', line: i + 1, version: rec.version, message: `activation ${i + 1} names version ${rec.version}, which is not stored` })
      }
      prev = lineHash(line)
    })
    return { ok: problems.length === 0, problems }
  }

  private readLog (): { records: ActivationRecord[], lastLine: string | null } {
    if (!existsSync(this.logPath)) return { records: [], lastLine: null }
    const text = readFileSync(this.logPath, 'utf8')
    // A last line without its newline is a crash mid-append that nobody was told about: not a record.
    const lines = text.split('\n').slice(0, -1)
    const records = lines.map((line, i) => {
      const rec = parseRecord(line)
      if (rec === null) throw new PcpError(Codes.POLICY_STORE_CORRUPTED, `${this.logPath}: line ${i + 1} is not a valid activation record`, { file: this.logPath, index: i })
      return rec
    })
    return { records, lastLine: lines.length > 0 ? lines[lines.length - 1]! : null }
  }
}

function parseRecord (line: string): ActivationRecord | null {
  let r: ActivationRecord
  try { r = JSON.parse(line) } catch { return null }
  if (r === null || typeof r !== 'object' || !Number.isInteger(r.seq) || typeof r.version !== 'string' || !HASH.test(r.version) ||
    typeof r.principal !== 'string' || typeof r.comment !== 'string' || typeof r.at !== 'number' || typeof r.prev !== 'string' ||
    typeof r.name !== 'string' || typeof r.policy_version !== 'string') return null
  return r
}

/** Flattens objects to leaf paths (arrays are leaves, compared whole) and lists what differs. */
export function diffPolicies (a: Policy, b: Policy): PolicyChange[] {
  const flat = (v: unknown, path: string, out: Map<string, unknown>): Map<string, unknown> => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v)
      if (keys.length === 0 && path) out.set(path, {})
      for (const k of keys) flat((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out)
    } else out.set(path, v)
    return out
  }
  const fa = flat(a, '', new Map()); const fb = flat(b, '', new Map())
  const changes: PolicyChange[] = []
  for (const path of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    const before = fa.get(path); const after = fb.get(path)
    if (JSON.stringify(before) !== JSON.stringify(after)) changes.push({ path, before, after })
  }
  return changes
}
