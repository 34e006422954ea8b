// Power cuts, not just process kills. A SIGKILL leaves the kernel's page cache intact, so it cannot show
// that the store fsyncs where it must; here the stamping child writes through a STAND-IN filesystem
// (test/support/powercut/powercut-fs.c, FUSE) that keeps every unsynced write in memory and drops it,
// or a random part of it, when cut. After each cut a fresh agent opens the "disk" (the backing dir):
//   durable: every acknowledged event is there, the chain verifies, nothing is skipped or reordered;
//   relaxed: what is lost is only a tail of the last run (the README: "loses at most what was stamped
//            since the last fsync"), and the survivors verify as one chain that the next run continues.
//            A SIGPWR cut can leave a hole; the open sets the events after it aside (listed in the
//            quarantine, recorded by a store_hole_repaired event), so the chain is still a prefix.
// Several runs share one disk, so each run also starts from a store recovered after a cut.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, eventHash, REPAIR_EVENT_TYPE } from '../runtime/index.js'
import { tmpDir, ROOT, seededRandom } from './helpers.js'
import { powercutSupport, mountPowercut, spawnInMount } from './support/powercut.js'

const Cut = suite('store power cut (stand-in filesystem that loses unsynced writes)')
const support = powercutSupport()
if (!support.ok) console.log(`store-powercut: SKIPPED: ${support.why}`)
const t = support.ok ? Cut : Cut.skip

const DISKS = Number(process.env.PCP_POWERCUT_DISKS ?? 3)
const RUNS = Number(process.env.PCP_POWERCUT_RUNS ?? 3)
const SEED = Number(process.env.PCP_POWERCUT_SEED ?? Date.now() % 1e9)
const CHILD = join(ROOT, 'test/support/stamp-child.ts')
const NAME = 'powercut'

interface Cutting { acked: Map<number, string>, rotations: number, how: string, log: string }
// Disk 0: 32 KB events, so LevelDB flushes its write buffer (a new log file, a table file, a MANIFEST
// edit, the old log deleted) while stamps go on and the cut can land in that. Disk 2: a key rotation
// every 16 stamps, so cuts land inside key swaps (staged files, renames, the old key shredded).
interface DiskShape { pad: number, rotateEvery: number }
const SHAPES: DiskShape[] = [{ pad: 32_000, rotateEvery: 0 }, { pad: 0, rotateEvery: 0 }, { pad: 0, rotateEvery: 16 }]

/** One run: mount, stamp, cut the power at a random moment, then kill the child. */
async function runAndCut (bin: string, disk: string, mnt: string, durability: string, run: number, shape: DiskShape, rnd: () => number): Promise<Cutting> {
  const seed = Math.floor(rnd() * 2 ** 31)
  const m = await mountPowercut(bin, disk, mnt, seed)
  // Relaxed gets SIGPWR (pages written back out of order, holes) more often: it is what it must repair.
  const hows = durability === 'durable' ? ['SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGPWR'] as const : ['SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGPWR', 'SIGPWR'] as const
  const how = (process.env.PCP_POWERCUT_HOW as NodeJS.Signals | undefined) ?? hows[Math.floor(rnd() * hows.length)]!
  const child = spawnInMount(m, CHILD, [mnt, NAME, durability, String(run), String(shape.pad), String(shape.rotateEvery)])
  const acked = new Map<number, string>()
  let buf = ''; let err = ''; let cut = false; let rotations = 0
  child.stderr!.on('data', (d) => { err += d })
  const cutNow = (): void => {
    if (cut) return
    cut = true
    m.daemon.kill(how)
    // The power is off once the filesystem is gone; only then is the child killed.
    void m.exited.then(() => child.kill('SIGKILL'))
  }
  // Mostly a random moment after the first acknowledgement (under load 'ready' can come long before
  // it); on a disk that has a store, sometimes while the child starts, inside LevelDB's recovery.
  const early = run > 0 && rnd() < 0.25
  const delay = early ? 200 + Math.floor(rnd() * 1200) : Math.floor(rnd() * 500)
  if (early) setTimeout(cutNow, delay)
  const childExit = new Promise<void>((resolve, reject) => child.on('exit', (code, signal) =>
    cut ? resolve() : reject(new Error(`child exited (${signal ?? code}) before the power cut: ${err}`))))
  child.stdout!.on('data', (d) => {
    buf += d
    const lines = buf.split('\n'); buf = lines.pop()!
    for (const l of lines) {
      if (l === 'rotated') rotations++
      const ok = /^ok (\d+) ([0-9a-f]{64})$/.exec(l)
      if (!ok) continue
      if (!early && acked.size === 0) setTimeout(cutNow, delay)
      acked.set(Number(ok[1]), ok[2]!)
    }
  })
  try { await childExit } catch (e) { m.daemon.kill('SIGKILL'); throw e }
  await m.exited
  return { acked, rotations, how: early ? `${how} while starting` : how, log: m.log().trim() }
}

interface SetAside { type: unknown, run: number, n: number, hash: string }
/** The chain as the next boot sees it: run → the n of its events in chain order, with their hashes;
 *  and the events a hole repair at this open set aside. */
async function readDisk (disk: string, label: string): Promise<{ runs: Map<number, Array<{ n: number, hash: string }>>, rotations: number, setAside: SetAside[] | null }> {
  const agent = await Agent.open({ name: NAME }, { home: disk, create: false })
  try {
    const report = await agent.verify()
    assert.equal(report.errors, [], `${label}: the chain verifies`)
    const runs = new Map<number, Array<{ n: number, hash: string }>>()
    let rotations = 0
    let setAside: SetAside[] | null = null
    const repair = agent.store.repaired
    if (repair) {
      setAside = []
      for await (const e of agent.store.setAsideEvents(repair.n)) setAside.push({ type: e.event.payload.event_type, run: e.event.payload.run as number, n: e.event.payload.n as number, hash: e.hash })
      assert.equal(setAside.map((e) => e.hash), repair.setAside.map((e) => e.hash), `${label}: the quarantine holds what the report lists`)
      const rec = await agent.store.get(repair.lostFrom)
      assert.is(rec?.payload.event_type, REPAIR_EVENT_TYPE, `${label}: the repair is recorded at #${repair.lostFrom}`)
      assert.is(rec?.payload.set_aside_count, setAside.length)
      assert.equal(rec?.payload.set_aside_hashes, setAside.slice(0, 256).map((e) => e.hash))
    }
    for await (const ev of agent.events()) {
      if (ev.payload.event_type === 'key_rotation') { rotations++; continue }
      if (ev.payload.event_type === REPAIR_EVENT_TYPE) continue
      const run = ev.payload.run as number
      if (!runs.has(run)) runs.set(run, [])
      runs.get(run)!.push({ n: ev.payload.n as number, hash: eventHash(ev) })
    }
    return { runs, rotations, setAside }
  } finally { await agent.close() }
}

interface Tally { cuts: number, partial: number, holes: number, setAside: number, rotations: number, acked: number, lost: number, worstLoss: number }

async function powerCuts (bin: string, durability: 'durable' | 'relaxed'): Promise<Tally> {
  const tally: Tally = { cuts: 0, partial: 0, holes: 0, setAside: 0, rotations: 0, acked: 0, lost: 0, worstLoss: 0 }
  const rnd = seededRandom(SEED + (durability === 'durable' ? 0 : 7919))
  for (let d = 0; d < DISKS; d++) {
    const shape = SHAPES[d % SHAPES.length]!
    const tmp = tmpDir('pcp-powercut-')
    try {
      const disk = join(tmp.path, 'disk'); const mnt = join(tmp.path, 'mnt')
      mkdirSync(disk); mkdirSync(mnt)
      let ackedRotations = 0
      const survivors = new Map<string, string>() // hash → label, confirmed on disk after an earlier cut
      for (let run = 0; run < RUNS; run++) {
        const c = await runAndCut(bin, disk, mnt, durability, run, shape, rnd)
        const label = `${durability} seed ${SEED} disk ${d} run ${run} (${c.how}: ${c.how.startsWith('SIGKILL') ? 'nothing written back' : c.log})`
        tally.cuts++; if (!c.how.startsWith('SIGKILL')) tally.partial++
        tally.rotations += c.rotations
        tally.acked += c.acked.size
        const { runs, rotations, setAside } = await readDisk(disk, label)
        if (setAside) {
          assert.is(durability, 'relaxed', `${label}: a durable store never needs a hole repaired`)
          tally.holes++; tally.setAside += setAside.length
          // Set aside, not lost from the record: each acknowledged one is there unchanged.
          for (const e of setAside) if (e.run === run && c.acked.has(e.n)) assert.is(e.hash, c.acked.get(e.n), `${label}: set-aside #${e.n} is the acknowledged event`)
          for (const e of setAside) if (e.type !== 'key_rotation') assert.is(e.run, run, `${label}: only events of the last run are set aside`)
        }
        // rotate() resolves only once its event is on disk, in relaxed mode too (it destroys the old key).
        ackedRotations += c.rotations
        assert.ok(rotations >= ackedRotations, `${label}: ${rotations} rotation events stored, ${ackedRotations} acknowledged`)
        for (const [r, evs] of runs) {
          // A prefix of each run, in order: nothing skipped, nothing reordered.
          assert.equal(evs.map((e) => e.n), evs.map((_, i) => i), `${label}: run ${r} is stored as a gapless prefix`)
        }
        const stored = new Map((runs.get(run) ?? []).map((e) => [e.n, e.hash]))
        let lost = 0
        for (const [n, hash] of c.acked) {
          if (stored.has(n)) assert.is(stored.get(n), hash, `${label}: acknowledged #${n} is stored unchanged`)
          else lost++
        }
        if (durability === 'durable') assert.is(lost, 0, `${label}: ${lost} of ${c.acked.size} acknowledged events lost`)
        // Relaxed loses only a tail: every acknowledged event up to the last survivor is there (checked
        // above through the gapless prefix and the hashes).
        tally.lost += lost; tally.worstLoss = Math.max(tally.worstLoss, lost)
        const all = new Set([...runs.values()].flat().map((e) => e.hash))
        for (const [hash, where] of survivors) assert.ok(all.has(hash), `${label}: an event that survived ${where} is still there`)
        for (const e of runs.get(run) ?? []) survivors.set(e.hash, `run ${run}`)
      }
    } finally { tmp.cleanup() }
  }
  return tally
}

// What each cut leaves of the model child's fixed sequence (test/support/powercut-model-child.ts).
const MODEL_CUTS = {
  // Nothing written back: only what an fsync made durable.
  SIGKILL: { kept: 'synced', renamed: undefined },
  // The journal committed (the rename too), no unsynced data written back.
  SIGUSR2: { kept: undefined, renamed: 'synced' }
} as const

for (const [how, want] of Object.entries(MODEL_CUTS)) t(`the stand-in (${how}) loses what was not synced and keeps what was, directory operations in journal order`, async () => {
  const tmp = tmpDir('pcp-powercut-')
  try {
    const disk = join(tmp.path, 'disk'); const mnt = join(tmp.path, 'mnt')
    mkdirSync(disk); mkdirSync(mnt)
    const m = await mountPowercut((support as { bin: string }).bin, disk, mnt, 1)
    const child = spawnInMount(m, join(ROOT, 'test/support/powercut-model-child.ts'), [mnt])
    let out = ''; let err = ''
    child.stderr!.on('data', (d) => { err += d })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve() })
      void exited.then(() => reject(new Error(`model child exited: ${err}`)))
    })
    // Before the cut the writer reads its own unsynced data back.
    assert.is(out.trim(), 'done synced then not|lost')
    m.daemon.kill(how as NodeJS.Signals); await m.exited
    child.kill('SIGKILL'); await exited
    const read = (name: string): string | undefined => existsSync(join(disk, name)) ? readFileSync(join(disk, name), 'utf8') : undefined
    assert.is(read('kept'), want.kept, 'only the synced part of a file survives, under its committed name')
    assert.is(read('renamed'), want.renamed, 'a rename after the last commit is there only if the journal was committed')
    assert.is(read('never-synced'), '', 'a file created before a commit exists, empty: its data was never synced')
    assert.is(read('dir/synced'), 'in a new dir')
    assert.not.ok(readFileSync('/proc/self/mounts', 'utf8').includes(mnt), 'the mount is not visible outside its namespace')
  } finally { tmp.cleanup() }
})

for (const durability of ['durable', 'relaxed'] as const) {
  t(`${durability}: once rotate() resolved, a power cut after the journal commit leaves an agent that opens under the new key`, async () => {
    const tmp = tmpDir('pcp-powercut-')
    try {
      const disk = join(tmp.path, 'disk'); const mnt = join(tmp.path, 'mnt')
      mkdirSync(disk); mkdirSync(mnt)
      const m = await mountPowercut((support as { bin: string }).bin, disk, mnt, 1)
      const child = spawnInMount(m, join(ROOT, 'test/support/rotate-child.ts'), [mnt, NAME, durability])
      let out = ''; let err = ''
      child.stderr!.on('data', (d) => { err += d })
      const exited = new Promise((resolve) => child.on('exit', resolve))
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve() })
        void exited.then(() => reject(new Error(`rotate child exited: ${err}`)))
      })
      const [, previous, next, hash] = out.trim().split(' ')
      // ext4 commits its journal every 5 s: the key files' renames are on disk, unsynced data is not.
      m.daemon.kill('SIGUSR2'); await m.exited
      child.kill('SIGKILL'); await exited
      const agent = await Agent.open({ name: NAME }, { home: disk, create: false })
      try {
        assert.is(agent.agentId, next, `the key on disk is the new one (was ${previous})`)
        assert.equal((await agent.verify()).errors, [])
        const hashes: string[] = []
        for await (const ev of agent.events()) hashes.push(eventHash(ev))
        assert.is(hashes.length, 4, 'three stamps and the rotation event')
        assert.is(hashes.at(-1), hash, 'the acknowledged rotation event is stored')
        await agent.stamp('after', {})
      } finally { await agent.close() }
    } finally { tmp.cleanup() }
  })
}

t(`durable: every acknowledged event survives ${DISKS * RUNS} random power cuts`, async () => {
  const r = await powerCuts((support as { bin: string }).bin, 'durable')
  console.log(`store-powercut durable: ${r.cuts} cuts (${r.partial} after some writeback), ${r.rotations} rotations, ${r.acked} acknowledged, 0 lost (seed ${SEED})`)
  assert.ok(r.acked > 0, 'the children acknowledged events before the cuts')
})

t(`relaxed: ${DISKS * RUNS} random power cuts lose only the last events, and the chain goes on`, async () => {
  const r = await powerCuts((support as { bin: string }).bin, 'relaxed')
  console.log(`store-powercut relaxed: ${r.cuts} cuts (${r.partial} after some writeback), ${r.holes} holes repaired (${r.setAside} events set aside), ${r.rotations} rotations, ${r.acked} acknowledged, ${r.lost} lost from the chain (at most ${r.worstLoss} at one cut; seed ${SEED})`)
  assert.ok(r.acked > 0, 'the children acknowledged events before the cuts')
})

t('relaxed: after close() resolved, a power cut that loses everything unsynced loses no event', async () => {
  const tmp = tmpDir('pcp-powercut-')
  try {
    const disk = join(tmp.path, 'disk'); const mnt = join(tmp.path, 'mnt')
    mkdirSync(disk); mkdirSync(mnt)
    const m = await mountPowercut((support as { bin: string }).bin, disk, mnt, 1)
    const child = spawnInMount(m, join(ROOT, 'test/support/close-child.ts'), [mnt, NAME, '300'])
    let out = ''; let err = ''
    child.stderr!.on('data', (d) => { err += d })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve() })
      void exited.then(() => reject(new Error(`close child exited: ${err}`)))
    })
    const [, seq, hash] = out.trim().split(' ')
    m.daemon.kill('SIGKILL'); await m.exited
    child.kill('SIGKILL'); await exited
    const agent = await Agent.open({ name: NAME }, { home: disk, create: false })
    try {
      assert.is(agent.head?.seq, Number(seq), `all ${Number(seq) + 1} events closed are on disk`)
      assert.is(agent.head?.hash, hash)
      assert.is(agent.store.repaired, null)
      assert.equal((await agent.verify()).errors, [])
    } finally { await agent.close() }
  } finally { tmp.cleanup() }
})

Cut.run()
