// The dangerous-pattern scan (trustgate.md §3 step 2) with a hard bound on its work. What is scanned:
// the payload's canonical JSON text (keys included, as the reference scanned a JSON dump, so patterns
// spanning structure keep working) AND every key and string value on its own, decoded — otherwise an
// escape hides content from the JSON text (`rm\t-rf` is the six characters `rm\\t-rf` there, and
// `rm\s+-rf` would not see it). Each of those texts is searched on its own, so no match spans two and
// `^`/`$` see each string's own ends. Bound: a scan text longer than limits.max_payload_chars, or a scan
// whose charge (match.ts) exceeds limits.max_scan_steps, stops and the caller blocks (fail closed).
import { firstMatch, patternList, ScanBudgetExceeded, type CompiledPattern } from './match.js'
import { Float } from '../runtime/value.js'
import type { JsonValue } from './types.js'

export type ScanResult =
  | { kind: 'clean' }
  | { kind: 'match', index: number, pattern: string }
  | { kind: 'too_large', chars: number, limit: number }
  | { kind: 'budget', limit: number }

/** Keys and string values of a JSON value, deduplicated, in canonical (sorted-key) order; no recursion. */
function stringsOf (value: JsonValue): string[] {
  const out = new Set<string>()
  const stack: JsonValue[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()!
    if (typeof v === 'string') out.add(v)
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]!)
    else if (v !== null && typeof v === 'object' && !(v instanceof Float)) {
      const keys = Object.keys(v).sort().reverse()
      for (const k of keys) { stack.push((v as Record<string, JsonValue>)[k]!); stack.push(k) }
    }
  }
  return [...out]
}

/** What JSON.stringify (so runtime/canonical.ts) escapes: the quote, the backslash, control characters. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/

export function scanPayload (payload: JsonValue, canonical: string, patterns: readonly CompiledPattern[], limits: { max_payload_chars: number, max_scan_steps: number }): ScanResult {
  if (patterns.length === 0) return { kind: 'clean' }
  if (canonical.length > limits.max_payload_chars) return { kind: 'too_large', chars: canonical.length, limit: limits.max_payload_chars }
  // A string JSON writes without escapes is in the canonical text as it is (see firstMatch).
  const texts = [canonical]; const verbatim: string[] = []
  for (const s of stringsOf(payload)) (NEEDS_ESCAPE.test(s) ? texts : verbatim).push(s)
  const budget = { remaining: limits.max_scan_steps }
  try {
    // Pattern order decides which one is reported, as the reference's first-match loop did.
    const i = firstMatch(patternList(patterns), texts, verbatim, budget)
    if (i >= 0) return { kind: 'match', index: i, pattern: patterns[i]!.source }
  } catch (err) {
    if (err instanceof ScanBudgetExceeded) return { kind: 'budget', limit: limits.max_scan_steps }
    throw err
  }
  return { kind: 'clean' }
}
