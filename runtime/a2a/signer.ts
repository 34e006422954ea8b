// The handshake messages are signed with the agent's own key, which Agent keeps private (it only
// stamps). Until Agent exposes a signer, this loads the same key from the agent's directory and checks
// it is the one the chain is being stamped with. Node-only (file I/O).
import { join } from 'node:path'
import { loadAgentIdentity } from '../home.js'
import { PcpError, ErrorCodes } from '../errors.js'
import type { Identity } from '../identity.js'
import type { Agent } from '../agent.js'

/** The Identity of `agent` (call destroy() when done). Passphrase defaults to $PCP_PASSPHRASE. */
export async function loadAgentSigner (agent: Agent, opts: { passphrase?: string, scryptN?: number } = {}): Promise<Identity> {
  const home = join(agent.dir, '..', '..')
  const identity = await loadAgentIdentity(home, agent.name, opts)
  if (identity.agentId !== agent.agentId) {
    identity.destroy()
    throw new PcpError(ErrorCodes.IDENTITY_INVALID, `agent "${agent.name}": the key on disk is ${identity.agentId}, the open agent stamps as ${agent.agentId}`,
      { agent: agent.name, expected: agent.agentId, actual: identity.agentId })
  }
  return identity
}
