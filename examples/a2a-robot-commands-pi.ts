// Example: a robot controller (a stand-in for a ROS 2 node) commands a Raspberry Pi relay board (a
// stand-in: the relay is SIMULATED, no GPIO) over MQTT. Each side is an audited Agent with its own MQTT
// client, as on two devices; they handshake, the robot sends commands, the Pi executes each one only after
// its `_received` mirror is in its own chain. Finally both chains go into a session export that
// `pcp session-verify` checks.
//   PCP_HOME=$(mktemp -d) node --import tsx examples/a2a-robot-commands-pi.ts [out.json]
// Uses the embedded broker unless PCP_MQTT_URL names one (e.g. mqtt://127.0.0.1:1883).
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import { Agent, stringifyJson, pcpHome } from '../runtime/index.js'
import { writeFileAtomic } from '../runtime/fsutil.js'
import { A2ANode } from '../runtime/a2a/node.js'
import { loadAgentSigner } from '../runtime/a2a/signer.js'
import { buildSessionExport } from '../runtime/a2a/session-export.js'
import { verifySessionExport } from '../runtime/a2a/session-verify.js'
import { MqttA2ATransport } from '../sync/a2a-transport.js'
import { startEmbeddedBroker } from '../hub/broker.js'

const home = pcpHome()
const out = process.argv[2] ?? join(home, 'robot-pi-session.json')
const broker = process.env.PCP_MQTT_URL ? null : await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
const url = process.env.PCP_MQTT_URL ?? broker!.url

const robot = await Agent.open({ name: 'robot-controller' }, { home })
const pi = await Agent.open({ name: 'pi-relays' }, { home })
const robotKey = await loadAgentSigner(robot); const piKey = await loadAgentSigner(pi)
const robotMqtt = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
const piMqtt = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
const robotLink = new MqttA2ATransport(robotMqtt); const piLink = new MqttA2ATransport(piMqtt)

const relays = new Map<number, boolean>() // SIMULATED relay board
const robotNode = await new A2ANode(robot, robotKey, { transport: robotLink, capabilities: ['a2a', 'relay', 'stamp'] }).start()
const piNode = await new A2ANode(pi, piKey, {
  transport: piLink,
  capabilities: ['a2a', 'relay', 'stamp', 'verify'],
  // Runs after the Pi's chain holds the mirror: nothing is actuated that is not on record. `order` is the
  // clear command, checked by the node against the hashes the robot signed.
  onInteraction: async (mirror, _command, order) => {
    const relay = Number(order.relay); const on = order.on === true
    relays.set(relay, on)
    await pi.stamp('relay_set', { relay, on, command_hash: mirror.payload.interaction_hash as string })
  }
}).start()

const sessionId = 'sess_' + Date.now().toString(16).padStart(16, '0').slice(-16)
const participants = [robot.agentId, pi.agentId]
for (const a of [robot, pi]) await a.stamp('session_start', { session_id: sessionId, participants, agent_count: 2 })
const link = await robotNode.handshake(pi.agentId, { sessionId })
console.log(`handshake ${link.handshakeHash.slice(0, 16)}… agreed ${link.capabilities.join(', ')}`)
let interactions = 0
for (const order of [{ relay: 1, on: true }, { relay: 2, on: true }, { relay: 1, on: false }]) {
  const { interactionHash } = await robotNode.interact(pi.agentId, 'relay_command', order, { sessionId })
  interactions++
  console.log(`robot → pi relay_command ${interactionHash.slice(0, 16)}… mirrored; relays now ${JSON.stringify([...relays])}`)
}
for (const a of [robot, pi]) await a.stamp('session_end', { session_id: sessionId })

const record = {
  session_id: sessionId, started_at: null, ended_at: null, agent_count: 2, handshake_count: 1, interaction_count: interactions,
  total_events: 0, agents: { 'robot-controller': { agent_id: robot.agentId, event_count: 0 }, 'pi-relays': { agent_id: pi.agentId, event_count: 0 } }, handshakes: []
}
const doc = await buildSessionExport(record, [{ name: 'robot-controller', agent: robot }, { name: 'pi-relays', agent: pi }])
await writeFileAtomic(out, stringifyJson(doc, 2) + '\n', 0o644)
const check = verifySessionExport(JSON.parse(JSON.stringify(doc)))
const valid = check.usable && check.report.valid
console.log(`session export ${out}: ${valid ? 'VALID' : 'INVALID'} (pcp session-verify ${out})`)

await robotNode.close(); await piNode.close(); await robotLink.close(); await piLink.close()
await robotMqtt.endAsync(); await piMqtt.endAsync()
robotKey.destroy(); piKey.destroy()
await robot.close(); await pi.close()
await broker?.close()
process.exitCode = valid ? 0 : 1
