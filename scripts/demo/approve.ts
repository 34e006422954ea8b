// The human in the loop, as a script: a principal (a person with a clearance level and their own
// secret token) watches TrustGate's pending decisions over its HTTP API and approves one. The token is
// what proves who approves (X-TrustGate-Principal); the API itself runs local-only in the demo, so no
// API token is needed on top. This is what an operator's tool or `pcp trustgate approve` does.
import type { TrustGateService } from '../../hub/trustgate/service.js'
import type { Clearance } from '../../hub/trustgate/principals.js'

export interface Approver { id: string, name: string, clearance: Clearance, token: string }

/** Creates the principal in the hub's principal store (the bootstrap path needs the hub's files). */
export async function createApprover (service: TrustGateService, name: string, clearance: Clearance): Promise<Approver> {
  const { principal, token } = await service.principals.create({ name, clearance, createdBy: 'demo', now: service.now() })
  return { id: principal.id, name: principal.name, clearance: principal.clearance, token }
}

export interface Approval {
  decisionId: string
  /** What the pending list showed the human before they approved. */
  pending: { action: string, outcome: string, reason: string, vrs: number | null, requiredClearance: string | null }
  status: number
  finalOutcome: string | null
  principalId: string | null
}

/** Waits for a pending decision of `agentId` to appear, then approves it as `who`. */
export async function approveNextPending (apiUrl: string, agentId: string, who: Approver, opts: { timeoutMs?: number, justification?: string } = {}): Promise<Approval> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  for (;;) {
    const res = await fetch(`${apiUrl}/api/decisions?agent_id=${encodeURIComponent(agentId)}`)
    if (!res.ok) throw new Error(`GET /api/decisions answered ${res.status}: ${await res.text()}`)
    const body = await res.json() as { decisions: Array<{ decision_id: string, action: string, outcome: string, reason: string, vrs: number | null, required_clearance: string | null }> }
    const d = body.decisions[0]
    if (d !== undefined) {
      const r = await fetch(`${apiUrl}/api/decisions/${encodeURIComponent(d.decision_id)}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-trustgate-principal': who.token },
        body: JSON.stringify({ justification: opts.justification ?? 'approved in the demo' })
      })
      const out = await r.json() as { final_outcome?: string, resolution?: { principal_id?: string } | null }
      return {
        decisionId: d.decision_id,
        pending: { action: d.action, outcome: d.outcome, reason: d.reason, vrs: d.vrs, requiredClearance: d.required_clearance },
        status: r.status,
        finalOutcome: out.final_outcome ?? null,
        principalId: out.resolution?.principal_id ?? null
      }
    }
    if (Date.now() > deadline) throw new Error(`no pending decision for ${agentId} within ${opts.timeoutMs ?? 10_000} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
