// Vigil's view of the fleet, read the way the dashboard reads it: GET /api/summary on the Vigil API.
export interface VigilRow { agentId: string, name: string, events: number, vrs: number | null, state: string | null, verification: string | null }

export async function vigilSummary (vigilUrl: string): Promise<{ installationState: string, rows: VigilRow[] }> {
  const res = await fetch(`${vigilUrl}/api/summary`)
  if (!res.ok) throw new Error(`GET /api/summary answered ${res.status}: ${await res.text()}`)
  const s = await res.json() as {
    installationState: string
    agents: Array<{ agentId: string, name: string, vrs: number | null, state?: string, chain: { eventCount: number, verification: string } | null }>
  }
  return {
    installationState: s.installationState,
    rows: s.agents.sort((a, b) => a.name.localeCompare(b.name)).map((a) => ({
      agentId: a.agentId, name: a.name, events: a.chain?.eventCount ?? 0, vrs: a.vrs, state: a.state ?? null, verification: a.chain?.verification ?? null
    }))
  }
}

/** A compact table: agent, events, VRS, state, and the hub's verdict on the chain. */
export function vigilTable (rows: VigilRow[]): string[] {
  const w = Math.max(5, ...rows.map((r) => r.name.length))
  const row = (name: string, events: string, vrs: string, state: string, chain: string): string =>
    `${name.padEnd(w)}  ${events.padStart(6)}  ${vrs.padStart(5)}  ${state.padEnd(8)}  ${chain}`
  return [
    row('agent', 'events', 'VRS', 'state', 'chain'),
    ...rows.map((r) => row(r.name, String(r.events), r.vrs === null ? '-' : r.vrs.toFixed(2), r.state ?? '-', r.verification ?? '-'))
  ]
}
