// The prebuilt gpiochip addons the package ships (rpi/native/prebuilds/, scripts/build-prebuilds.mjs):
// built from the gpiochip.c in this tree (the manifest's source hash; a rebuild with the recorded
// compilers gives the same bytes), ELF for the platform their directory names, importing nothing but
// Node-API and glibc (so one binary serves every Node >= 18), and the x64 one is what this host loads.
// The arm64 and armhf ones are loaded by Debian's own Node 18 of that architecture under qemu-user
// (scripts/qemu-node.sh) and make real syscalls; skipped with the reason when qemu or that Node is missing.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { arch } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { PREBUILD, gpiochipAddonPath, loadGpiochipAddon } from '../rpi/chardev/addon.js'
import { ROOT, tmpDir } from './helpers.js'

interface Target { file: string, sha256: string, bytes: number, cc: string, glibc: string, source_sha256: string }
const manifest = JSON.parse(readFileSync(join(ROOT, 'rpi/native/prebuilds/manifest.json'), 'utf8')) as { source: string, napi_version: number, targets: Record<string, Target> }
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
// e_machine (ELF header offset 18) and class (offset 4: 1 = 32-bit, 2 = 64-bit) each directory promises.
const ELF: Record<string, { machine: number, cls: number }> = { 'linux-x64': { machine: 62, cls: 2 }, 'linux-arm64': { machine: 183, cls: 2 }, 'linux-arm': { machine: 40, cls: 1 } }
const hasReadelf = !spawnSync('readelf', ['--version']).error
const tmp = tmpDir('pcp-prebuilds-')
const P = suite('rpi gpiochip prebuilds')

P('linux-x64, linux-arm64 and linux-arm are shipped, each built from this gpiochip.c, bytes as recorded', () => {
  assert.equal(Object.keys(manifest.targets).sort(), ['linux-arm', 'linux-arm64', 'linux-x64'])
  const source = sha256(readFileSync(join(ROOT, manifest.source)))
  for (const [name, t] of Object.entries(manifest.targets)) {
    assert.is(t.source_sha256, source, `${name} was built from the current ${manifest.source}: npm run build:prebuilds`)
    const bin = readFileSync(join(ROOT, t.file))
    assert.is(t.file, `rpi/native/prebuilds/${name}/pcp_gpiochip.node`)
    assert.is(sha256(bin), t.sha256, `${t.file} is the binary the manifest recorded`)
    assert.is(bin.length, t.bytes)
    assert.equal([...bin.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'ELF')
    assert.equal({ machine: bin.readUInt16LE(18), cls: bin[4] }, ELF[name], `${name}: ELF machine and class`)
  }
  assert.is(manifest.napi_version, 8)
})

;(hasReadelf ? P : P.skip)('each imports only napi_* and glibc symbols (no libuv, no V8/C++; weak ones from crt files aside), needs glibc <= 2.34; arm is ARMv6', () => {
  for (const [name, t] of Object.entries(manifest.targets)) {
    const syms = execFileSync('readelf', ['--dyn-syms', '--wide', join(ROOT, t.file)], { encoding: 'utf8' }).split('\n')
      .filter((l) => / UND /.test(l) && / GLOBAL /.test(l)).map((l) => l.trim().split(/\s+/)[7]).filter((s): s is string => !!s)
    const foreign = syms.filter((s) => !/^napi_\w+$/.test(s) && !/@GLIBC_2\.\d+/.test(s))
    assert.equal(foreign, [], `${name} imports only Node-API and glibc: ${foreign.join(', ')}`)
    assert.ok(syms.some((s) => s === 'napi_create_threadsafe_function'), `${name}: symbols were read (${syms.length})`)
    const newest = Math.max(...syms.map((s) => Number(/@GLIBC_2\.(\d+)/.exec(s)?.[1] ?? 0)))
    assert.ok(newest <= 34 && t.glibc === `2.${newest}`, `${name} needs glibc 2.${newest} (manifest: ${t.glibc})`)
  }
  const attrs = execFileSync('readelf', ['-A', join(ROOT, manifest.targets['linux-arm']!.file)], { encoding: 'utf8' })
  assert.match(attrs, /Tag_CPU_arch: v6\b/, 'the armhf build runs on a Pi 1 / Zero W (ARM1176) too')
})

const compilers = Object.entries(manifest.targets).map(([name, t]) => {
  const cc = t.cc.split(' ')[0]!
  const r = spawnSync(cc, ['--version'], { encoding: 'utf8' })
  return { name, ok: !r.error && r.stdout.split('\n')[0] === t.cc, cc }
})
const sameCompilers = hasReadelf && compilers.every((c) => c.ok)
if (!sameCompilers) console.log(`rpi-prebuilds: rebuild check SKIPPED: the recorded compilers are not all here (${compilers.filter((c) => !c.ok).map((c) => c.cc).join(', ')})`)
;(sameCompilers ? P : P.skip)('npm run build:prebuilds with the recorded compilers reproduces the shipped bytes', async () => {
  const { buildPrebuilds } = await import('../scripts/build-prebuilds.mjs' as string) as { buildPrebuilds: (only: undefined, out: string) => void }
  const out = join(tmp.path, 'rebuild')
  buildPrebuilds(undefined, out)
  for (const t of Object.values(manifest.targets)) assert.is(sha256(readFileSync(join(out, t.file))), t.sha256, `${t.file} rebuilt`)
})

P(`this host (${arch()}) loads its prebuild, no local build; a fresh process's first poll wakes (5 processes)`, () => {
  if (process.env.PCP_GPIOCHIP_ADDON) return console.log('rpi-prebuilds: PCP_GPIOCHIP_ADDON is set, the prebuild choice is not checked')
  loadGpiochipAddon()
  assert.is(gpiochipAddonPath(), join(ROOT, PREBUILD))
  const fifo = join(tmp.path, 'fifo')
  execFileSync('mkfifo', [fifo])
  // The epoll thread starts on a process's first poll; it once raced its own epoll fd and never woke.
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/gpiochip-probe.mjs'), join(ROOT, 'rpi/chardev/addon.ts'), fifo], { cwd: ROOT, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' })
    assert.is(r.status, 0, `probe ${i}: ${r.signal ?? ''} ${r.stderr}`)
    const o = JSON.parse(r.stdout)
    assert.equal([o.ioctl.code, o.blk.code, o.size.name, o.callsBeforeWrite, o.calls, o.pollErr], ['ENOTTY', 'ENOTTY', 'RangeError', 0, 1, null])
  }
})

P('a candidate that exists but does not load falls through to the next: the prebuild', () => {
  const junk = join(tmp.path, 'junk.node')
  writeFileSync(junk, 'not an ELF file')
  const script = "import { loadGpiochipAddon, gpiochipAddonPath } from './rpi/chardev/addon.ts'; loadGpiochipAddon(); console.log(gpiochipAddonPath())"
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, PCP_GPIOCHIP_ADDON: junk }, encoding: 'utf8', timeout: 20_000 })
  assert.is(r.status, 0, r.stderr)
  assert.is(r.stdout.trim(), join(ROOT, PREBUILD))
})

for (const [debArch, nodeArch, target] of [['arm64', 'arm64', 'linux-arm64'], ['armhf', 'arm', 'linux-arm']] as const) {
  const info = spawnSync(join(ROOT, 'scripts/qemu-node.sh'), ['info', debArch], { encoding: 'utf8' }).stdout.trim().split('\n')
  const why = info[1] === 'complete' ? '' : `no ${debArch} Node under qemu-user (${info[0]}): apt-get install qemu-user-static, then scripts/qemu-node.sh fetch ${debArch} (see its header)`
  if (why) console.log(`rpi-prebuilds: ${debArch} check SKIPPED: ${why}`)
  ;(why ? P.skip : P)(`${target}: Debian's ${debArch} Node 18 under qemu-user loads the prebuild through the real loader; ioctl errno and poll work`, async () => {
    // The loader as the package ships it (one ESM file, no tsx: tsx's esbuild has no binary for that arch),
    // placed so its ../../rpi/native is this tree's.
    const dir = join(tmp.path, debArch)
    mkdirSync(join(dir, 'rpi/chardev'), { recursive: true })
    symlinkSync(join(ROOT, 'rpi/native'), join(dir, 'rpi/native'))
    await build({ entryPoints: [join(ROOT, 'rpi/chardev/addon.ts')], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'rpi/chardev/addon.mjs'), logLevel: 'silent' })
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const r = spawnSync(join(ROOT, 'scripts/qemu-node.sh'), ['run', debArch, join(ROOT, 'test/fixtures/gpiochip-probe.mjs'), join(dir, 'rpi/chardev/addon.mjs'), fifo], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' })
    assert.is(r.status, 0, `${r.signal ?? ''} ${r.stderr}`)
    const o = JSON.parse(r.stdout)
    assert.is(o.arch, nodeArch)
    assert.match(o.node, /^v18\./)
    assert.is(o.loadedFrom, join(dir, `rpi/native/prebuilds/${target}/pcp_gpiochip.node`))
    // qemu-user answers GPIO ioctls ENOSYS itself ("Unsupported ioctl"); BLKGETSIZE64 reaches the kernel.
    assert.equal([o.ioctl.code, o.ioctl.errno, o.ioctl.syscall], ['ENOSYS', -38, 'ioctl'])
    assert.equal([o.blk.code, o.blk.errno], ['ENOTTY', -25], 'a translated ioctl reached the kernel and its errno came back named')
    assert.is(o.size.name, 'RangeError')
    assert.equal([o.callsBeforeWrite, o.calls, o.pollErr], [0, 1, null], 'poll woke once on the FIFO write, never after unpoll')
    console.log(`rpi-prebuilds: ${target} under qemu-user: node ${o.node} (${o.arch}), N-API ${o.napi}, ENOTTY/ENOSYS/poll as expected`)
  })
}

P('cleanup', () => { tmp.cleanup() })

P.run()
