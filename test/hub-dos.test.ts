// One message must not stall the hub (issue 14 #4). Before: one 400 KB message of 200k tiny records held
// the event loop 2.7 s, added ~180 MiB and made every other device get HUB_BUSY; a 100 MB PUBLISH through
// an external broker was buffered whole. Each attack here comes from a plain MQTT client holding no key;
// after it the victim's state, chain, VRS and gate decision are unchanged, /health answered in < 100 ms
// throughout, and every refusal is counted under its reason. Runs on the embedded broker and, when
// PCP_TEST_MQTT_URL is set, on that broker (the hub then speaks MQTT 3.1.1, where only its own guard
// stands between it and a huge packet; with MQTT 5 the broker also drops it, see hub/packet-guard.ts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { Identity, eventHash, stampEvent } from '../runtime/index.js'
import { encodeCbor } from '../runtime/cbor.js'
import { encodeEnvelope, eventsEnvelope, MAX_BATCH_RECORDS, MAX_MESSAGE_VALUES, NACK_CODES, type NackEnvelope } from '../sync/wire.js'
import { upTopic } from '../sync/topics.js'
import { brokerTargets, type BrokerTarget } from './support/brokers.js'
import { rawClient, chainOf, startVictim, assertUnchangedBy, type VictimSetup } from './support/hostile.js'
import { until } from './support/hub-helpers.js'
import { MAX_LIMITS } from '../policy/schema.js'
import { ROOT } from './helpers.js'

const Dos = suite('hub: no single message stalls it')

/**
 * A child process (plain mqtt.js, QoS 0) that connects, then publishes `bytes` bytes on `topic` when
 * go() is called and ends when the connection does. Spawned ahead, so forking costs the measured window nothing.
 */
async function publisherChild (url: string, topic: string, bytes: number, login: object): Promise<{ go: () => Promise<void> }> {
  const script = `import { connect } from 'mqtt'
    const payload = Buffer.alloc(${bytes}, 0x41)
    const c = connect(${JSON.stringify(url)}, { protocolVersion: 4, reconnectPeriod: 0, ...${JSON.stringify(login)} })
    c.on('connect', () => process.stdout.write('ready\\n'))
    process.stdin.once('data', () => c.publish(${JSON.stringify(topic)}, payload, { qos: 0 }, () => setTimeout(() => process.exit(0), 3000)))
    c.on('close', () => process.exit(0)); c.on('error', () => process.exit(0))`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'ignore'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', () => reject(new Error('the publisher child exited before connecting')))
  })
  return { go: async () => { child.stdin.write('go\n'); await exited } }
}

/** An `events` message at the attacker's next position on its topic (x.attackOn). */
function junkEvents (x: { attackOn: string, attackFrom: number }, records: Uint8Array[]): object {
  return { v: 1, kind: 'events', corr: randomBytes(8), from: x.attackFrom, ids: [x.attackOn], records }
}

/** The victim's genuine device carries on: its next batch is acknowledged, not HUB_BUSY. */
async function victimCarriesOn (x: VictimSetup): Promise<void> {
  const ok = await x.device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, x.events.slice(5)), 10_000)
  assert.is(ok.kind, 'ack', JSON.stringify(ok))
}

// The embedded case uses the hub's own broker (as `pcp hub start` does), so the broker's refusals are the
// hub's; there every client logs in with a key and the attacker, a device of its own, attacks on its
// own topic. On an external broker without ACLs it attacks on the victim's.
const OWN: Spec = { name: 'embedded', start: async () => ({ close: async () => {} }) as unknown as BrokerTarget }
type Spec = ReturnType<typeof brokerTargets>[number]

for (const spec of [OWN, ...brokerTargets().slice(1)]) {
  const hubOpts = spec === OWN ? {} : { mqtt: { protocolVersion: 4 as const } }
  const victimOn = (t: BrokerTarget, opts: Parameters<typeof startVictim>[1] = {}): ReturnType<typeof startVictim> => startVictim(spec === OWN ? 'own broker' : t, { ...hubOpts, ...opts })

  Dos(`${spec.name}: 200k tiny records in one 400 KB message are refused unread`, async () => {
    const target = await spec.start()
    const x = await victimOn(target)
    try {
      const message = encodeEnvelope(junkEvents(x, Array.from({ length: 200_000 }, () => new Uint8Array([0]))))
      assert.ok(message.length > 400_000 && message.length < 1024 * 1024)
      await assertUnchangedBy(x, async () => {
        await x.attacker.send(x.attackOn, message)
        await x.attacker.send(x.attackOn, message)
      }, { CBOR_TOO_MANY_BYTE_STRINGS: 2 }, until)
      await victimCarriesOn(x)
    } finally { await x.cleanup(); await target.close() }
  })

  Dos(`${spec.name}: too many records, values or levels are refused before decoding`, async () => {
    const target = await spec.start()
    const x = await victimOn(target)
    try {
      const deep = new Uint8Array(200_000).fill(0x81); deep[deep.length - 1] = 0 // [[[...[0]...]]], 200k levels
      const wide = encodeCbor(new Array(MAX_MESSAGE_VALUES / 2).fill(0))
      await assertUnchangedBy(x, async () => {
        // One record more than a batch may carry: a shape error (answered, as shape errors are).
        const more = await x.attacker.ask(x.attackOn, junkEvents(x, Array.from({ length: MAX_BATCH_RECORDS + 1 }, () => new Uint8Array([0]))))
        assert.is((more as NackEnvelope).code, 'ENVELOPE_INVALID')
        // Records that together hold more values than one message may.
        await x.attacker.send(x.attackOn, junkEvents(x, [wide, wide, wide]))
        // Nesting that overflowed cbor-x's stack, in the envelope and inside a record.
        await x.attacker.send(x.attackOn, Buffer.concat([Uint8Array.from([0xa1, 0x61, 0x78]), deep])) // { x: [[[...]]] }
        await x.attacker.send(x.attackOn, junkEvents(x, [deep]))
      }, { ENVELOPE_INVALID: 1, CBOR_TOO_MANY_VALUES: 1, CBOR_TOO_DEEP: 1, FORGED_EVENT_MALFORMED: 1 }, until)
      await victimCarriesOn(x)
    } finally { await x.cleanup(); await target.close() }
  })

  Dos(`${spec.name}: a 32 MiB PUBLISH is cut off at its header, not buffered`, async () => {
    const target = await spec.start()
    const x = await victimOn(target)
    try {
      const huge = { length: 32 * 1024 * 1024 }
      // From another process, so the 32 MiB it writes cost this one (the hub's) nothing.
      const publisher = await publisherChild(spec === OWN ? x.s.hub.mqttUrl : target.url, upTopic(x.attackOn, x.prefix), huge.length, x.login('huge'))
      let peak = 0
      const base = process.memoryUsage().rss
      const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss - base) }, 5)
      try {
        await assertUnchangedBy(x, async () => {
          // The embedded broker drops the sender; an external one passes it on to the hub, which drops it.
          await publisher.go()
        }, { PAYLOAD_TOO_LARGE: 1 }, until)
      } finally { clearInterval(sampler) }
      // Before: the whole packet was held (aedes' parser, or mqtt.js' with an external broker).
      assert.ok(peak < huge.length / 2, `RSS grew by ${(peak / 2 ** 20).toFixed(1)} MiB while a ${huge.length / 2 ** 20} MiB packet came in`)
      await until(() => x.s.hub.client.connected, 10_000, 'the hub connected again')
      await victimCarriesOn(x)
    } finally { await x.cleanup(); await target.close() }
  })

  Dos(`${spec.name}: a signed event past the per-event limits gets a final refusal, a forged one nothing`, async () => {
    const target = await spec.start()
    const x = await victimOn(target)
    try {
      const e5 = x.events[5]!
      // Event #6 of the victim's chain, validly signed, with more values than a message may hold.
      const huge = stampEvent(x.victim, { event_type: 'scan', points: new Array(MAX_MESSAGE_VALUES + 1).fill(0) }, { previousHash: eventHash(e5), timestamp: 1_700_000_006 }).event
      const forged = encodeEnvelope(eventsEnvelope(randomBytes(8), 5, [{ ...huge, payload: { ...huge.payload, event_type: 'scan2' } }]))
      // Where the broker lets anyone publish on the victim's topic (the hub's own one does not).
      if (x.attackOn === x.victim.agentId) {
        await assertUnchangedBy(x, async () => {
          await x.attacker.send(x.victim.agentId, forged)
        }, { FORGED_SIGNATURE_INVALID: 1 }, until)
      }
      const base = x.s.hub.rejections()
      const answer = await x.device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, [e5, huge]), 10_000) as NackEnvelope
      assert.is(answer.kind, 'nack')
      assert.is(answer.code, NACK_CODES.EVENT_TOO_LARGE)
      assert.is(answer.retry, false)
      assert.match(answer.message, /event #6 .* more than 262144 CBOR values/)
      assert.equal(answer.head?.seq, 5) // the event before it was stored
      assert.is((x.s.hub.rejections().EVENT_TOO_LARGE ?? 0) - (base.EVENT_TOO_LARGE ?? 0), 1)
      // Not evidence against the agent: it did nothing wrong, its event is just too big to take.
      const st = x.s.hub.chain.status(x.victim.agentId)!
      assert.is(st.rejectedCount, 0)
      assert.is(x.s.hub.vigil!.vrs(x.victim.agentId)!.state, 'SAFE')
    } finally { await x.cleanup(); await target.close() }
  })
}

Dos('one device filling its queue share does not make the others busy', async () => {
  // 3 batches of 1024 would pass the hub-wide 3000 and leave no room for anyone else.
  const x = await startVictim('own broker', { maxQueuedEvents: 3000, maxQueuedPerAgent: 1024 })
  try {
    const flooder = Identity.generate()
    const dev = rawClient(await x.connect('flooder', flooder), x.prefix)
    assert.is((await dev.ask(flooder.agentId, { v: 1, kind: 'identity', identity: flooder.document() })).kind, 'head')
    const chain = chainOf(flooder, 3 * 1024)
    const answers = [0, 1, 2].map((b) => dev.ask(flooder.agentId, eventsEnvelope(randomBytes(8), b * 1024, chain.slice(b * 1024, (b + 1) * 1024)), 20_000))
    const victim = x.device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 5, x.events.slice(5)), 20_000)
    const got = await Promise.all(answers)
    assert.is(got[0]!.kind, 'ack')
    assert.ok(got.slice(1).some((a) => a.kind === 'nack' && a.code === NACK_CODES.HUB_BUSY && /unstored events of /.test(a.message)), JSON.stringify(got.map((a) => [a.kind, (a as NackEnvelope).code])))
    assert.is((await victim).kind, 'ack')
  } finally { await x.cleanup() }
})

Dos('/metrics counts GAP nacks, duplicates and refused oversize messages by reason (issue 14 #8)', async () => {
  const x = await startVictim('own broker')
  try {
    const gap = await x.device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 7, x.events.slice(7)))
    assert.is((gap as NackEnvelope).code, NACK_CODES.GAP)
    const dup = await x.device.ask(x.victim.agentId, eventsEnvelope(randomBytes(8), 3, x.events.slice(3, 6)))
    assert.is(dup.kind, 'ack')
    await x.attacker.send(x.attackOn, encodeEnvelope(junkEvents(x, Array.from({ length: 9000 }, () => new Uint8Array([0])))))
    await until(() => x.s.hub.rejections().CBOR_TOO_MANY_BYTE_STRINGS === 1, 10_000, 'counted')
    const text = await (await fetch(`${x.s.vigilUrl}/metrics`)).text()
    assert.match(text, /pcp_messages_rejected_total\{reason="GAP"\} 1\n/)
    assert.match(text, /pcp_messages_rejected_total\{reason="CBOR_TOO_MANY_BYTE_STRINGS"\} 1\n/)
    assert.match(text, /pcp_events_duplicate_total 2\n/)
  } finally { await x.cleanup() }
})

Dos('pathological policy simulations (issue 14 #7) leave /health and ingest fast, and the scan caps hold', async () => {
  // Before: one simulate with the largest limits a policy could set froze /health and ingest for 20.8 s.
  const x = await startVictim('own broker', { trustgateApi: { port: 0, localOnly: true } })
  try {
    const url = `${x.s.trustgateUrl}/api/policy/simulate`
    const yaml = `roles: {operator: {allowed_tools: ['*']}}\nlimits: {max_scan_steps: ${MAX_LIMITS.max_scan_steps}, max_payload_chars: ${MAX_LIMITS.max_payload_chars}}\ndangerous_patterns: ['(.*){20}x', '(é|éé)*c', '(.*){60}x']\n`
    const bodies = ['a', 'é', '😀'].map((ch) => JSON.stringify({ agent_id: x.victim.agentId, action: 'move_arm', payload: { blob: ch.repeat(16_000 / ch.length) }, yaml }))
    const answers: Array<{ status: number, body: { decision?: { rule: string, rule_detail?: string } } }> = []
    // The simulation worker starts at the first request (under tsx it compiles TypeScript): not measured.
    assert.is((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: 'a', action: 'b' }) })).status, 200)
    await assertUnchangedBy(x, async () => {
      // Eight at once: more than may wait, so some are refused with 429 instead of queueing without end.
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % 3]! })
        .then(async (r) => ({ status: r.status, body: await r.json() as { decision?: { rule: string, rule_detail?: string } } }))))
      answers.push(...all)
    }, {}, until)
    await victimCarriesOn(x)
    const done = answers.filter((a) => a.status === 200)
    assert.ok(done.length >= 1 && done.every((a) => a.body.decision!.rule === 'scan_limit' && a.body.decision!.rule_detail === 'max_scan_steps'), JSON.stringify(answers.map((a) => [a.status, a.body.decision?.rule])))
    assert.ok(answers.every((a) => a.status === 200 || a.status === 429), JSON.stringify(answers.map((a) => a.status)))
    // A file may not ask for more than the caps.
    const over = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: 'a', action: 'b', yaml: 'roles: {operator: {allowed_tools: [\'*\']}}\nlimits: {max_scan_steps: 1000000000}\n' }) })
    assert.is(over.status, 400)
    assert.match(JSON.stringify(await over.json()), /max_scan_steps/)
  } finally { await x.cleanup() }
})

Dos.run()
