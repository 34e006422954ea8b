// Power cuts at the hub. The device counts an event as synced once the hub acknowledged it, so the hub
// must have it on disk first. The hub runs on the power-cut STAND-IN filesystem (see
// test/store-powercut.test.ts and test/support/powercut/powercut-fs.c): unsynced writes are dropped at
// each cut. A device (on a normal disk) keeps stamping and syncing through the cuts. After each cut the
// hub's store, read from what reached its disk, holds every event the device saw acknowledged,
// unchanged and in order; the restarted hub then gets the rest from the device.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, eventHash, verifyChain } from '../runtime/index.js'
import { SyncAgent } from '../sync/agent.js'
import { freePort, readHubChain } from './support/hub-helpers.js'
import { tmpDir, ROOT, seededRandom } from './helpers.js'
import { powercutSupport, mountPowercut, spawnInMount, type PowercutMount } from './support/powercut.js'

const Cut = suite('hub power cut (stand-in filesystem that loses unsynced writes)')
const support = powercutSupport()
if (!support.ok) console.log(`hub-powercut: SKIPPED: ${support.why}`)
const t = support.ok ? Cut : Cut.skip

const CUTS = Number(process.env.PCP_POWERCUT_HUB_CUTS ?? 4)
const SEED = Number(process.env.PCP_POWERCUT_SEED ?? Date.now() % 1e9)
// PCP_POWERCUT_HUB_DURABLE=0 runs the hub with durable: false, to see this test fail.
const HUB_DURABLE = process.env.PCP_POWERCUT_HUB_DURABLE !== '0'

/** Starts test/support/hub-child.ts inside the mount; resolves once it prints READY. */
async function startHub (m: PowercutMount, opts: object): Promise<{ kill: (s: NodeJS.Signals) => Promise<void> }> {
  const proc = spawnInMount(m, join(ROOT, 'test/support/hub-child.ts'), [JSON.stringify(opts)])
  let out = ''; let err = ''
  proc.stderr!.on('data', (d) => { err = (err + d).slice(-4000) })
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub not ready: ${err}`)), 30_000)
    proc.stdout!.on('data', (d) => { out += d; if (out.includes('READY ')) { clearTimeout(timer); resolve() } })
    void exited.then(() => { clearTimeout(timer); reject(new Error(`hub exited before READY: ${err}`)) })
  })
  return { kill: async (s) => { proc.kill(s); await exited } }
}

t(`every event the hub acknowledged survives ${CUTS} power cuts of the hub, and the device resends the rest`, async () => {
  const bin = (support as { bin: string }).bin
  const rnd = seededRandom(SEED)
  const tmp = tmpDir('pcp-powercut-')
  const disk = join(tmp.path, 'disk'); const mnt = join(tmp.path, 'mnt')
  mkdirSync(disk); mkdirSync(mnt)
  const port = await freePort()
  const hubOpts = { dataDir: join(mnt, 'hub'), port, approval: 'auto', ...(HUB_DURABLE ? {} : { durable: false }) }
  const agent = await Agent.open({ name: 'arm' }, { home: join(tmp.path, 'dev') })
  let sync: SyncAgent | undefined
  const ackedSeq = (): number => sync!.status().agents[0]!.ackedSeq
  let n = 0; let lastAcked = -1
  try {
    for (let k = 0; k < CUTS; k++) {
      const m = await mountPowercut(bin, disk, mnt, Math.floor(rnd() * 2 ** 31))
      const hub = await startHub(m, hubOpts)
      sync ??= await SyncAgent.start({ url: `mqtt://127.0.0.1:${port}`, agents: [agent], batchSize: 50, ackTimeoutMs: 800, minReconnectMs: 100, maxReconnectMs: 300, statusFile: false })
      // Stamp until the hub has acknowledged something new, then a random while longer.
      const until0 = Date.now() + 200 + Math.floor(rnd() * 800); const deadline = Date.now() + 30_000
      while (ackedSeq() <= lastAcked || Date.now() < until0) {
        if (Date.now() > deadline) throw new Error(`cut ${k}: the hub acknowledged nothing past #${lastAcked} in 30 s`)
        await Promise.all(Array.from({ length: 20 }, () => agent.stamp('tick', { n: n++ })))
        await new Promise((r) => setTimeout(r, 5))
      }
      const how = (['SIGKILL', 'SIGUSR1', 'SIGUSR2'] as const)[Math.floor(rnd() * 3)]!
      m.daemon.kill(how); await m.exited
      await hub.kill('SIGKILL')
      // Whatever the device saw acknowledged up to now was acknowledged before the power went.
      lastAcked = ackedSeq()
      const label = `seed ${SEED} cut ${k} (${how === 'SIGKILL' ? 'nothing written back' : m.log().trim()}), acknowledged up to #${lastAcked}`
      const stored = await readHubChain(join(disk, 'hub'), agent.agentId)
      assert.ok(stored.events.length >= lastAcked + 1, `${label}: the hub's disk holds ${stored.events.length} events`)
      const local = (await agent.history()).map(eventHash)
      assert.equal(stored.hashes, local.slice(0, stored.hashes.length), `${label}: stored unchanged, in chain order`)
      assert.ok(verifyChain(stored.events, agent.identityDocument()).valid, `${label}: the stored chain verifies`)
    }
    // Power back on: the device brings the hub up to date, nothing doubled.
    const m = await mountPowercut(bin, disk, mnt, 1)
    const hub = await startHub(m, hubOpts)
    await sync!.flush(30_000)
    await sync!.close(); sync = undefined
    await hub.kill('SIGTERM')
    m.daemon.kill('SIGKILL'); await m.exited
    const stored = await readHubChain(join(disk, 'hub'), agent.agentId)
    assert.equal(stored.hashes, (await agent.history()).map(eventHash), 'after the last restart the hub holds the whole chain once')
    console.log(`hub-powercut: ${CUTS} cuts, ${n} events stamped, acknowledged up to #${lastAcked} at the last cut, none lost (seed ${SEED})`)
  } finally {
    await sync?.close()
    await agent.close()
    tmp.cleanup()
  }
})

Cut.run()
