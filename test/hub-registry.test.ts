// Names are claimed at approval and unique (issue 14 #6): a device that makes first contact as "robot-8"
// before the real one used to own robot-8's name (and /api/agent/robot-8). First contacts are
// rate-limited and expire (issue 14 #5: 1,000 fake ones filled the pending list for good). Real LevelDB.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Identity } from '../runtime/index.js'
import { LevelHubStore } from '../hub/store/level.js'
import { Registry } from '../hub/registry.js'
import { tmpDir, codeOf } from './helpers.js'

const R = suite('hub registry: names and first contacts')

async function withRegistry (approval: 'auto' | 'manual', fn: (r: Registry, store: LevelHubStore) => Promise<void>): Promise<void> {
  const tmp = tmpDir()
  const store = await LevelHubStore.open(join(tmp.path, 'store'), { sync: false })
  try { await fn(new Registry(store, { approval }), store) } finally { await store.close(); tmp.cleanup() }
}

R('manual: a squatter\'s first contact does not claim the name; approval does, once', () => withRegistry('manual', async (reg, store) => {
  const squatter = Identity.generate(); const real = Identity.generate()
  await reg.onIdentity(squatter.agentId, squatter.document(), 'robot-8')
  await reg.onIdentity(real.agentId, real.document(), 'robot-8')
  await reg.approve(real.agentId, { name: 'robot-8' })
  assert.is(store.agent(real.agentId)!.name, 'robot-8')
  assert.is(store.agent(squatter.agentId)!.name, squatter.agentId, 'the pending proposal is dropped')
  const err = await reg.approve(squatter.agentId, { name: 'robot-8' }).then(() => null, (e: Error & { code?: string }) => e)
  assert.is(err?.code, 'NAME_TAKEN')
  assert.match(err!.message, new RegExp(`that name is agent ${real.agentId}'s \\(allowed\\); approve it with another name`))
  assert.is(reg.state(squatter.agentId), 'pending', 'a refused approval changes nothing')
  // Approving without --name keeps the proposal only if it is free.
  assert.is(await codeOf(reg.approve(squatter.agentId)), 'no error')
  assert.is(store.agent(squatter.agentId)!.name, squatter.agentId)
}))

R('auto: the first approved holder keeps the name; a later device with it gets its id as name', () => withRegistry('auto', async (reg, store) => {
  const a = Identity.generate(); const b = Identity.generate()
  await reg.onIdentity(a.agentId, a.document(), 'robot-8')
  await reg.onIdentity(b.agentId, b.document(), 'robot-8')
  assert.is(store.agent(a.agentId)!.name, 'robot-8')
  assert.is(store.agent(b.agentId)!.name, b.agentId)
  assert.is(await codeOf(reg.approve(b.agentId, { name: 'robot-8' })), 'NAME_TAKEN')
  // A revoked agent keeps its name: it is still the name in its evidence.
  await reg.revoke(a.agentId)
  assert.is(await codeOf(reg.approve(b.agentId, { name: 'robot-8' })), 'NAME_TAKEN')
}))

R('an operator pre-registers an id not seen yet, with its name; the device binds to it later', () => withRegistry('manual', async (reg, store) => {
  const dev = Identity.generate()
  await reg.approve(dev.agentId, { name: 'arm-1' })
  assert.is(reg.state(dev.agentId), 'allowed')
  await reg.onIdentity(dev.agentId, dev.document(), 'something-else')
  assert.is(store.agent(dev.agentId)!.name, 'arm-1')
  assert.is(store.agent(dev.agentId)!.keys.length, 1)
}))

R('first contacts are rate-limited and expire; an operator\'s approval by id always has room (issue 14 #5)', async () => {
  const tmp = tmpDir()
  const store = await LevelHubStore.open(join(tmp.path, 'store'), { sync: false })
  const clock = { now: 1_800_000_000 }
  try {
    const reg = new Registry(store, { approval: 'manual', maxPending: 5, firstContactsPerMinute: 3, pendingTtlSeconds: 3600, now: () => clock.now })
    const ids = Array.from({ length: 8 }, () => Identity.generate())
    const contact = (i: number): Promise<string> => codeOf(reg.onIdentity(ids[i]!.agentId, ids[i]!.document()))
    // A burst of 3 a minute: the 4th is refused (retry later), and counted by the hub as REGISTRY_BUSY.
    assert.equal([await contact(0), await contact(1), await contact(2), await contact(3)], ['no error', 'no error', 'no error', 'REGISTRY_BUSY'])
    clock.now += 60
    assert.equal([await contact(3), await contact(4), await contact(5)], ['no error', 'no error', 'REGISTRY_FULL'])
    // The pending list is full, but the operator approves a device by id before it appears.
    const planned = Identity.generate()
    await reg.approve(planned.agentId, { name: 'arm-2' })
    assert.is(reg.state(planned.agentId), 'allowed')
    // An hour later the fake first contacts no longer hold places.
    clock.now += 3600
    assert.is(await contact(5), 'no error')
    // Auto approval has a ceiling too.
    const auto = new Registry(store, { approval: 'auto', maxAutoAgents: store.agents().length, now: () => clock.now })
    assert.is(await codeOf(auto.onIdentity(ids[7]!.agentId, ids[7]!.document())), 'REGISTRY_FULL')
  } finally { await store.close(); tmp.cleanup() }
})

R.run()
