// A2A over MQTT (sync/a2a-transport.ts) on real TCP: the embedded broker always, and the external broker
// when PCP_TEST_MQTT_URL is set. Two agents, each with its own MQTT client, as on two devices.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Agent, type PcpError, type JsonObject } from '../runtime/index.js'
import { A2ANode } from '../runtime/a2a/node.js'
import { loadAgentSigner } from '../runtime/a2a/signer.js'
import { verifyHandshakeEvent } from '../runtime/a2a/handshake-event.js'
import { MqttA2ATransport, a2aTopic } from '../sync/a2a-transport.js'
import { brokerTargets } from './support/brokers.js'
import { tmpDir } from './helpers.js'
import { openAgents } from './a2a-helpers.js'

const M = suite('a2a over MQTT (real broker over TCP)')

for (const spec of brokerTargets()) {
  M(`${spec.name}: handshake and a command across two clients; a duplicate request gets the same reply; an absent peer times out`, async () => {
    const target = await spec.start()
    const tmp = tmpDir()
    try {
      const [robot, pi] = await openAgents(tmp.path, ['robot', 'pi']) as [Agent, Agent]
      const kr = await loadAgentSigner(robot); const kp = await loadAgentSigner(pi)
      const cr = await target.connect({ clientId: target.clientId('robot'), protocolVersion: 4 })
      const cp = await target.connect({ clientId: target.clientId('pi'), protocolVersion: 4 })
      const tr = new MqttA2ATransport(cr, { prefix: target.prefix }); const tp = new MqttA2ATransport(cp, { prefix: target.prefix })
      const executed: JsonObject[] = []
      const nr = await new A2ANode(robot, kr, { transport: tr, timeoutMs: 5000 }).start()
      const np = await new A2ANode(pi, kp, { transport: tp, timeoutMs: 5000, onInteraction: (m) => { executed.push(m.payload) } }).start()
      const link = await nr.handshake(pi.agentId)
      const hp = (await pi.history()).at(-1)!
      assert.is(hp.payload.handshake_hash, link.handshakeHash)
      assert.ok(verifyHandshakeEvent(hp).ok)
      const { mirror, interactionHash } = await nr.interact(pi.agentId, 'gpio_write', { pin: 17, value: 1 })
      assert.is(mirror.agent_id, pi.agentId)
      assert.is(mirror.payload.interaction_hash, interactionHash)
      assert.is(executed.length, 1)

      // QoS 1 may deliver twice: the same envelope published twice yields the same mirror, stamped once.
      const event = await robot.stamp('noop', {}) // advance the chain; not an interaction
      assert.ok(event)
      const { initiatorPayload } = await import('../runtime/a2a/interaction.js')
      const ev = await robot.stamp('gpio_write', initiatorPayload({ sessionId: link.sessionId, eventType: 'gpio_write', initiator: robot.agentId, peer: pi.agentId, interactionId: 'dup-1', content: {} }))
      const replies: any[] = []
      cr.on('message', (_t, buf) => { const m = JSON.parse(buf.toString()); if (m.corr === 'c0ffee') replies.push(m) })
      const env = JSON.stringify({ v: 1, kind: 'req', corr: 'c0ffee', from: robot.agentId, to: pi.agentId, body: { kind: 'a2a_interaction', event: ev } })
      await cr.publishAsync(a2aTopic(pi.agentId, target.prefix), env, { qos: 1 })
      await cr.publishAsync(a2aTopic(pi.agentId, target.prefix), env, { qos: 1 })
      const t0 = Date.now()
      while (replies.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20))
      assert.is(replies.length, 2)
      assert.equal(replies[0].body.mirror, replies[1].body.mirror)
      assert.is((await pi.search({ eventType: 'gpio_write_received' })).length, 2) // the real one and dup-1, once

      // A hostile envelope whose 'to' is not an agent_id is dropped; before, it threw in the MQTT handler.
      await cr.publishAsync(a2aTopic(pi.agentId, target.prefix), JSON.stringify({ v: 1, kind: 'req', corr: 'bad', from: robot.agentId, to: 'x', body: {} }), { qos: 1 })
      const again = await nr.interact(pi.agentId, 'gpio_write', { pin: 17, value: 0 })
      assert.is(again.mirror.agent_id, pi.agentId)

      // Nobody serves this agent: the request times out with A2A_TIMEOUT.
      const ghost = '1'.repeat(32)
      const code = await tr.request(robot.agentId, ghost, { kind: 'a2a_proposal' }, { timeoutMs: 300 }).then(() => 'no error', (e: PcpError) => e.code)
      assert.is(code, 'A2A_TIMEOUT')
      assert.ok((await robot.verify()).valid && (await pi.verify()).valid)
      await nr.close(); await np.close(); await tr.close(); await tp.close()
      kr.destroy(); kp.destroy(); await robot.close(); await pi.close()
    } finally {
      await target.close()
      tmp.cleanup()
    }
  })
}

M.run()
