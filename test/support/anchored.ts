// Chains with RFC 3161 anchors for the finality tests (test/tsa-cli.test.ts, test/hub-finality.test.ts):
// `n` events stamped into the agent "bot" of `home`, anchored every 5 events by the loopback TSA when
// `anchor` is set. A home copied before or after such a run continues differently: two histories.
import { Agent } from '../../runtime/index.js'
import { Anchorer } from '../../runtime/anchor/anchorer.js'
import { parseTrustRoots } from '../../runtime/tsa/trust.js'
import type { LoopbackTsa } from './openssl-tsa.js'

export async function stampN (tsa: LoopbackTsa, home: string, n: number, tag: string, anchor: boolean): Promise<void> {
  const agent = await Agent.open({ name: 'bot' }, { home })
  const anchorer = anchor ? await Anchorer.start(agent, { tsaUrl: tsa.url, trustRoots: parseTrustRoots(tsa.root.pem), everyEvents: 5, everySeconds: 3600 }) : undefined
  for (let i = 0; i < n; i++) await agent.stamp('step', { tag, i })
  await anchorer?.flush(); await anchorer?.close()
  await agent.close()
}
