// Loading a policy: bytes → YAML tree with positions → validated Policy + compiled patterns + hash.
// The hash covers the raw bytes exactly as stored (BOM and CRLF included). The reference hashed raw bytes
// in its loader but newline-normalised text in its versioning, so one CRLF file had two hashes
// (gaps.md #52); here loadPolicy, parsePolicy and the version store all call policyHash on the same bytes.
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { LineCounter, parseDocument, visit } from 'yaml'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { PcpError } from '../runtime/errors.js'
import { PolicyErrorCodes as Codes } from './errors.js'
import { validatePolicyTree, type PolicyProblem } from './schema.js'
import type { LoadedPolicy, Policy } from './types.js'

/** Policies are small; a multi-megabyte one is a mistake or an attack on the parser. */
export const MAX_POLICY_BYTES = 1_048_576

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function policyHash (bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`"bytes" expected a Uint8Array, got ${typeof bytes}`)
  return bytesToHex(sha256(bytes))
}

export function versionIdOf (policy: Pick<Policy, 'name' | 'version'>): string {
  return policy.version.startsWith(policy.name + '@') ? policy.version : `${policy.name}@${policy.version}`
}

function formatProblems (source: string, problems: PolicyProblem[]): string {
  const lines = problems.map((p) => `  ${source}:${p.line}:${p.column} ${p.path}: ${p.message}`)
  return `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the policy\n${lines.join('\n')}`
}

/**
 * Parses and validates a policy from its bytes (or text, taken as UTF-8). YAML 1.1, as the reference's
 * PyYAML reads it (`yes`/`no` are booleans); JSON policies parse the same way since JSON is YAML.
 * Throws PcpError POLICY_INVALID with `problems` listing every problem with its path and line.
 */
export function parsePolicy (input: Uint8Array | string, source = 'policy'): LoadedPolicy {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw new TypeError(`"input" expected bytes or a string, got ${typeof input}`)
  const bytes = typeof input === 'string' ? encoder.encode(input) : input
  if (bytes.length > MAX_POLICY_BYTES) {
    throw new PcpError(Codes.POLICY_LOAD_FAILED, `${source} is ${bytes.length} bytes; policies are limited to ${MAX_POLICY_BYTES}`, { file: source })
  }
  let text: string
  try { text = decoder.decode(bytes) } catch (err) {
    throw new PcpError(Codes.POLICY_LOAD_FAILED, `${source} is not valid UTF-8`, { file: source, cause: err })
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, version: '1.1', uniqueKeys: true, prettyErrors: false })
  const syntax: PolicyProblem[] = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0])
    return { path: '(yaml)', line: pos.line, column: pos.col, message: e.message.split('\n')[0]! }
  })
  // Anchors and aliases have no use in a policy and are the classic YAML expansion bomb: refuse them.
  visit(doc, {
    Alias (_key, node) {
      const pos = lines.linePos(node.range?.[0] ?? 0)
      syntax.push({ path: '(yaml)', line: pos.line, column: pos.col, message: 'aliases (*name) are not allowed in policies' })
    }
  })
  const result = syntax.length > 0 ? syntax : validatePolicyTree(doc.contents as never, text, lines)
  if (Array.isArray(result)) {
    result.sort((a, b) => a.line - b.line || a.column - b.column)
    const first = result[0]!
    throw new PcpError(Codes.POLICY_INVALID, formatProblems(source, result), { file: source, field: first.path, line: first.line, problems: result })
  }
  const policy = deepFreeze(result.policy)
  return Object.freeze({
    policy, hash: policyHash(bytes), versionId: versionIdOf(policy), patterns: Object.freeze(result.patterns),
    warnings: Object.freeze(result.warnings), text
  })
}

/**
 * Reads and parses a policy file (.yaml, .yml or .json, as the reference). With `expectedHash`, refuses
 * bytes that hash differently (POLICY_INTEGRITY) before parsing them.
 */
export function loadPolicy (path: string, opts: { expectedHash?: string } = {}): LoadedPolicy {
  if (typeof path !== 'string' || path === '') throw new TypeError('"path" expected a non-empty string')
  const ext = extname(path).toLowerCase()
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw new PcpError(Codes.POLICY_LOAD_FAILED, `${path}: unsupported policy format "${ext}" (expected .yaml, .yml or .json)`, { file: path })
  }
  let bytes: Uint8Array
  try { bytes = readFileSync(path) } catch (err) {
    throw new PcpError(Codes.POLICY_LOAD_FAILED, `${path}: cannot read policy: ${(err as Error).message}`, { file: path, cause: err })
  }
  if (opts.expectedHash !== undefined) {
    const actual = policyHash(bytes)
    if (actual !== opts.expectedHash.toLowerCase()) {
      throw new PcpError(Codes.POLICY_INTEGRITY, `${path}: policy hash ${actual} does not match the expected ${opts.expectedHash}`, { file: path, expected: opts.expectedHash, actual })
    }
  }
  return parsePolicy(bytes, path)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as object)) deepFreeze(v)
  }
  return value
}
