// Power cuts under a syncing device. The hub keeps what it acknowledged; a device that then comes back
// with fewer events would fork its own chain at the hub (sync stops with SYNC_HISTORY_DIVERGED). So
// nothing may leave the device before it is on the device's disk, in relaxed mode too. The device runs
// on the power-cut STAND-IN filesystem (test/support/powercut/powercut-fs.c); the hub on a normal disk.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, eventHash, type AissEvent } from '../runtime/index.js'
import { Hub } from '../hub/hub.js'
import { freePort } from './support/hub-helpers.js'
import { tmpDir, ROOT, seededRandom } from './helpers.js'
import { powercutSupport, mountPowercut, spawnInMount } from './support/powercut.js'

const Cut = suite('sync power cut (stand-in filesystem that loses unsynced writes)')
const support = powercutSupport()
if (!support.ok) console.log(`sync-powercut: SKIPPED: ${support.why}`)
const t = support.ok ? Cut : Cut.skip

const CUTS = Number(process.env.PCP_POWERCUT_SYNC_CUTS ?? 3)
const SEED = Number(process.env.PCP_POWERCUT_SEED ?? Date.now() % 1e9)
const NAME = 'rover'

async function hubChain (hub: Hub, agentId: string): Promise<string[]> {
  const out: string[] = []
  for await (const { event } of hub.store.events(agentId)) out.push(eventHash(event as AissEvent))
  return out
}

async function deviceChain (disk: string): Promise<{ agentId: string, hashes: string[] }> {
  const agent = await Agent.open({ name: NAME }, { home: disk, create: false })
  try {
    assert.equal((await agent.verify()).errors, [], 'the device chain verifies')
    const hashes: string[] = []
    for await (const ev of agent.events()) hashes.push(eventHash(ev))
    return { agentId: agent.agentId, hashes }
  } finally { await agent.close() }
}

for (const durability of ['relaxed', 'durable'] as const) {
  t(`${durability}: after ${CUTS} power cuts of a syncing device, the hub never holds an event the device lost`, async () => {
    const bin = (support as { bin: string }).bin
    const rnd = seededRandom(SEED + (durability === 'durable' ? 1 : 0))
    const tmp = tmpDir('pcp-powercut-')
    const disk = join(tmp.path, 'disk'); const mnt = join(tmp.path, 'mnt')
    mkdirSync(disk); mkdirSync(mnt)
    const hub = await Hub.start({ dataDir: join(tmp.path, 'hub'), port: await freePort(), approval: 'auto', workers: 1, control: false })
    try {
      let lastAcked = -1
      for (let k = 0; k <= CUTS; k++) {
        const m = await mountPowercut(bin, disk, mnt, Math.floor(rnd() * 2 ** 31))
        const child = spawnInMount(m, join(ROOT, 'test/support/sync-stamp-child.ts'), [mnt, NAME, durability, hub.mqttUrl])
        let buf = ''; let err = ''; let acked = -1; let problem = ''
        child.stderr!.on('data', (d) => { err = (err + d).slice(-4000) })
        const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
        const target = lastAcked + 1 + Math.floor(rnd() * 300)
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`cut ${k}: acked only #${acked} in 30 s (${problem}): ${err}`)), 30_000)
          child.stdout!.on('data', (d) => {
            buf += d
            const lines = buf.split('\n'); buf = lines.pop()!
            for (const l of lines) {
              const a = /^acked (-?\d+) (\S+) (\S+)$/.exec(l)
              if (!a) continue
              acked = Number(a[1]); if (a[3] !== '-') problem = `${a[2]} ${a[3]}`
              // The last run only has to show that sync goes on after the cuts.
              if (problem || acked >= target) { clearTimeout(timer); resolve() }
            }
          })
          void exited.then(() => { clearTimeout(timer); reject(new Error(`cut ${k}: device exited: ${err}`)) })
        })
        assert.is(problem, '', `${durability} seed ${SEED} run ${k}: sync stopped`)
        if (k === CUTS) { child.kill('SIGKILL'); await exited; m.daemon.kill('SIGKILL'); await m.exited; break }
        const how = (['SIGKILL', 'SIGUSR1', 'SIGUSR2'] as const)[Math.floor(rnd() * 3)]!
        m.daemon.kill(how); await m.exited
        child.kill('SIGKILL'); await exited
        const label = `${durability} seed ${SEED} cut ${k} (${how === 'SIGKILL' ? 'nothing written back' : m.log().trim()})`
        const device = await deviceChain(disk)
        const atHub = await hubChain(hub, device.agentId)
        assert.ok(atHub.length <= device.hashes.length, `${label}: the hub holds ${atHub.length} events, the device's disk only ${device.hashes.length}`)
        assert.equal(atHub, device.hashes.slice(0, atHub.length), `${label}: the hub's chain is the device's, unchanged`)
        lastAcked = atHub.length - 1
      }
    } finally {
      await hub.close()
      tmp.cleanup()
    }
  })
}

Cut.run()
