// AgentSession with real Agents on a temp home, its export, verifySessionExport and `pcp session-verify`
// (run as a child process for its exit codes).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseJson, stringifyJson, hashValue, type AissEvent, type PcpError } from '../runtime/index.js'
import { AgentSession } from '../runtime/a2a/session.js'
import { verifySessionExport } from '../runtime/a2a/session-verify.js'
import { autoHashPayload, interactionHash, interactionContent } from '../runtime/a2a/interaction.js'
import { tmpDir } from './helpers.js'
import { openAgents as open, sessionCli as cli } from './a2a-helpers.js'

const S = suite('a2a AgentSession and session-verify')

S('auto-hash rule: *_hash, *_id, session_id raw; other keys renamed and hashed as canonical JSON', () => {
  const out = autoHashPayload({ task: 'x', n: 3, ref_id: 'R1', doc_hash: 'abc', nested: { a: 1, b: [1, 'x', null, true] } })
  assert.equal(Object.keys(out), ['task_hash', 'n_hash', 'ref_id', 'doc_hash', 'nested_hash'])
  assert.is(out.task_hash, hashValue('x'))
  assert.is(out.n_hash, '4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce') // sha256("3")
  assert.is(out.nested_hash, hashValue({ a: 1, b: [1, 'x', null, true] }))
  assert.throws(() => autoHashPayload({ x: 1, x_hash: 'h' }), /collides/)
  assert.throws(() => autoHashPayload({ interaction_hash: 'forged' }), /reserved/)
  assert.throws(() => autoHashPayload({ session_id: 'other' }, { sessionId: 'mine' }), /session_id/)
})

S('interaction_hash recipe is reproducible from the recorded fields alone', () => {
  const content = { cmd_hash: hashValue('go') }
  const k = { sessionId: 's', eventType: 'cmd', initiator: 'A', responder: 'B', interactionId: 'i', payloadHash: hashValue(content) }
  // The documented recipe, spelled out: canonical JSON, keys sorted, no time.
  const text = `{"event_type":"cmd","initiator":"A","interaction_id":"i","payload_hash":"${hashValue(content)}","responder":"B","session_id":"s"}`
  assert.is(interactionHash(k), createHash('sha256').update(text).digest('hex'))
})

S('three agents: start, pairwise handshakes, interactions with mirrors, end, summary, export, session-verify', async () => {
  const tmp = tmpDir()
  try {
    const [a, b, c] = await open(tmp.path, ['planner', 'arm', 'camera'])
    const session = await AgentSession.create([{ name: 'planner', agent: a! }, { name: 'arm', agent: b! }, { name: 'camera', agent: c! }])
    assert.match(session.sessionId, /^sess_[0-9a-f]{16}$/)
    assert.is(await (async () => { try { await session.stamp('planner', 'x'); return 'ok' } catch (e) { return (e as PcpError).code } })(), 'SESSION_STATE')
    const hs = await session.start()
    assert.is(hs.length, 3)
    const cmd = await session.stamp('planner', 'pick', { object: 'bolt-7', grip_force: 12.5, order_id: 'O-1' }, { peer: 'arm' })
    await session.stamp('arm', 'frame_request', { roi: [0, 0, 64, 64] }, { peer: 'camera' })
    await session.stamp('camera', 'calibrated', { error_px: 0.4 })
    const mirror = (await b!.search({ eventType: 'pick_received' }))[0]!
    assert.is(mirror.payload.interaction_hash, cmd.payload.interaction_hash)
    assert.is(mirror.payload.order_id, 'O-1')
    assert.is(mirror.payload.object_hash, hashValue('bolt-7'))
    assert.equal(interactionContent(mirror.payload), interactionContent(cmd.payload))
    const summary = await session.end()
    assert.is(summary.agent_count, 3)
    assert.is(summary.handshake_count, 3)
    assert.is(summary.interaction_count, 2)
    // per agent: start, 2 handshakes, end + planner 1 pick; arm 1 mirror + 1 request; camera 1 mirror + 1 own
    assert.equal(Object.values(summary.agents).map((x) => x.event_count), [5, 6, 6])
    assert.is(summary.total_events, 17)
    for (const ag of [a!, b!, c!]) assert.ok((await ag.verify()).valid)
    const file = join(tmp.path, 'session.json')
    await session.export(file)
    const res = verifySessionExport(parseJson(readFileSync(file, 'utf8')))
    assert.ok(res.usable && res.report.valid, JSON.stringify(res))
    if (res.usable) { assert.is(res.report.handshakes, 3); assert.is(res.report.interactions, 2); assert.equal(res.report.warnings, []) }
    const ok = cli(['session-verify', file])
    assert.is(ok.code, 0, ok.out + ok.err)
    assert.match(ok.out, /VALID/)
    const json = cli(['session-verify', file, '--json'])
    assert.is(json.code, 0)
    assert.is(JSON.parse(json.out).interactions, 2)

    // A byte edited in a mirror: the arm's chain breaks and the pair no longer matches.
    const doc = parseJson(readFileSync(file, 'utf8')) as any
    const ev = doc.agents.arm.events.find((e: AissEvent) => e.payload.event_type === 'pick_received')
    ev.payload.order_id = 'O-2'
    const bad = join(tmp.path, 'edited.json')
    writeFileSync(bad, stringifyJson(doc, 2))
    const r = cli(['session-verify', bad, '--json'])
    assert.is(r.code, 1, r.out + r.err)
    const codes = JSON.parse(r.out).problems.map((p: { code: string }) => p.code)
    assert.ok(codes.includes('SIGNATURE_INVALID') && codes.includes('A2A_INTERACTION_MISMATCH'), codes.join())
    writeFileSync(join(tmp.path, 'not.json'), '{"spec":"AISS-1.0-AUDIT"}')
    assert.is(cli(['session-verify', join(tmp.path, 'not.json')]).code, 2)
    assert.is(cli(['session-verify', join(tmp.path, 'missing.json')]).code, 2)
    for (const ag of [a!, b!, c!]) await ag.close()
  } finally { tmp.cleanup() }
})

S('valid chains that disagree: a claim without a mirror, a doctored mirror, a replayed mirror', async () => {
  const tmp = tmpDir()
  try {
    const [a, b] = await open(tmp.path, ['ctl', 'pi'])
    const session = await AgentSession.create([{ name: 'ctl', agent: a! }, { name: 'pi', agent: b! }])
    await session.start()
    const cmd = await session.stamp('ctl', 'valve_open', { valve: 3 }, { peer: 'pi' })
    const mirror = (await b!.search({ eventType: 'valve_open_received' }))[0]!
    // The controller claims a command the Pi never received (signed by the controller, no mirror).
    const { initiatorPayload } = await import('../runtime/a2a/interaction.js')
    await a!.stamp('valve_close', initiatorPayload({ sessionId: session.sessionId, eventType: 'valve_close', initiator: a!.agentId, peer: b!.agentId, interactionId: 'forged-1', content: { valve_hash: hashValue(3) } }))
    // The Pi records the same command again (a replay), and a mirror whose content differs.
    const { event_type: _t, ...mp } = mirror.payload
    await b!.stamp('valve_open_received', mp)
    await b!.stamp('valve_open_received', { ...mp, valve_hash: hashValue(4) })
    const summary = await session.end()
    assert.is(summary.interaction_count, 1)
    const file = join(tmp.path, 's.json')
    await session.export(file)
    assert.ok((await a!.verify()).valid && (await b!.verify()).valid)
    const res = verifySessionExport(parseJson(readFileSync(file, 'utf8')))
    assert.ok(res.usable)
    if (!res.usable) return
    const msgs = res.report.problems.map((p) => `${p.code} ${p.message}`)
    assert.ok(!res.report.valid)
    assert.ok(msgs.some((m) => m.includes('valve_close') && m.includes('has no mirror')), msgs.join('\n'))
    assert.ok(msgs.some((m) => m.includes('mirrored 3 times')), msgs.join('\n'))
    assert.ok(msgs.some((m) => m.includes('valve_hash differently')), msgs.join('\n'))
    assert.ok(res.report.problems.every((p) => p.code.startsWith('A2A_')))
    assert.is(cmd.payload.my_role, 'initiator')
    for (const ag of [a!, b!]) await ag.close()
  } finally { tmp.cleanup() }
})

S('fewer than two agents, duplicates and unknown members are programmer errors', async () => {
  const tmp = tmpDir()
  try {
    const [a, b] = await open(tmp.path, ['one', 'two'])
    await AgentSession.create([{ name: 'one', agent: a! }]).then(() => assert.unreachable(), (e) => assert.instance(e, RangeError))
    await AgentSession.create([{ name: 'one', agent: a! }, { name: 'two', agent: a! }]).then(() => assert.unreachable(), (e) => assert.instance(e, TypeError))
    const s = await AgentSession.create([{ name: 'one', agent: a! }, { name: 'two', agent: b! }])
    await s.start()
    await s.stamp('one', 'x', {}, { peer: 'nobody' }).then(() => assert.unreachable(), (e) => assert.instance(e, TypeError))
    await s.end()
    await s.start().then(() => assert.unreachable(), (e) => assert.is((e as PcpError).code, 'SESSION_STATE'))
    for (const ag of [a!, b!]) await ag.close()
  } finally { tmp.cleanup() }
})

S.run()
