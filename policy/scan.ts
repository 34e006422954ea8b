// The dangerous-pattern scan (trustgate.md §3 step 2) with a hard bound on its work. What is scanned:
// the payload's canonical JSON text (keys included, as the reference scanned a JSON dump, so patterns
// spanning structure keep working) AND every key and string value on its own, decoded — otherwise an
// escape hides content from the JSON text (`rm\t-rf` is the six characters `rm\\t-rf` there, and
// `rm\s+-rf` would not see it). Bound: a scan text longer than limits.max_payload_chars, or a scan
// that spends limits.max_scan_steps automaton steps, stops and the caller blocks (fail closed).
import { search, toCodePoints, ScanBudgetExceeded, SEPARATOR, type CompiledPattern } from './nfa.js'
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

export function scanPayload (payload: JsonValue, canonical: string, patterns: readonly CompiledPattern[], limits: { max_payload_chars: number, max_scan_steps: number }): ScanResult {
  if (patterns.length === 0) return { kind: 'clean' }
  if (canonical.length > limits.max_payload_chars) return { kind: 'too_large', chars: canonical.length, limit: limits.max_payload_chars }
  const text = toCodePoints(canonical)
  for (const s of stringsOf(payload)) {
    text.push(SEPARATOR)
    for (const c of s) text.push(c.codePointAt(0)!)
  }
  const budget = { remaining: limits.max_scan_steps }
  try {
    // Pattern order decides which one is reported, as the reference's first-match loop did.
    for (let i = 0; i < patterns.length; i++) {
      if (search(patterns[i]!, text, budget)) return { kind: 'match', index: i, pattern: patterns[i]!.source }
    }
  } catch (err) {
    if (err instanceof ScanBudgetExceeded) return { kind: 'budget', limit: limits.max_scan_steps }
    throw err
  }
  return { kind: 'clean' }
}
