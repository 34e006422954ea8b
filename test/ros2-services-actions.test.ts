// Services, actions and the gate hook on AuditedNode (STAND-IN ROS graph, real Agent).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PcpError } from '../runtime/index.js'
import { messageHash } from '../ros2/msg-hash.js'
import type { Gate } from '../ros2/auditor.js'
import { withRig, chain, typesOf, ofType, until, cdrHash } from './ros2-helpers.js'

const S = suite('ros2 services, actions, gate hook (stand-in ROS graph, real Agent)')

S('service: call → request → reply → response, paired by call_id, hashes and durations', async () => {
  await withRig(async ({ agent, ros }) => {
    const server = new ros.AuditedNode('server', { stamper: agent })
    server.spin()
    const client = new ros.AuditedNode('client', { stamper: agent })
    client.spin()
    server.createService('example_interfaces/srv/AddTwoInts', 'add', (req: { a: bigint, b: bigint }, res) => res.send({ sum: req.a + req.b }))
    const c = client.createClient('example_interfaces/srv/AddTwoInts', '/add')
    const response = await c.sendRequestAsync({ a: 2n, b: 40n }, { timeout: 2000 })
    assert.equal(response, { sum: 42n })
    await server.audit.flush(); await client.audit.flush()
    const events = await chain(agent)
    assert.equal(typesOf(events).slice(-4), ['service_call', 'service_request', 'service_reply', 'service_response'])
    const [call, req, reply, resp] = events.slice(-4).map((e) => e.payload)
    assert.equal([call!.service, call!.srv_type, call!.call_id], ['/add', 'example_interfaces/srv/AddTwoInts', 1])
    assert.is(call!.request_hash, messageHash({ a: 2n, b: 40n }))
    assert.is(req!.request_hash, call!.request_hash)
    assert.equal([reply!.outcome, reply!.response_hash], ['ok', messageHash({ sum: 42n })])
    assert.equal([resp!.outcome, resp!.response_hash, resp!.call_id], ['ok', messageHash({ sum: 42n }), 1])
    assert.is(typeof resp!.duration_ms, 'number')
    assert.is((await agent.verify()).valid, true)
  })
})

S('service handler that returns its response (rclnodejs allows it) and one that throws', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('svc', { stamper: agent })
    node.spin()
    node.createService('std_srvs/srv/Trigger', 'ok', () => ({ success: true, message: 'done' }))
    node.createService('std_srvs/srv/Trigger', 'boom', async () => { throw new Error('arm jammed') })
    const ok = await node.createClient('std_srvs/srv/Trigger', 'ok').sendRequestAsync({}, { timeout: 1000 })
    assert.equal(ok, { success: true, message: 'done' })
    const failing = node.createClient('std_srvs/srv/Trigger', 'boom')
    const err = await failing.sendRequestAsync({}, { timeout: 150 }).then(() => null, (e: Error) => e)
    assert.is(err?.name, 'TimeoutError') // the server never answered
    await node.audit.flush()
    const events = await chain(agent)
    const replies = ofType(events, 'service_reply').map((e) => e.payload)
    assert.equal(replies.map((r) => [r.service, r.outcome]), [['/ok', 'ok'], ['/boom', 'error']])
    assert.is(replies[0]!.response_hash, messageHash({ success: true, message: 'done' }))
    assert.is(replies[1]!.error_name, 'Error')
    const responses = ofType(events, 'service_response').map((e) => e.payload)
    assert.equal(responses.map((r) => [r.service, r.outcome]), [['/ok', 'ok'], ['/boom', 'timeout']])
  })
})

S('sendRequest with a callback: service_response stamped before the callback runs', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('cb', { stamper: agent })
    node.spin()
    node.createService('std_srvs/srv/SetBool', 'enable', (req: { data: boolean }, res) => res.send({ success: req.data, message: '' }))
    let stampedAtCallback = -1
    node.createClient('std_srvs/srv/SetBool', 'enable').sendRequest({ data: true }, () => { stampedAtCallback = node.audit.stamped })
    await until(() => stampedAtCallback >= 0)
    await node.audit.flush()
    const t = typesOf(await chain(agent))
    assert.is(stampedAtCallback, t.indexOf('service_response') + 1)
  })
})

S('actions: goal, acceptance, feedback, result on both sides, paired by goal_id', async () => {
  await withRig(async ({ agent, ros }) => {
    const server = new ros.AuditedNode('arm', { stamper: agent })
    server.spin()
    const client = new ros.AuditedNode('planner', { stamper: agent })
    client.spin()
    server.createActionServer('example_interfaces/action/Fibonacci', 'fib', async (goal: { request: { order: number }, publishFeedback: (f: unknown) => void, succeed: () => void }) => {
      const seq = [0, 1]
      for (let i = 2; i < goal.request.order; i++) { seq.push(seq[i - 1]! + seq[i - 2]!); goal.publishFeedback({ sequence: [...seq] }) }
      goal.succeed()
      return { sequence: seq }
    })
    const ac = client.createActionClient('example_interfaces/action/Fibonacci', 'fib')
    const feedback: unknown[] = []
    const handle = await ac.sendGoal({ order: 5 }, (f: unknown) => feedback.push(f))
    assert.ok(handle.accepted)
    const result = await handle.getResult()
    assert.equal(result, { sequence: [0, 1, 1, 2, 3] })
    await until(() => feedback.length === 3)
    await server.audit.flush(); await client.audit.flush()
    const events = await chain(agent)
    const goalId = ofType(events, 'action_goal_received')[0]!.payload.goal_id
    assert.match(String(goalId), /^[0-9a-f]{32}$/)
    assert.is(ofType(events, 'action_goal')[0]!.payload.goal_hash, messageHash({ order: 5 }))
    assert.equal(ofType(events, 'action_goal_response')[0]!.payload.goal_id, goalId)
    const serverResult = ofType(events, 'action_goal_result')[0]!.payload
    assert.equal([serverResult.goal_id, serverResult.outcome, serverResult.result_hash], [goalId, 'succeeded', messageHash({ sequence: [0, 1, 1, 2, 3] })])
    const clientResult = ofType(events, 'action_result')[0]!.payload
    assert.equal([clientResult.goal_id, clientResult.outcome, clientResult.status], [goalId, 'succeeded', 4])
    assert.is(typeof clientResult.duration_ms, 'number')
    // feedback stamped on both sides (server publishes, client receives)
    assert.is(ofType(events, 'action_feedback').length, 6)
    assert.is((await agent.verify()).valid, true)
  })
})

S('actions: a rejected goal and a throwing execute callback', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('gripper', { stamper: agent })
    node.spin()
    node.createActionServer('control_msgs/action/GripperCommand', 'grip', async () => { throw new Error('no object') },
      (goal: { force: number }) => (goal.force > 10 ? 1 : 2))
    const ac = node.createActionClient('control_msgs/action/GripperCommand', 'grip')
    const rejected = await ac.sendGoal({ force: 50 })
    assert.is(rejected.accepted, false)
    const accepted = await ac.sendGoal({ force: 5 })
    const err = await accepted.getResult().then(() => null, (e: Error) => e)
    assert.is(err?.message, 'no object')
    await node.audit.flush()
    const events = await chain(agent)
    assert.equal(ofType(events, 'action_goal_decision').map((e) => e.payload.accepted), [false, true])
    assert.equal(ofType(events, 'action_goal_response').map((e) => e.payload.accepted), [false, true])
    assert.is(ofType(events, 'action_goal_result')[0]!.payload.outcome, 'error')
    assert.is(ofType(events, 'action_result')[0]!.payload.outcome, 'error')
  })
})

/** A test gate (stand-in for issue 8's TrustGate): refuses publishing to /cmd_vel and calls to /self_destruct. */
const testGate: Gate = {
  async check (action, payload) {
    if (action === 'topic_publish' && payload.topic === '/cmd_vel') return { allowed: false, reason: 'speed limit zone' }
    if (action === 'service_call' && payload.service === '/self_destruct') return { allowed: false, reason: 'never' }
    return { allowed: true }
  }
}

S('gate hook: a refused publish never goes out and is stamped topic_publish_blocked', async () => {
  const errors: unknown[] = []
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('gated', { stamper: agent, gate: testGate, role: 'operator', onError: (e) => errors.push(e) })
    node.spin()
    const got: string[] = []
    node.createSubscription('std_msgs/msg/String', 'cmd_vel', (m: { data: string }) => got.push('cmd:' + m.data))
    node.createSubscription('std_msgs/msg/String', 'status', (m: { data: string }) => got.push('status:' + m.data))
    const msg = { data: 'ok' }
    node.createPublisher('std_msgs/msg/String', 'cmd_vel').publish({ data: 'fast' })
    node.createPublisher('std_msgs/msg/String', 'status').publish(msg)
    msg.data = 'mutated after publish' // the gated publish sends what was hashed, not this
    await until(() => got.length === 1 && errors.length === 1)
    await node.audit.flush()
    assert.equal(got, ['status:ok'])
    assert.is((errors[0] as PcpError).code, 'ROS2_BLOCKED')
    const events = await chain(agent)
    const blocked = ofType(events, 'topic_publish_blocked')[0]!.payload
    assert.equal([blocked.topic, blocked.reason, blocked.msg_hash], ['/cmd_vel', 'speed limit zone', cdrHash(ros, 'std_msgs/msg/String', { data: 'fast' })])
    assert.is(ofType(events, 'topic_publish')[0]!.payload.msg_hash, cdrHash(ros, 'std_msgs/msg/String', { data: 'ok' }))
  })
})

S('gate hook: a refused service call rejects with ROS2_BLOCKED; a failing gate fails closed', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedNode('gated2', { stamper: agent, gate: testGate })
    node.spin()
    let served = 0
    node.createService('std_srvs/srv/Trigger', 'self_destruct', (_q, res) => { served++; res.send({ success: true }) })
    const err = await node.createClient('std_srvs/srv/Trigger', 'self_destruct').sendRequestAsync({}).then(() => null, (e: PcpError) => e)
    assert.is(err?.code, 'ROS2_BLOCKED')
    const broken = new ros.AuditedNode('gated3', { stamper: agent, gate: { check: async () => { throw new Error('gate down') } } })
    broken.spin()
    const err2 = await broken.createClient('std_srvs/srv/Trigger', 'self_destruct').sendRequestAsync({}).then(() => null, (e: PcpError) => e)
    assert.is(err2?.code, 'ROS2_BLOCKED')
    await node.audit.flush(); await broken.audit.flush()
    assert.is(served, 0)
    const blocked = ofType(await chain(agent), 'service_call_blocked').map((e) => e.payload.reason)
    assert.equal(blocked, ['never', 'gate_error'])
  })
})

S.run()
