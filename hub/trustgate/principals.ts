// Who may answer a REQUIRE_HUMAN decision (trustgate.md §5). Clearance levels carry VRS ceilings: a
// principal may approve a decision whose VRS is at or below the ceiling of their level. The directory is
// the authority: the queue takes a principal id that the caller (HTTP API, CLI) has already bound to a
// credential — never a name typed into a request body (the reference's server did that: gaps.md #44).
export const CLEARANCES = ['L1', 'L2', 'L3'] as const
export type Clearance = typeof CLEARANCES[number]

/** Inclusive VRS ceilings, as the reference's human_principal.py. */
export const CLEARANCE_CEILING: Readonly<Record<Clearance, number>> = { L1: 0.75, L2: 0.90, L3: 1.0 }

export interface Principal {
  id: string
  name: string
  clearance: Clearance
  active: boolean
}

/** Looks a principal up by id. The hub backs this with its principal store; tests with a list. */
export interface PrincipalDirectory {
  get (id: string): Principal | undefined
}

export function clearanceRank (c: Clearance): number {
  const i = CLEARANCES.indexOf(c)
  if (i < 0) throw new RangeError(`"clearance" expected one of ${CLEARANCES.join(', ')}, got ${String(c)}`)
  return i
}

/** The lowest clearance whose ceiling covers `vrs` (a missing VRS needs the highest). */
export function requiredClearance (vrs: number | null): Clearance {
  if (vrs === null || !Number.isFinite(vrs)) return 'L3'
  return CLEARANCES.find((c) => vrs <= CLEARANCE_CEILING[c]) ?? 'L3'
}

/** The next level up, or null at the top: escalation past L3 has nowhere to go. */
export function nextClearance (c: Clearance): Clearance | null {
  return CLEARANCES[clearanceRank(c) + 1] ?? null
}

/** A directory over a fixed list, for tests and small deployments. */
export function staticDirectory (principals: Principal[]): PrincipalDirectory {
  const byId = new Map<string, Principal>()
  for (const p of principals) {
    if (typeof p?.id !== 'string' || p.id === '') throw new TypeError('"principals" expected objects with a non-empty id')
    clearanceRank(p.clearance)
    byId.set(p.id, Object.freeze({ ...p }))
  }
  return { get: (id) => byId.get(id) }
}
