// Policy schema (trustgate.md §1) checked against the YAML syntax tree, so that every problem names its
// field path AND its line. All problems are collected before failing: an operator fixing a policy should
// see the whole list at once, not one error per attempt. Differences from the reference's loader, each
// deliberate (README "TrustGate"): unknown keys are errors (a typo such as `blocked_tool:` would silently
// drop a restriction), duplicate keys are errors (gaps.md #48: three `roles:` keys kept only the last),
// type errors are reported like any other problem instead of escaping as raw exceptions, and
// `timeout_seconds: 0` ("never expires") is refused so the approval queue always drains.
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml'
import { compilePattern, type CompiledPattern } from './match.js'
import { PatternSyntaxError } from './pattern.js'
import {
  DEFAULT_POLICY, GATE_OUTCOMES, ON_TIMEOUT, type GateOutcome, type OnTimeout, type Policy, type RolePolicy
} from './types.js'

export interface PolicyProblem { path: string, line: number, column: number, message: string }

type Shape = { [key: string]: 'ignored' | Shape | true }

/** Known keys. `'ignored'` = present in the reference's shipped files, accepted and not used (trustgate.md §1). */
const SHAPE: Shape = {
  version: true, name: true, profile: true, author: true, description: true, created_at: true,
  thresholds: { vrs_require_human: true, vrs_block: true, tsi_unstable_action: true, tsi_critical_action: true },
  roles: true,
  escalation: { max_watch_events: true, auto_restrict_after: true, restrict_duration_minutes: true },
  network: { allowed_domains: true, block_external: true, log_external_calls: true },
  notification: {
    timeout_seconds: true, on_timeout: true, require_justification: true, channels: true, principals: true,
    approval_log_mandatory: 'ignored'
  },
  dangerous_patterns: true,
  limits: { max_payload_chars: true, max_scan_steps: true },
  logging: 'ignored'
}

/** Bounds on a policy's patterns as a whole: compile time at load and per-character cost at evaluation. */
/** The largest scan limits a policy may set (the default policy's are 65,536 chars and 4,000,000 steps). */
export const MAX_LIMITS = { max_payload_chars: 262_144, max_scan_steps: 4_000_000 } as const
export const MAX_PATTERNS = 256
export const MAX_TOTAL_STATES = 50_000

const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export interface Validated { policy: Policy, patterns: CompiledPattern[], warnings: string[] }

/** Validates the parsed document's root node. Returns the policy, or the full list of problems. */
export function validatePolicyTree (root: Node | null, text: string, lines: LineCounter): Validated | PolicyProblem[] {
  const problems: PolicyProblem[] = []
  const warnings: string[] = []
  const at = (node: Node | null | undefined, path: string, message: string): void => {
    const pos = lines.linePos(node?.range?.[0] ?? 0)
    problems.push({ path: path || '(root)', line: pos.line, column: pos.col, message })
  }

  // ---- generic readers: each returns undefined (and records a problem) when the value is unusable ----
  const fields = (node: Node | null, path: string, shape: Shape | null): Map<string, { pair: Pair, value: Node | null }> => {
    const out = new Map<string, { pair: Pair, value: Node | null }>()
    if (!isMap(node)) { at(node, path, 'expected a mapping'); return out }
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') { at(keyNode, path, 'keys must be strings'); continue }
      const key = keyNode.value
      const sub = path ? `${path}.${key}` : key
      if (shape && !(key in shape)) { at(keyNode, sub, `unknown field (known: ${Object.keys(shape).join(', ')})`); continue }
      const value = pair.value as Node | null
      // An explicit null (`key:` with nothing after it) means "use the default".
      if (value === null || (isScalar(value) && value.value === null)) continue
      out.set(key, { pair, value })
    }
    return out
  }
  const str = (node: Node | null, path: string): string | undefined => {
    if (isScalar(node) && typeof node.value === 'string') return node.value
    at(node, path, 'expected a string'); return undefined
  }
  const num = (node: Node | null, path: string, min: number, max: number, opts: { integer?: boolean, exclusive?: boolean } = {}): number | undefined => {
    const v = isScalar(node) ? node.value : undefined
    if (typeof v !== 'number' || !Number.isFinite(v)) { at(node, path, `expected a number, got ${describe(node)}`); return undefined }
    if (opts.integer && !Number.isInteger(v)) { at(node, path, `expected an integer, got ${v}`); return undefined }
    const ok = opts.exclusive ? v > min && v < max : v >= min && v <= max
    if (!ok) { at(node, path, `must be ${opts.exclusive ? 'strictly ' : ''}between ${min} and ${max}, got ${v}`); return undefined }
    return v
  }
  const bool = (node: Node | null, path: string): boolean | undefined => {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value
    at(node, path, `expected true or false, got ${describe(node)}`); return undefined
  }
  const oneOf = <T extends string>(node: Node | null, path: string, allowed: readonly T[]): T | undefined => {
    const v = str(node, path)
    if (v === undefined) return undefined
    if (!(allowed as readonly string[]).includes(v)) { at(node, path, `must be one of ${allowed.join(', ')}, got "${v}"`); return undefined }
    return v as T
  }
  const strList = (node: Node | null, path: string, check?: (s: string) => string | null): string[] | undefined => {
    if (!isSeq(node)) { at(node, path, 'expected a list'); return undefined }
    const out: string[] = []
    node.items.forEach((item, i) => {
      const s = str(item as Node, `${path}[${i}]`)
      if (s === undefined) return
      const why = s === '' ? 'must not be empty' : check?.(s) ?? null
      if (why) at(item as Node, `${path}[${i}]`, why)
      else out.push(s)
    })
    return out
  }

  const p: Policy = structuredClone(DEFAULT_POLICY)
  const top = fields(root, '', SHAPE)
  const get = (m: Map<string, { value: Node | null }>, k: string): Node | null | undefined => m.get(k)?.value

  for (const k of ['name', 'profile', 'author', 'description'] as const) {
    const n = get(top, k); if (n !== undefined) p[k] = str(n, k) ?? p[k]
  }
  const ver = get(top, 'version')
  if (ver !== undefined) {
    // PyYAML reads `version: 1.0` as a float and the reference keeps str(1.0) = "1.0": keep the text as written.
    if (isScalar(ver) && typeof ver.value === 'number' && ver.range) p.version = text.slice(ver.range[0], ver.range[1]).trim()
    else p.version = str(ver, 'version') ?? p.version
  }
  const created = get(top, 'created_at')
  if (created !== undefined) p.created_at = num(created, 'created_at', 0, Number.MAX_SAFE_INTEGER, { integer: true }) ?? null

  const th = top.has('thresholds') ? fields(get(top, 'thresholds')!, 'thresholds', SHAPE.thresholds as Shape) : new Map()
  const rh = get(th, 'vrs_require_human'); const rb = get(th, 'vrs_block')
  if (rh !== undefined) p.thresholds.vrs_require_human = num(rh, 'thresholds.vrs_require_human', 0, 1, { exclusive: true }) ?? NaN
  if (rb !== undefined) p.thresholds.vrs_block = num(rb, 'thresholds.vrs_block', 0, 1, { exclusive: true }) ?? NaN
  if (p.thresholds.vrs_require_human >= p.thresholds.vrs_block) {
    at(rh ?? rb ?? root, 'thresholds.vrs_require_human', `must be below thresholds.vrs_block (${p.thresholds.vrs_require_human} >= ${p.thresholds.vrs_block})`)
  }
  for (const k of ['tsi_unstable_action', 'tsi_critical_action'] as const) {
    const n = get(th, k); if (n !== undefined) p.thresholds[k] = oneOf<GateOutcome>(n, `thresholds.${k}`, GATE_OUTCOMES) ?? p.thresholds[k]
  }

  const roles = get(top, 'roles')
  if (roles !== undefined) {
    for (const [role, { pair, value }] of fields(roles, 'roles', null)) {
      const rp: RolePolicy = { allowed_tools: [], blocked_tools: [] }
      const rf = fields(value, `roles.${role}`, { allowed_tools: true, blocked_tools: true })
      for (const k of ['allowed_tools', 'blocked_tools'] as const) {
        const n = get(rf, k)
        if (n !== undefined) rp[k] = strList(n, `roles.${role}.${k}`) ?? []
      }
      if (rp.blocked_tools.includes('*') && rp.allowed_tools.length > 0) {
        warnings.push(`roles.${role}: blocked_tools "*" blocks every tool except the ones listed in allowed_tools (line ${lines.linePos((pair.key as Node).range?.[0] ?? 0).line}; the reference blocked those too, gaps.md #49)`)
      }
      p.roles[role] = rp
    }
  }

  const es = top.has('escalation') ? fields(get(top, 'escalation')!, 'escalation', SHAPE.escalation as Shape) : new Map()
  const intField = (m: Map<string, { value: Node | null }>, section: 'escalation' | 'notification' | 'limits', k: string, min: number, max: number): void => {
    const n = get(m, k)
    if (n === undefined) return
    const v = num(n, `${section}.${k}`, min, max, { integer: true })
    if (v !== undefined) (p[section] as unknown as Record<string, number>)[k] = v
  }
  intField(es, 'escalation', 'max_watch_events', 0, 1_000_000)
  intField(es, 'escalation', 'auto_restrict_after', 1, 1000)
  intField(es, 'escalation', 'restrict_duration_minutes', 0, 525_600)

  const nw = top.has('network') ? fields(get(top, 'network')!, 'network', SHAPE.network as Shape) : new Map()
  const dom = get(nw, 'allowed_domains')
  if (dom !== undefined) {
    p.network.allowed_domains = (strList(dom, 'network.allowed_domains', (s) =>
      DOMAIN.test(s.toLowerCase()) ? null : 'expected a host name or "*.host.name"') ?? []).map((s) => s.toLowerCase())
  }
  for (const k of ['block_external', 'log_external_calls'] as const) {
    const n = get(nw, k); if (n !== undefined) p.network[k] = bool(n, `network.${k}`) ?? p.network[k]
  }

  const nt = top.has('notification') ? fields(get(top, 'notification')!, 'notification', SHAPE.notification as Shape) : new Map()
  intField(nt, 'notification', 'timeout_seconds', 1, 604_800)
  const ot = get(nt, 'on_timeout'); if (ot !== undefined) p.notification.on_timeout = oneOf<OnTimeout>(ot, 'notification.on_timeout', ON_TIMEOUT) ?? p.notification.on_timeout
  const rj = get(nt, 'require_justification'); if (rj !== undefined) p.notification.require_justification = bool(rj, 'notification.require_justification') ?? false
  const pr = get(nt, 'principals'); if (pr !== undefined) p.notification.principals = strList(pr, 'notification.principals') ?? []
  const ch = get(nt, 'channels')
  if (ch !== undefined) {
    if (!isSeq(ch)) at(ch, 'notification.channels', 'expected a list')
    else {
      ch.items.forEach((item, i) => {
        const path = `notification.channels[${i}]`
        if (!isMap(item)) { at(item as Node, path, 'expected a mapping with a "type"'); return }
        const js = item.toJSON() as Record<string, unknown>
        if (typeof js.type !== 'string' || js.type === '') { at(item, path, 'expected a "type" string'); return }
        p.notification.channels.push(JSON.parse(JSON.stringify(js)))
      })
    }
  }

  const patterns: CompiledPattern[] = []
  const dp = get(top, 'dangerous_patterns')
  if (dp !== undefined) {
    if (!isSeq(dp)) at(dp, 'dangerous_patterns', 'expected a list')
    else if (dp.items.length > MAX_PATTERNS) at(dp, 'dangerous_patterns', `at most ${MAX_PATTERNS} patterns, got ${dp.items.length}`)
    else {
      let states = 0
      dp.items.forEach((item, i) => {
        const path = `dangerous_patterns[${i}]`
        const s = str(item as Node, path)
        if (s === undefined) return
        if (s === '') { at(item as Node, path, 'must not be empty (it would match every payload)'); return }
        try {
          const c = compilePattern(s)
          states += c.size
          if (states > MAX_TOTAL_STATES) { at(item as Node, path, `the patterns together exceed ${MAX_TOTAL_STATES} automaton states`); return }
          patterns.push(c); p.dangerous_patterns.push(s)
        } catch (err) {
          if (!(err instanceof PatternSyntaxError) && !(err instanceof RangeError)) throw err
          at(item as Node, path, `pattern "${s}" refused: ${err.message}`)
        }
      })
    }
  }

  const lm = top.has('limits') ? fields(get(top, 'limits')!, 'limits', SHAPE.limits as Shape) : new Map()
  // Capped so that one gate evaluation (which runs on the hub's main thread) stays bounded: at these
  // caps the worst payloads and patterns measured cost at most ~280 ms (the shared 2-core machine at a
  // load average of 9), ASCII or not (measured with the old automaton; RE2's charge is in policy/match.ts); at the
  // default policy's limits a quarter of that. Was 4 MiB and 1e9 steps: 20 s for one (issue 14 #7).
  intField(lm, 'limits', 'max_payload_chars', 256, MAX_LIMITS.max_payload_chars)
  intField(lm, 'limits', 'max_scan_steps', 10_000, MAX_LIMITS.max_scan_steps)

  return problems.length > 0 ? problems : { policy: p, patterns, warnings }
}

function describe (node: Node | null): string {
  if (isScalar(node)) return node.value === null ? 'null' : `${typeof node.value} ${JSON.stringify(node.value)}`
  if (isSeq(node)) return 'a list'
  if (isMap(node)) return 'a mapping'
  return 'nothing'
}
