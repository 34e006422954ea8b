// Every path into or out of an audited node, on the STAND-IN ROS graph (ros2/standin, NOT ROS 2; its
// internal methods mirror rclnodejs 2.2's: _createPublisher, _addActionClient, _addActionServer,
// _cancelGoal, the pre-set parameter pipeline) with a real Agent. Nothing may bypass the chain, and
// nothing may grow without bound.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { valueHash } from '../ros2/msg-hash.js'
import { withRig, chain, typesOf, ofType, until, settle } from './ros2-helpers.js'

const P = suite('ros2 audited paths and bounds (stand-in ROS graph, real Agent)')
const DOUBLE = 3

P('lifecycle publishers (created through _createPublisher) are audited; publishing while inactive is stamped as dropped', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedLifecycleNode('driver', { stamper: agent })
    const pub = (node as unknown as { createLifecyclePublisher (t: string, n: string): { publish (m: unknown): void, activate (): void } })
      .createLifecyclePublisher('std_msgs/msg/String', 'status')
    pub.publish({ data: 'too early' })
    pub.activate()
    pub.publish({ data: 'up' })
    await node.audit.flush()
    const events = await chain(agent)
    assert.is(ofType(events, 'publisher_created')[0]!.payload.topic, '/status')
    assert.equal(ofType(events, 'topic_publish_dropped').map((e) => e.payload.reason), ['lifecycle_inactive'])
    assert.is(ofType(events, 'topic_publish').length, 1)
  })
})

P('new ActionClient(node, …) / new ActionServer(node, …) are audited (via _addActionClient/_addActionServer), cancelGoal too', async () => {
  await withRig(async ({ agent, ros }) => {
    const server = new ros.AuditedNode('arm', { stamper: agent }); server.spin()
    const client = new ros.AuditedNode('planner', { stamper: agent }); client.spin()
    const rcl = ros.rclnodejs
    let release: () => void = () => {}
    // eslint-disable-next-line no-new -- the rclnodejs pattern: the server registers itself with its node
    new rcl.ActionServer(server as never, 'example_interfaces/action/Fibonacci', 'fib', async (h: { publishFeedback (f: unknown): void, canceled (): void, isCancelRequested: boolean }) => {
      h.publishFeedback({ sequence: [0] })
      await new Promise<void>((r) => { release = r })
      h.canceled()
      return { sequence: [] }
    }, undefined, undefined, () => rcl.CancelResponse.ACCEPT)
    const ac = new rcl.ActionClient(client as never, 'example_interfaces/action/Fibonacci', 'fib')
    const handle = await ac.sendGoal({ order: 3 }, () => {})
    const cancel = await handle.cancelGoal()
    release()
    await handle.getResult()
    await settle(); await server.audit.flush(); await client.audit.flush()
    const types = typesOf(await chain(agent))
    for (const t of ['action_server_created', 'action_client_created', 'action_goal', 'action_goal_received', 'action_goal_decision',
      'action_cancel_request', 'action_cancel_decision', 'action_cancel_response', 'action_result', 'action_goal_result']) {
      assert.ok(types.includes(t), `${t} stamped`)
    }
    assert.is((cancel as { return_code: number }).return_code, 0)
    assert.is(ofType(await chain(agent), 'action_goal_result')[0]!.payload.outcome, 'canceled')
  })
})

P('destroyPublisher / destroySubscription / destroyTimer are stamped, and the entity\'s open window is emitted then', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('tidy', { stamper: agent, policies: { scan: { mode: 'window', windowMs: 60_000 } } })
    node.spin()
    const pub = node.createPublisher('sensor_msgs/msg/LaserScan', 'scan')
    const sub = node.createSubscription('std_msgs/msg/String', 'chat', () => {})
    const timer = node.createTimer(1_000_000_000n, () => {})
    pub.publish({ ranges: [1] }); pub.publish({ ranges: [2] })
    node.destroyPublisher(pub); node.destroySubscription(sub); node.destroyTimer(timer)
    await node.audit.flush()
    const events = await chain(agent)
    assert.equal(ofType(events, 'entity_destroyed').map((e) => [e.payload.kind, e.payload.name]), [['publisher', '/scan'], ['subscription', '/chat'], ['timer', 'timer/1']])
    const digest = ofType(events, 'topic_digest')[0]!
    assert.equal([digest.payload.count, digest.payload.close_reason], [2, 'close'])
    assert.ok(typesOf(events).indexOf('topic_digest') < typesOf(events).indexOf('entity_destroyed'))
  })
})

P('parameters: what a pre-set callback rewrote is what is recorded; undeclare is stamped; remote sets say parameter_service', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('tuned', { stamper: agent })
    node.declareParameter(new ros.rclnodejs.Parameter('max_speed', DOUBLE, 0.5))
    // a safety clamp, the usual use of pre-set callbacks
    ;(node as unknown as { addPreSetParametersCallback (cb: (p: Array<{ name: string, type: number, value: number }>) => unknown[]): void })
      .addPreSetParametersCallback((ps) => ps.map((p) => p.name === 'max_speed' && p.value > 1 ? new ros.rclnodejs.Parameter('max_speed', DOUBLE, 1) : p))
    node.setParameter(new ros.rclnodejs.Parameter('max_speed', DOUBLE, 9))
    assert.is(node.getParameter('max_speed').value, 1)
    node.undeclareParameter('max_speed')
    await node.audit.flush()
    const events = await chain(agent)
    const change = ofType(events, 'parameter_change')[0]!.payload
    assert.equal([change.new_value_hash, change.old_value_hash, change.rewritten_by_pre_set, change.source], [valueHash(1), valueHash(0.5), true, 'local'])
    assert.equal(ofType(events, 'parameter_undeclared').map((e) => [e.payload.name, e.payload.old_value_hash]), [['max_speed', valueHash(1)]])
  })
})

P('/clock and /parameter_events are windowed by default, not one event per message', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('sim', { stamper: agent }); node.spin()
    let ticks = 0
    node.createSubscription('rosgraph_msgs/msg/Clock', '/clock', () => { ticks++ })
    const clock = new ros.rclnodejs.Node('gazebo').createPublisher('rosgraph_msgs/msg/Clock', '/clock')
    for (let i = 0; i < 50; i++) clock.publish({ clock: { sec: i, nanosec: 0 } })
    await until(() => ticks === 10) // all 50 sent at once: KEEP_LAST 10 keeps the newest 10
    await node.audit.close()
    const events = await chain(agent)
    assert.is(ofType(events, 'topic_received').length, 0)
    assert.is(ofType(events, 'subscription_created')[0]!.payload.audit_mode, 'window')
    assert.is(ofType(events, 'topic_digest')[0]!.payload.count, ticks)
  })
})

P('the after-stamp callback queue is bounded: overflow is dropped per the stated policy, and stamped', async () => {
  await withRig(async ({ agent, ros }) => {
    // a stamper whose writes stall, as a disk whose fsync hangs
    let unblock: () => void = () => {}
    const gate = new Promise<void>((r) => { unblock = r })
    const slow = { agentId: agent.agentId, stamp: async (t: string, p: never) => { await gate; return agent.stamp(t, p) } }
    const node = new ros.AuditedNode('busy', { stamper: slow, callbackQueue: { limit: 5, overflow: 'drop-newest' } }); node.spin()
    const ran: string[] = []
    node.createSubscription('std_msgs/msg/String', 'in', (m: { data: string }) => ran.push(m.data))
    const pub = new ros.rclnodejs.Node('src').createPublisher('std_msgs/msg/String', 'in')
    for (let i = 0; i < 8; i++) pub.publish({ data: `m${i}` })
    await settle(20)
    assert.is(node.audit.callbacks.length <= 5, true)
    unblock()
    await node.audit.flush()
    assert.equal(ran, ['m0', 'm1', 'm2', 'm3', 'm4'], 'order kept, the newest dropped')
    const events = await chain(agent)
    assert.is(ofType(events, 'topic_received').length, 8, 'every message is still recorded')
    assert.equal([ofType(events, 'callback_queue_overflow')[0]!.payload.limit, ofType(events, 'callback_queue_overflow')[0]!.payload.policy], [5, 'drop-newest'])
    assert.is(ofType(events, 'callback_queue_recovered')[0]!.payload.dropped, 3)
    assert.is(node.audit.callbacks.dropped, 3)
  })
})

P('an action client releases each goal\'s feedback window when the goal ends (no per-goal state left behind)', async () => {
  await withRig(async ({ agent, ros }) => {
    const server = new ros.AuditedNode('srv', { stamper: agent }); server.spin()
    const client = new ros.AuditedNode('cli', { stamper: agent, policies: { work: { mode: 'window', windowMs: 60_000 } } }); client.spin()
    server.createActionServer('example_interfaces/action/Fibonacci', 'work', (h: { publishFeedback (f: unknown): void, succeed (): void }) => {
      h.publishFeedback({ sequence: [1] }); h.succeed(); return { sequence: [1] }
    })
    const ac = client.createActionClient('example_interfaces/action/Fibonacci', 'work')
    const samplers = (client.audit as unknown as { samplers: Set<unknown> }).samplers
    const before = samplers.size
    for (let i = 0; i < 5; i++) {
      const h = await ac.sendGoal({ order: 1 }, () => {})
      await h.getResult()
    }
    await client.audit.flush()
    assert.is(samplers.size, before, 'no sampler per finished goal')
    // each goal's feedback window was emitted when its goal ended
    assert.is(ofType(await chain(agent), 'topic_digest').filter((e) => e.payload.direction === 'feedback').length >= 1, true)
  })
})

P.run()
