// AuditedLifecycleNode transitions and parameter changes (STAND-IN ROS graph, real Agent).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { valueHash } from '../ros2/msg-hash.js'
import { withRig, chain, ofType } from './ros2-helpers.js'

const L = suite('ros2 lifecycle and parameters (stand-in ROS graph, real Agent)')

L('every transition is stamped with from/to states, result and duration', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedLifecycleNode('driver', { stamper: agent })
    node.spin()
    assert.is(ros.AuditedLifecycleNode.lifecycleHook, '_changeState')
    node.configure(); node.activate(); node.deactivate(); node.cleanup(); node.shutdown()
    await node.audit.flush()
    const t = ofType(await chain(agent), 'lifecycle_transition').map((e) => [e.payload.transition, e.payload.from_state, e.payload.to_state, e.payload.result])
    assert.equal(t, [
      ['configure', 'unconfigured', 'inactive', 'success'],
      ['activate', 'inactive', 'active', 'success'],
      ['deactivate', 'active', 'inactive', 'success'],
      ['cleanup', 'inactive', 'unconfigured', 'success'],
      ['shutdown', 'unconfigured', 'finalized', 'success']
    ])
    assert.is((await agent.verify()).valid, true)
  })
})

L('failure, a throwing callback (ERROR + error processing), and an invalid transition', async () => {
  await withRig(async ({ agent, ros }) => {
    const C = ros.rclnodejs.lifecycle.CallbackReturnCode
    const node = new ros.AuditedLifecycleNode('arm', { stamper: agent })
    node.spin()
    let attempts = 0
    node.registerOnConfigure(() => (++attempts === 1 ? C.FAILURE : C.SUCCESS))
    node.registerOnActivate(() => { throw new Error('brake not released') })
    node.configure() // fails: stays unconfigured
    node.configure() // succeeds
    node.activate() // throws → ERROR → error processing (no handler: SUCCESS) → unconfigured
    assert.throws(() => node.deactivate(), /No transition/)
    await node.audit.flush()
    const events = await chain(agent)
    const t = ofType(events, 'lifecycle_transition').map((e) => [e.payload.transition, e.payload.from_state, e.payload.to_state, e.payload.result])
    assert.equal(t, [
      ['configure', 'unconfigured', 'unconfigured', 'failure'],
      ['configure', 'unconfigured', 'inactive', 'success'],
      ['activate', 'inactive', 'unconfigured', 'error'],
      ['deactivate', 'unconfigured', 'unconfigured', 'invalid']
    ])
    const err = ofType(events, 'callback_error')[0]!.payload
    assert.equal([err.source, err.callback, err.error_name], ['lifecycle', 'registerOnActivate', 'Error'])
  })
})

L('a transition requested by another node through ~/change_state is stamped too', async () => {
  await withRig(async ({ agent, ros }) => {
    const node = new ros.AuditedLifecycleNode('camera', { stamper: agent })
    node.spin()
    const manager = new ros.rclnodejs.Node('lifecycle_manager')
    manager.spin()
    const res = await manager.createClient('lifecycle_msgs/srv/ChangeState', '/camera/change_state')
      .sendRequestAsync({ transition: { id: 1, label: '' } }, { timeout: 1000 })
    assert.equal(res, { success: true })
    await node.audit.flush()
    const t = ofType(await chain(agent), 'lifecycle_transition').map((e) => [e.payload.transition, e.payload.to_state])
    assert.equal(t, [['configure', 'inactive']])
  })
})

L('parameters: declared and changed values recorded as hashes (old → new), rejections kept', async () => {
  await withRig(async ({ agent, ros }) => {
    const { Parameter, ParameterType } = ros.rclnodejs
    const node = new ros.AuditedNode('tuned', { stamper: agent })
    node.spin()
    node.declareParameter(new Parameter('max_speed', ParameterType.PARAMETER_DOUBLE, 0.5))
    node.declareParameters([new Parameter('mode', ParameterType.PARAMETER_STRING, 'indoor'), new Parameter('ids', ParameterType.PARAMETER_INTEGER_ARRAY, [1n, 2n])])
    node.addOnSetParametersCallback((ps) => ({ successful: ps.every((p) => p.name !== 'max_speed' || p.value <= 2), reason: 'max_speed above 2 m/s' }))
    assert.is(node.setParameter(new Parameter('max_speed', ParameterType.PARAMETER_DOUBLE, 1.5)).successful, true)
    assert.is(node.setParameter(new Parameter('max_speed', ParameterType.PARAMETER_DOUBLE, 9)).successful, false)
    node.setParameters([new Parameter('mode', ParameterType.PARAMETER_STRING, 'outdoor')])
    await node.audit.flush()
    const events = await chain(agent)
    const declared = ofType(events, 'parameter_declared').map((e) => [e.payload.name, e.payload.type, e.payload.value_hash])
    assert.equal(declared, [['max_speed', 'double', valueHash(0.5)], ['mode', 'string', valueHash('indoor')], ['ids', 'integer_array', valueHash([1, 2])]])
    const changes = ofType(events, 'parameter_change').map((e) => e.payload)
    assert.equal(changes.map((c) => [c.name, c.old_value_hash, c.new_value_hash, c.accepted]), [
      ['max_speed', valueHash(0.5), valueHash(1.5), true],
      ['max_speed', valueHash(1.5), valueHash(9), false],
      ['mode', valueHash('indoor'), valueHash('outdoor'), true]
    ])
    assert.is(changes[1]!.reason, 'max_speed above 2 m/s')
    assert.not.ok(JSON.stringify(changes, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('outdoor'))
  })
})

L.run()
