// The demo's hub: exactly what `pcp hub start` runs (startHubServices), on free ports (0) so it never
// collides with a broker on 1883 or a hub already running, with local-only HTTP APIs (no tokens, loopback
// only), manual approval of devices, and its data in the demo's temp directory.
//
// Policy: the shipped nist_balanced profile with ONE change, vrs_require_human 0.60 → 0.50. Why: Vigil
// puts an agent whose chain shows tampering (a bad signature, a broken link, a replay) at VRS ≥ 0.50
// (the ALERT floor, hub/vigil/chain-risk.ts), and a fork at ≥ 0.75 with TSI CRITICAL. Under nist_balanced
// the first stays below the human threshold and the second is blocked outright, so no event of a demo
// can make it ask a human. With 0.50, "Vigil says ALERT" means "a human must approve", which is the link
// between Vigil and TrustGate the demo shows.
import { join } from 'node:path'
import { startHubServices, type HubServices } from '../../hub/services.js'
import { loadProfile } from '../../hub/trustgate/profiles.js'

export const DEMO_POLICY_NAME = 'nist_balanced_demo'
export const DEMO_HUMAN_THRESHOLD = 0.5

/** nist_balanced with vrs_require_human lowered to 0.50 (see the header), as YAML text. */
export function demoPolicy (): string {
  const base = loadProfile('nist_balanced').text
  const edits: Array<[RegExp, string]> = [
    [/^name: nist_balanced$/m, `name: ${DEMO_POLICY_NAME}`],
    [/^ {2}vrs_require_human: 0\.60$/m, `  vrs_require_human: ${DEMO_HUMAN_THRESHOLD.toFixed(2)}`],
    [/^description: .*$/m, 'description: the demo policy, nist_balanced with human review from VRS 0.50 (Vigil ALERT)']
  ]
  let text = base
  for (const [re, to] of edits) {
    // The profile changed shape: better to fail here than run a demo whose policy is not what it says.
    if (!re.test(text)) throw new Error(`the nist_balanced profile no longer has a line matching ${re}; update scripts/demo/hub.ts`)
    text = text.replace(re, to)
  }
  return text
}

export async function startDemoHub (dataDir: string): Promise<HubServices> {
  const local = { host: '127.0.0.1', port: 0, localOnly: true }
  return await startHubServices({
    dataDir: join(dataDir, 'hub'),
    host: '127.0.0.1',
    port: 0,
    approval: 'manual',
    // One verify thread: a handful of events, and a 2-core machine also runs the devices.
    workers: 1,
    vigilApi: local,
    trustgateApi: local,
    initialPolicy: demoPolicy()
  })
}
