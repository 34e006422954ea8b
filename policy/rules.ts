// Role/tool and network matching (trustgate.md §2, §3 step 5), with the semantics we chose where the
// reference is wrong or silent:
//  - `*` is a glob anywhere in an entry (`read_*`), not only the bare `*` of the reference.
//  - The most specific entry wins: an exact name beats a glob; between entries of equal specificity,
//    blocked beats allowed; nothing matching → blocked (least privilege). So `blocked_tools: ["*"]` means
//    "everything not explicitly allowed is blocked", as TRUSTGATE_POLICY.md documents — the reference's
//    code blocked the explicitly allowed tools too, making allowed_tools dead (gaps.md #49).
//  - allowed_domains entries match case-insensitively, a trailing dot ignored; `*.example.com` matches
//    subdomains (not example.com itself). The reference compared exact strings only.
import type { RolePolicy } from './types.js'

/** Linear-time glob match where `*` matches any run of characters (greedy with one backtrack point). */
export function globMatch (pattern: string, name: string): boolean {
  let p = 0; let n = 0; let star = -1; let mark = 0
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) { p++; n++ } else if (p < pattern.length && pattern[p] === '*') { star = p++; mark = n } else if (star >= 0) { p = star + 1; n = ++mark } else return false
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

export interface ToolVerdict { allowed: boolean, entry: string | null }

/** Decides whether `role` may use `tool`; `entry` is the policy entry that decided (null: nothing matched). */
export function toolVerdict (role: RolePolicy, tool: string): ToolVerdict {
  if (role.blocked_tools.includes(tool)) return { allowed: false, entry: tool }
  if (role.allowed_tools.includes(tool)) return { allowed: true, entry: tool }
  // Among globs, the longer literal part is the more specific; a tie goes to blocking.
  let best: ToolVerdict = { allowed: false, entry: null }
  let bestScore = -1
  const consider = (entries: string[], allowed: boolean): void => {
    for (const e of entries) {
      if (!e.includes('*') || !globMatch(e, tool)) continue
      const score = e.replaceAll('*', '').length
      if (score > bestScore || (score === bestScore && !allowed && best.allowed)) { best = { allowed, entry: e }; bestScore = score }
    }
  }
  consider(role.blocked_tools, false)
  consider(role.allowed_tools, true)
  return best
}

export function normaliseDomain (domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '')
}

/** The allowed_domains entry that admits `domain`, or null. Entries are already lower-case (schema.ts). */
export function domainAllowedBy (allowed: readonly string[], domain: string): string | null {
  const d = normaliseDomain(domain)
  for (const entry of allowed) {
    if (entry.startsWith('*.')) { if (d.endsWith(entry.slice(1)) && d.length > entry.length - 1) return entry } else if (d === entry) return entry
  }
  return null
}
