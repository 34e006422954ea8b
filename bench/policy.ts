// Policy evaluation latency for `npm run bench`: the strictest shipped profile (most patterns), a
// realistic small payload, a fresh request id per call so nothing is memoised.
import { evaluate } from '../policy/evaluate.js'
import { loadProfile } from '../hub/trustgate/profiles.js'
import type { EvaluationContext } from '../policy/types.js'

export function benchEvaluate (n: number): { p50Us: number, p99Us: number, perSec: number } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`"n" expected a positive integer, got ${String(n)}`)
  const policy = loadProfile('ai_act_high_risk')
  const base: EvaluationContext = {
    agent_id: 'bench-agent', agent_name: 'bench', role: 'operator', action: 'write_db', vrs: 0.31, tsi_state: 'STABLE',
    timestamp: 1_700_000_000,
    payload: { table: 'orders', values: { id: 42, qty: 3, note: 'deliver to dock 4, after 18:00' }, user: 'ops', dry_run: false }
  }
  for (let i = 0; i < Math.min(n, 2000); i++) evaluate({ ...base, request_id: `warm-${i}` }, policy)
  const times = new Float64Array(n)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint()
    evaluate({ ...base, request_id: `req-${i}` }, policy)
    times[i] = Number(process.hrtime.bigint() - s) / 1000
  }
  const totalS = Number(process.hrtime.bigint() - t0) / 1e9
  times.sort()
  const at = (q: number): number => Math.round(times[Math.min(n - 1, Math.floor(q * n))]! * 10) / 10
  return { p50Us: at(0.5), p99Us: at(0.99), perSec: Math.round(n / totalS) }
}
