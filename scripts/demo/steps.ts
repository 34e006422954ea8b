// The demo's steps, in order. Each prints what happened and checks it; `Demo` holds what the steps
// share and what must be closed at the end. Everything runs in this one process, on 127.0.0.1.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent, eventHash, parseJson, verifyAuditExport } from '../../runtime/index.js'
import type { HubServices } from '../../hub/services.js'
import { SyncAgent } from '../../sync/agent.js'
import { DeviceGate, type GateVerdict } from '../../sync/gate.js'
import { type Reporter, secs } from './report.js'
import { startDemoHub, DEMO_POLICY_NAME, DEMO_HUMAN_THRESHOLD } from './hub.js'
import { startRobot } from './robot.js'
import { startPi, type PiRun } from './pi.js'
import { vigilSummary, vigilTable } from './vigil.js'
import { tamperWithExport, offerToVigil, cloneSigns } from './tamper.js'
import { createApprover, approveNextPending } from './approve.js'

export const RUN_MS = 2500
export const TOTAL_STEPS = 10

export interface Demo {
  rep: Reporter
  dataDir: string
  summary: Record<string, unknown>
  services?: HubServices
  robot?: Agent
  pi?: Agent
  sync?: SyncAgent
  gates: DeviceGate[]
  piRun?: PiRun
}

type Verdicts = { allowed: GateVerdict, blocked: GateVerdict, human?: GateVerdict, forkBlocked?: GateVerdict }
const verdictView = (v: GateVerdict): Record<string, unknown> => ({
  action: v.event.payload.action, outcome: v.outcome, allowed: v.allowed, state: v.state, rule: v.rule, source: v.source, reason: v.reason, decisionId: v.decisionId
})

export async function runSteps (d: Demo): Promise<void> {
  const { rep, summary } = d
  const s = await rep.step('Hub: embedded MQTT broker, ingest, Vigil, TrustGate', async () => {
    const s = d.services = await startDemoHub(d.dataDir)
    summary.urls = { mqtt: s.hub.mqttUrl, vigil: s.vigilUrl, dashboard: `${s.vigilUrl}/dashboard/`, trustgate: s.trustgateUrl }
    summary.policy = { name: DEMO_POLICY_NAME, humanThreshold: DEMO_HUMAN_THRESHOLD, version: s.trustgate.policy?.versionId }
    summary.hubAgentId = s.hub.agent.agentId
    rep.line(`${s.hub.mqttUrl} · policy ${DEMO_POLICY_NAME} (nist_balanced; a human approves from VRS ${DEMO_HUMAN_THRESHOLD.toFixed(2)})`)
    return s
  })
  const hub = s.hub

  await rep.step('Device identities (Ed25519), approved by the hub', async () => {
    const home = join(d.dataDir, 'devices')
    d.robot = await Agent.open({ name: 'patrol-robot' }, { home })
    d.pi = await Agent.open({ name: 'pi-sensor' }, { home })
    for (const a of [d.robot, d.pi]) {
      // What `pcp hub approve <id> --role trusted` does: the role its gate requests are decided under.
      await hub.approve(a.agentId, { name: a.name, role: 'trusted' })
      rep.line(`${a.name.padEnd(13)} ${a.agentId}`)
    }
    d.sync = await SyncAgent.start({ url: hub.mqttUrl, agents: [d.robot, d.pi], protocolVersion: 4 })
    for (const a of [d.robot, d.pi]) {
      d.gates.push(await DeviceGate.open({ client: d.sync.client, agent: a, hub: hub.agent.identityDocument() }))
    }
  })
  const [robotGate, piGate] = d.gates as [DeviceGate, DeviceGate]
  const robot = d.robot!; const pi = d.pi!; const sync = d.sync!

  await rep.step(`Simulated devices run for ${secs(RUN_MS)}, syncing as they go`, async () => {
    const ros = await startRobot(robot)
    d.piRun = await startPi(pi, piGate)
    await new Promise((resolve) => setTimeout(resolve, RUN_MS))
    const r = await ros.stop()
    const p = await d.piRun.stopSampling()
    const temps = d.piRun.readings()
    rep.line(`patrol-robot  SIMULATED (ROS 2 stand-in): patrol_robot node, ${r.scans} laser scans, ${r.enableCalls} service call`)
    rep.line(`pi-sensor     SIMULATED Pi / GPIO simulator: ${p.readings} readings ${temps[0]} → ${temps.at(-1)} °C, fan relay on BCM 14`)
    summary.simulation = { robot: { binding: ros.binding, notice: ros.standinNotice, ...r }, pi: { ...p, firstTemp: temps[0], lastTemp: temps.at(-1) } }
    const piEvents = pi.head === null ? 0 : pi.head.seq + 1
    rep.check('devices-ran', r.stamped > 5 && r.scans > 5 && p.readings > 3 && ros.binding === 'standin', `every action signed into the device's chain: ${r.stamped} + ${piEvents} events`)
  })

  await rep.step('Sync: the hub verifies every event it receives', async () => {
    await sync.flush(10_000)
    const r = synced(d, 'syncedBefore', true)
    rep.check('synced', r.ok, `${r.text} events at the hub, verified; hub head = device head`)
  })

  await rep.step("Vigil's view (GET /api/summary)", async () => {
    const v = await vigilSummary(s.vigilUrl!)
    for (const l of vigilTable(v.rows)) rep.line(l)
    summary.vigil = v.rows
    rep.check('vigil', v.rows.length === 2 && v.rows.every((r) => r.state === 'SAFE'), `installation ${v.installationState}: both devices scored SAFE`)
  })

  const verdicts = await rep.step('TrustGate: the devices ask before acting (over MQTT)', async () => {
    const allowed = await d.piRun!.fanOn()
    const blocked = await robotGate.check('shell', { cmd: 'rm -rf /var/log/robot' }, { role: 'trusted' })
    rep.check('allowed', allowed.allowed && allowed.outcome === 'ALLOW' && allowed.source === 'hub',
      `${allowed.outcome.padEnd(5)} pi-sensor     actuator_fan on: ${brief(allowed.reason)} → ${allowed.allowed ? 'relay switched on' : 'relay untouched'}`)
    rep.check('blocked', !blocked.allowed && blocked.outcome === 'BLOCK' && blocked.rule === 'dangerous_pattern',
      `${blocked.outcome.padEnd(5)} patrol-robot  shell "rm -rf /var/log/robot": ${brief(blocked.reason)}`)
    return { allowed, blocked } as Verdicts
  })

  const vrsBefore = hub.vigil?.vrs(robot.agentId)?.vrs ?? null
  await rep.step('Tamper with an exported event, then verify it', async () => {
    const dir = join(d.dataDir, 'exports')
    await mkdir(dir, { recursive: true })
    const t = await tamperWithExport(robot, dir, 'patrol-robot')
    const e = t.edit
    rep.check('export-valid', t.original.valid, `exports/patrol-robot.audit.json: ${t.original.eventCount} events, valid`)
    rep.line(`edited event ${e.index} (${e.eventType}${t.event.payload.topic ? ` of ${String(t.event.payload.topic)}` : ''}): ${e.field} ${e.before} → ${e.after}, saved as patrol-robot.tampered.json`)
    const first = t.tampered.firstError
    const found = !t.tampered.valid && first?.index === e.index
    rep.check('tamper-found', found, first === null
      ? `pcp verify: the tampered file verifies as valid: the edit went unnoticed`
      : `pcp verify: INVALID, ${first.code} at event ${first.index}: ${found ? 'the event we edited' : `not event ${e.index}, the one we edited`}` +
        (t.tampered.errorCount > 1 ? ` (+${t.tampered.errorCount - 1} follow-on errors)` : ''))
    // The edited event is no longer the robot's signature: whoever sends it, it says nothing about the robot.
    const f = await offerToVigil(s.vigilUrl!, robot.agentId, t.event)
    rep.check('forged-unscored', f.status === 422 && f.vrs === vrsBefore,
      `sent to the hub (Vigil's record API): refused, ${f.code}, not the robot's signature; robot VRS stays ${f.vrs?.toFixed(2)} ${f.state}`)
    // A copy of the robot's KEY is another matter: what it signs is the robot's, and a broken chain is risk.
    const unlinked = await cloneSigns(join(d.dataDir, 'devices'), 'patrol-robot', robot, 'unlinked')
    const v = await offerToVigil(s.vigilUrl!, robot.agentId, unlinked)
    rep.check('vigil-refused', v.status === 422 && v.vrs !== null && v.vrs >= DEMO_HUMAN_THRESHOLD,
      `a copy of the robot's key with a damaged store signs an event linked to nothing: refused, ${v.code}; robot VRS ${vrsBefore?.toFixed(2)} → ${v.vrs?.toFixed(2)} ${v.state}`)
    summary.tamper = { exportFile: t.exportFile, tamperedFile: t.tamperedFile, edit: e, original: t.original, tampered: t.tampered, forged: f, vigil: { ...v, vrsBefore } }
  })

  await rep.step('TrustGate again: the robot is risky now, a human decides', async () => {
    const alice = await createApprover(s.trustgate, 'alice', 'L2')
    const asked = robotGate.check('move_arm', { joint: 2, angle_deg: 45 }, { role: 'trusted', approvalWaitMs: 10_000 })
    const a = await approveNextPending(s.trustgateUrl!, robot.agentId, alice)
    const human = await asked
    rep.line(`patrol-robot  move_arm → ${a.pending.outcome}: ${brief(a.pending.reason)}; the robot waits`)
    rep.check('human', a.pending.outcome === 'REQUIRE_HUMAN' && human.rule === 'vrs_require_human' &&
      human.allowed && human.state === 'APPROVED' && a.principalId === alice.id && human.decisionId === a.decisionId,
      `${human.outcome.padEnd(5)} approved by ${alice.name} (${alice.clearance}, ${alice.id}) through the TrustGate API`)
    verdicts.human = human
    summary.approval = { principal: { id: alice.id, name: alice.name, clearance: alice.clearance }, pending: a.pending, status: a.status }
  })

  await rep.step('A forked history: CRITICAL, and TrustGate blocks without asking', async () => {
    // A restored backup of the robot continues from an older event: two histories under one key.
    const stale = await cloneSigns(join(d.dataDir, 'devices'), 'patrol-robot', robot, 'stale')
    const v = await offerToVigil(s.vigilUrl!, robot.agentId, stale)
    rep.check('fork-critical', v.status === 422 && v.code === 'FORK_DETECTED' && v.state === 'CRITICAL',
      `a restored copy of the robot signs an event after an old one: refused, ${v.code}; robot VRS ${v.vrs?.toFixed(2)} ${v.state}`)
    const blocked = await robotGate.check('move_arm', { joint: 2, angle_deg: 45 }, { role: 'trusted' })
    // Vigil's view of a forked agent blocks it: its VRS (vrs_block) or its temporal state (tsi_critical).
    rep.check('fork-blocked', !blocked.allowed && blocked.outcome === 'BLOCK' && (blocked.rule === 'vrs_block' || blocked.rule === 'tsi_critical'),
      `${blocked.outcome.padEnd(5)} patrol-robot  move_arm: ${brief(blocked.reason)}; no human is asked`)
    verdicts.forkBlocked = blocked
    summary.fork = v
  })
  summary.gate = { allowed: verdictView(verdicts.allowed), blocked: verdictView(verdicts.blocked), human: verdicts.human ? verdictView(verdicts.human) : null, forkBlocked: verdicts.forkBlocked ? verdictView(verdicts.forkBlocked) : null }

  await rep.step('Everything is on record', async () => {
    await d.piRun!.shutdown()
    await sync.flush(10_000)
    const journal = await s.trustgate.journalEvents()
    const byId = new Map(journal.filter((e) => e.payload.event_type === 'trustgate.decision').map((e) => [(e.payload.decision as { decision_id: string }).decision_id, e]))
    const all = [verdicts.allowed, verdicts.blocked, verdicts.human, verdicts.forkBlocked].filter((v): v is GateVerdict => v !== undefined)
    const linked = all.filter((v) => v.event.payload.event_type === 'gate_decision' && v.hubEventHash !== null && byId.has(v.decisionId) && eventHash(byId.get(v.decisionId)!) === v.hubEventHash)
    rep.check('decisions-linked', linked.length === 4, `${linked.length} gate decisions in the devices' chains, each naming the hub's signed journal event`)
    const valid = (await hub.agent.verify()).valid
    const types = new Set(journal.map((e) => String(e.payload.event_type)))
    rep.check('journal', valid && ['trustgate.decision', 'trustgate.pending', 'trustgate.approved'].every((t) => types.has(t)),
      `hub journal: ${journal.length} signed events (policy, decisions, the pending request, the approval), valid`)
    const r = synced(d, 'syncedAfter')
    rep.check('synced-final', r.ok, `final sync: ${r.text} events at the hub`)
    const chains = []
    for (const a of [robot, pi]) chains.push({ ...hub.chain.status(a.agentId)!, storedChainValid: await storedChainValid(d, a.agentId) })
    summary.hubChains = chains
    summary.journal = { events: journal.length, valid, types: [...types] }
    rep.check('stored-valid', chains.every((c) => c.storedChainValid), "the hub's stored chains verify: refused events were never stored")
  })
}

/** Device head = hub head for each device; records the counts in the summary. */
function synced (d: Demo, key: string, mustBeClean = false): { ok: boolean, text: string } {
  const hub = d.services!.hub
  const rows = [d.robot!, d.pi!].map((a) => {
    const st = hub.chain.status(a.agentId)
    const stamped = a.head === null ? 0 : a.head.seq + 1
    return { name: a.name, agentId: a.agentId, stamped, atHub: st?.eventCount ?? 0, headMatches: st?.headHash === (a.head?.hash ?? null), verification: st?.verification ?? null }
  })
  d.summary[key] = rows
  return {
    ok: rows.every((r) => r.stamped > 0 && r.atHub === r.stamped && r.headMatches && (!mustBeClean || r.verification === 'valid')),
    text: rows.map((r) => `${r.name} ${r.atHub}/${r.stamped}`).join(', ')
  }
}

/** A policy reason without its framework references ("[ANSSI R25 / NIST MAP 5.1]"): they are in --json. */
function brief (reason: string): string { return reason.replace(/ \[[^\]]*\]/g, '') }

/** The hub's copy of a chain, exported and verified like any audit file. */
async function storedChainValid (d: Demo, agentId: string): Promise<boolean> {
  const chunks = await d.services!.hub.chain.exportChain(agentId)
  if (chunks === undefined) return false
  let text = ''
  for await (const c of chunks) text += c
  const v = verifyAuditExport(parseJson(text))
  return v.usable && v.report.valid
}
