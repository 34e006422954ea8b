// The QoS profile of an entity, recorded in its *_created event: an auditor who sees gaps in a
// best-effort (or KEEP_LAST depth 1) topic knows that loss was allowed by design, not tampering.
// rclnodejs keeps the profile as given in entity.options.qos (Node._validateOptions defaults it to the
// profile name 'qos_profile_default'): either a profile name or a QoS object (lib/qos.js).
import type { Payload } from './auditor.js'

/** rmw enums (rclnodejs QoS.HistoryPolicy / ReliabilityPolicy / DurabilityPolicy). */
const HISTORY = ['system_default', 'keep_last', 'keep_all']
const RELIABILITY = ['system_default', 'reliable', 'best_effort']
const DURABILITY = ['system_default', 'transient_local', 'volatile']

const named = (table: string[], v: unknown): string | number | undefined =>
  typeof v === 'number' ? table[v] ?? v : typeof v === 'string' ? v : undefined

/** { qos: {...} } for an entity (anything with .qos or .options.qos), or {} when it has none. */
export function qosFields (entity: unknown): Payload {
  const e = entity as { qos?: unknown, options?: { qos?: unknown } } | undefined
  let q: unknown
  try { q = e?.qos ?? e?.options?.qos } catch { q = e?.options?.qos }
  if (q === undefined || q === null) return {}
  if (typeof q === 'string') return { qos: { profile: q } }
  if (typeof q !== 'object') return {}
  const o = q as { history?: unknown, depth?: unknown, reliability?: unknown, durability?: unknown, avoidRosNameSpaceConventions?: unknown }
  const out: Payload = {}
  const h = named(HISTORY, o.history); if (h !== undefined) out.history = h
  if (typeof o.depth === 'number') out.depth = o.depth
  const r = named(RELIABILITY, o.reliability); if (r !== undefined) out.reliability = r
  const d = named(DURABILITY, o.durability); if (d !== undefined) out.durability = d
  return { qos: out }
}
