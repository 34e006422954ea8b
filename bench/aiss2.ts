// AISS-2 cost (issue 21): ML-DSA-65 sign/verify per event next to Ed25519, bytes per event in the device
// store record (which is also what one event adds to a sync message) for AISS-1 and AISS-2, the durable
// stamp rate of an Agent, and the ingest rate of a real hub (verify worker, embedded broker, MQTT).
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { Agent, Identity, stampEvent, encodeRecord, signingBytes, nodeCrypto, nobleMlDsa, type AissEvent } from '../runtime/aiss2-entry.js'
import { startHubServices } from '../hub/services.js'
import { SyncAgent } from '../sync/agent.js'

export interface Aiss2Costs {
  ed25519SignUs: number, ed25519VerifyUs: number, mldsaSignUs: number, mldsaVerifyUs: number
  recordBytes: { aiss1: number, aiss2: number }, jsonBytes: { aiss1: number, aiss2: number }
  stampPerSec: { aiss1: number, aiss2: number }, ingestPerSec: { aiss1: number, aiss2: number }
}

function perOpUs (n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(5, n); i++) fn()
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  return Number(process.hrtime.bigint() - t) / 1000 / n
}

async function stampRate (profile: 'AISS-1.0' | 'AISS-2.0', n: number): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'pcp-bench-aiss2-'))
  try {
    const agent = await Agent.open({ name: 'b' }, { home })
    if (profile === 'AISS-2.0') await agent.upgradeProfile()
    const t = performance.now()
    // Awaited one by one: a robot's command path, each stamp durable before the next.
    for (let i = 0; i < n; i++) await agent.stamp('actuator_command', { i, arm: 3, pos: [0.1, 0.2, 0.3] })
    const rate = n / ((performance.now() - t) / 1000)
    await agent.close()
    return rate
  } finally { rmSync(home, { recursive: true, force: true }) }
}

async function ingestRate (profile: 'AISS-1.0' | 'AISS-2.0', n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'pcp-bench-aiss2-hub-'))
  const s = await startHubServices({ dataDir: join(dir, 'hub'), port: 0, approval: 'auto', workers: 1, control: false, vigilApi: false, trustgateApi: false })
  const agent = await Agent.open({ name: 'b' }, { home: join(dir, 'dev') })
  try {
    if (profile === 'AISS-2.0') await agent.upgradeProfile()
    const all: Array<Promise<AissEvent>> = []
    for (let i = 0; i < n; i++) all.push(agent.stamp('actuator_command', { i, arm: 3 }))
    await Promise.all(all)
    const t = performance.now()
    const sync = await SyncAgent.start({ url: s.hub.mqttUrl, agents: [agent], statusFile: false })
    await sync.flush(600_000)
    const rate = (n + (profile === 'AISS-2.0' ? 1 : 0)) / ((performance.now() - t) / 1000)
    await sync.close()
    return rate
  } finally { await agent.close(); await s.close(); rmSync(dir, { recursive: true, force: true }) }
}

export async function benchAiss2 (quick: boolean): Promise<Aiss2Costs> {
  const n = quick ? 50 : 200
  const id = Identity.fromSeed(nodeCrypto.randomBytes(32), { pqSeed: nodeCrypto.randomBytes(32) })
  const payload = { event_type: 'actuator_command', i: 1, arm: 3, pos: [0.1, 0.2, 0.3] }
  const a1 = stampEvent(id, payload, { previousHash: id.genesisHash() }).event
  const a2 = stampEvent(id, payload, { previousHash: id.genesisHash(), profile: 'AISS-2.0' }).event
  const bytes = signingBytes(a2)
  const edSig = id.sign(bytes); const pqSig = id.signPq(bytes)
  const pqKey = nobleMlDsa.signingKey(nodeCrypto.randomBytes(32))
  return {
    ed25519SignUs: perOpUs(n * 10, () => id.sign(bytes)),
    ed25519VerifyUs: perOpUs(n * 10, () => nodeCrypto.verify(edSig, bytes, id.publicKey)),
    mldsaSignUs: perOpUs(n, () => pqKey.sign(bytes)),
    mldsaVerifyUs: perOpUs(n, () => nobleMlDsa.verify(pqSig, bytes, id.publicKeyPq!)),
    recordBytes: { aiss1: encodeRecord(a1, 0).length, aiss2: encodeRecord(a2, 0).length },
    jsonBytes: { aiss1: JSON.stringify(a1).length, aiss2: JSON.stringify(a2).length },
    stampPerSec: { aiss1: await stampRate('AISS-1.0', n), aiss2: await stampRate('AISS-2.0', n) },
    ingestPerSec: { aiss1: await ingestRate('AISS-1.0', n * 5), aiss2: await ingestRate('AISS-2.0', n * 5) }
  }
}
