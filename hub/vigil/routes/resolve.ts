// Turns a URL's agent reference into a registered chain (gaps.md #58). The segment is only ever
// compared with the chain view's own ids and names, after validation: it never reaches a path.
import { checkAgentName, isAgentId, PcpError } from '../../../runtime/index.js'
import type { AgentChainStatus, ChainView } from '../../chain-view.js'
import { httpError } from './context.js'

export const AGENT_REF_INVALID = 'AGENT_REF_INVALID'
export const AGENT_NOT_FOUND = 'AGENT_NOT_FOUND'

/** A Base58 agent_id (current or first identity) or a registered name. 400 if malformed, 404 if unknown. */
export function resolveAgent (chain: ChainView, ref: unknown): AgentChainStatus {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 64) {
    throw httpError(400, AGENT_REF_INVALID, 'agent reference expected an agent_id or a registered name of 1-64 characters')
  }
  if (isAgentId(ref)) {
    const direct = chain.status(ref)
    if (direct !== undefined) return direct
    const rotated = chain.agents().find((a) => a.currentAgentId === ref)
    if (rotated !== undefined) return rotated
  }
  try {
    checkAgentName(ref)
  } catch (err) {
    if (err instanceof PcpError) throw httpError(400, AGENT_REF_INVALID, err.message)
    throw err
  }
  const named = chain.agents().find((a) => a.name === ref)
  if (named === undefined) throw httpError(404, AGENT_NOT_FOUND, `no agent ${JSON.stringify(ref)} is registered with this hub`)
  return named
}
